"""The data quality audit kind: what the runs table, the policies and the glossary need to know."""

from __future__ import annotations

from audits.kinds.data_quality import figures, words
from audits.runs.params import LESS, MORE, Bins, Float, Int, Seed, Shares
from audits.runs.registry import AuditKind
from governance.catalog.controls import Framework

KIND = AuditKind(
    name="data_quality",
    label=words.LABEL,
    queue="cpu",
    runner="audits.kinds.data_quality.runner.run",
    description=(
        "Missing values, constant columns, duplicates, class imbalance, group representation, "
        "train/test and single-feature leakage, and label-error candidates by confident learning."
    ),
    defaults={"population_shares": None, "bins": {}, "near_duplicate_tol": 1e-6, "leakage_auc": 0.98, "n_folds": 5,
              "seed": 0, "max_examples": 5},
    params={
        "population_shares": Shares(doc="The population each sensitive column should represent."),
        "bins": Bins(),
        "near_duplicate_tol": Float(0.0, 1.0),
        "leakage_auc": Float(0.5, 1.0, thorough=LESS, doc="A single feature this predictive is leakage."),
        "n_folds": Int(2, 20, thorough=MORE, doc="Cross-validation folds of confident learning."),
        "seed": Seed(),
        "max_examples": Int(0, 100),
    },
    controls={Framework.AI_RMF: ["MAP 2.3", "MEASURE 2.1"], Framework.ISO42001: ["A.7.4", "A.7.5", "A.7.6"]},
    figures=figures.data_quality_figures,
    results_template="kinds/data_quality/results.html",
    reviewers=("risk_officer", "compliance_officer"),
)

# The parameter that decides the leakage finding, per tier (governance/policies/defaults.py).
PARAMS = {tier: {"leakage_auc": 0.98} for tier in ("low", "medium", "high")}
