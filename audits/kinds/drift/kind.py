"""The drift audit kind: what the runs table, the policies and the glossary need to know."""

from __future__ import annotations

from audits.kinds.drift import figures, words
from audits.runs.registry import AuditKind
from governance.catalog.controls import Framework

KIND = AuditKind(
    name="drift",
    label=words.LABEL,
    queue="cpu",
    runner="audits.kinds.drift.runner.run",
    description=(
        "A production batch against the reference data: PSI, KS and Wasserstein per numeric feature, "
        "chi-square, PSI and Jensen-Shannon per categorical one, prediction, performance and fairness drift, accuracy estimated from the model's scores on unlabelled batches, "
        "under one error budget for the whole review; a breach recommends retraining. Null settings come "
        "from the policy's drift rule."
    ),
    defaults={"batch": None, "psi_bins": None, "alpha": None, "correction": None, "psi_bands": None,
              "min_batch_rows": None, "min_group_count": None, "seed": None,
              "performance_drop_max": None, "fairness_max_increase": None,
              "estimate_calibrator": None, "estimate_bootstrap": None},
    controls={Framework.AI_RMF: ["MEASURE 2.4", "MANAGE 2.2", "MANAGE 4.1"], Framework.ISO42001: ["A.6.2.6"]},
    figures=figures.drift_overlay_figures,
    in_wizard=False,
    results_template="kinds/drift/results.html",
    report_template="kinds/drift/report.html",
    headline=figures.headline,
    reviewers=("risk_officer", "compliance_officer"),
    watched=True,
    history_points=figures.history_points,
    history_limits=figures.HISTORY_LIMITS,
    page_context=lambda results: {"drift_words": words.PAGE},
)
