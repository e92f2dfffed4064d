"""The drift audit kind: what the runs table, the policies and the glossary need to know."""

from __future__ import annotations

from audits.kinds.drift import figures, rule, words
from audits.runs.params import LESS, MORE, Choice, Float, Int, List, Text
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
    # Null: the policy's drift rule (audit_requirements["drift"]["rule"]), else the runner's defaults.
    params={
        "batch": Text(doc="A production batch of the system; null: the latest."),
        "psi_bins": Int(2, 100, nullable=True),
        "alpha": Float(0.0, 0.5, low_open=True, thorough=LESS, nullable=True, doc="The review's error budget."),
        "correction": Choice("bonferroni", nullable=True),
        "psi_bands": List(Float(0.0, 10.0), min_items=2, max_items=2, nullable=True),
        "min_batch_rows": Int(1, 10_000_000, thorough=MORE, nullable=True),
        "min_group_count": Int(1, 1_000_000, thorough=MORE, nullable=True),
        "seed": Int(0, 2**32 - 1, nullable=True),
        "performance_drop_max": Float(0.0, 1.0, thorough=LESS, nullable=True),
        "fairness_max_increase": Float(0.0, 1.0, thorough=LESS, nullable=True),
        "estimate_calibrator": Choice("platt", "isotonic", nullable=True),
        "estimate_bootstrap": Int(0, 10_000, thorough=MORE, nullable=True),
    },
    policy_params_key="rule",
    params_floor={"alpha": rule.DEFAULT_ALPHA, "min_batch_rows": rule.MIN_BATCH_ROWS,
                  "min_group_count": rule.MIN_GROUP_COUNT, "estimate_bootstrap": rule.ESTIMATE_BOOTSTRAP},
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
