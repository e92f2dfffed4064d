"""The data quality audit kind: what the runs table, the policies and the glossary need to know."""

from __future__ import annotations

from audits.kinds.data_quality import figures, words
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
    controls={Framework.AI_RMF: ["MAP 2.3", "MEASURE 2.1"], Framework.ISO42001: ["A.7.4", "A.7.5", "A.7.6"]},
    figures=figures.data_quality_figures,
    results_template="kinds/data_quality/results.html",
    reviewers=("risk_officer", "compliance_officer"),
)
