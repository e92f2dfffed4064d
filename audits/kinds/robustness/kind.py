"""The robustness audit kind: what the runs table, the policies and the glossary need to know."""

from __future__ import annotations

from audits.kinds.robustness import figures, thresholds, words
from audits.runs.params import FIXED, MORE, SUPERSET, Choice, Float, Int, List, Seed
from audits.runs.registry import AuditKind
from governance.catalog.controls import Framework

KIND = AuditKind(
    name="robustness",
    label=words.LABEL,
    queue="gpu",
    runner="audits.kinds.robustness.runner.run",
    description=(
        "Clean and robust accuracy under FGSM and PGD over an epsilon grid (HopSkipJump for scikit-learn "
        "models), numeric features only and within their training range, with robust accuracy per group."
    ),
    defaults={"epsilons": [0.0, 0.05, 0.1, 0.2, 0.3], "attacks": ["fgsm", "pgd"], "pgd_steps": 10, "max_samples": 200,
              "batch_size": 256, "min_group_count": 20, "seed": 0, "blackbox_epsilons": [0.25, 0.5, 1.0, 2.0],
              # 200 black-box rows, as many as white-box: below the policy's 100 (thresholds.py) the
              # check is insufficient data; HopSkipJump takes ~3 s for them on the demo's credit model.
              "blackbox_max_samples": 200, "blackbox_max_iter": 10, "blackbox_max_eval": 500},
    params={
        "epsilons": List(Float(0.0, 10.0), min_items=1, max_items=20, thorough=SUPERSET,
                         doc="Attack budgets; the policy's epsilons are always added."),
        "attacks": List(Choice("fgsm", "pgd"), min_items=1, max_items=2, thorough=SUPERSET),
        "pgd_steps": Int(1, 1000, thorough=MORE),
        "max_samples": Int(1, 100_000, thorough=MORE, doc="Rows attacked."),
        "batch_size": Int(1, 65536),
        "min_group_count": Int(1, 100_000, thorough=FIXED, doc="Smaller groups are left out of the group gap."),
        "seed": Seed(),
        "blackbox_epsilons": List(Float(0.0, 100.0), min_items=1, max_items=20, thorough=SUPERSET),
        "blackbox_max_samples": Int(1, 10_000, thorough=MORE),
        "blackbox_max_iter": Int(1, 1000, thorough=MORE),
        "blackbox_max_eval": Int(1, 100_000, thorough=MORE),
    },
    controls={Framework.AI_RMF: ["MEASURE 2.7", "MEASURE 2.6"], Framework.ISO42001: ["A.6.2.4"]},
    figures=figures.robustness_figures,
    results_template="kinds/robustness/results.html",
    quantized_why="FGSM and PGD need the model's gradients, which its int8 layers do not have",
    reviewers=("security_reviewer", "compliance_officer"),
)

# Defaults for the policies (governance/policies/defaults.py): its thresholds per tier.
THRESHOLDS = thresholds.THRESHOLDS
PARAMS = thresholds.PARAMS
