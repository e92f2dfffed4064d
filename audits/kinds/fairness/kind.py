"""The fairness audit kind: what the runs table, the policies and the glossary need to know."""

from __future__ import annotations

from audits.kinds.fairness import figures, thresholds, words
from audits.runs.params import FIXED, TRUE, Bins, Bool, Int, Seed
from audits.runs.registry import AuditKind
from governance.catalog.controls import Framework

KIND = AuditKind(
    name="fairness",
    label=words.LABEL,
    queue="cpu",
    runner="audits.kinds.fairness.runner.run",
    description=(
        "Accuracy, selection rate, TPR and FPR per group and intersection, with exact intervals, "
        "compared with the policy's disparity thresholds under one error budget per audit."
    ),
    defaults={"min_slice_count": 20, "intervals": True, "seed": 0, "bins": {}, "mitigation": True},
    params={
        "min_slice_count": Int(1, 100_000, thorough=FIXED, doc="A slice with fewer rows is insufficient data."),
        "intervals": Bool(thorough=TRUE, doc="Decide on exact intervals, not on point estimates."),
        "seed": Seed(),
        "bins": Bins(doc="Edges for continuous sensitive features."),
        "mitigation": Bool(doc="Also try a mitigated model (informational)."),
    },
    controls={Framework.AI_RMF: ["MEASURE 2.11", "MEASURE 2.2"], Framework.ISO42001: ["A.5.4", "A.7.4"]},
    figures=figures.fairness_figures,
    headline=figures.headline,
    results_template="kinds/fairness/results.html",
    report_template="kinds/fairness/report.html",
    reviewers=("risk_officer", "compliance_officer"),
    watched=True,
)

# Defaults for the policies (governance/policies/defaults.py): the tiers that require it and its thresholds.
REQUIRED = thresholds.REQUIRED
PARAMS = thresholds.PARAMS
