"""The privacy audit kind: what the runs table, the policies and the glossary need to know."""

from __future__ import annotations

from audits.kinds.privacy import figures, thresholds, words
from audits.runs.params import MORE, Bool, Choice, Float, Int, Seed
from audits.runs.registry import AuditKind
from governance.catalog.controls import Framework

KIND = AuditKind(
    name="privacy",
    label=words.LABEL,
    queue="gpu",
    runner="audits.kinds.privacy.runner.run",
    description=(
        "ART's black-box and rule-based membership inference on training rows against held-out rows (AUC, "
        "TPR at 1% and 0.1% FPR, ROC), and MIFace reconstructions of each class for image models."
    ),
    defaults={"max_rows": 5000, "attack_train_fraction": 0.5, "attack_model_type": "rf", "inversion": True,
              "inversion_max_iter": 100, "seed": 0},
    params={
        "max_rows": Int(10, 100_000, thorough=MORE, doc="Members and as many non-members attacked."),
        "attack_train_fraction": Float(0.0, 1.0, low_open=True, high_open=True),
        "attack_model_type": Choice("rf", "gb", "lr", "nn"),
        "inversion": Bool(),
        "inversion_max_iter": Int(1, 10_000, thorough=MORE),
        "seed": Seed(),
    },
    controls={Framework.AI_RMF: ["MEASURE 2.10", "MANAGE 1.3"], Framework.ISO42001: ["A.5.4", "A.7.2"]},
    figures=figures.privacy_figures,
    results_template="kinds/privacy/results.html",
    page_context=lambda results: {"inversion_images": figures.inversion_page(results)},
    formats=("safetensors",),
    formats_why="ART wraps the torch module for its attacks, and model inversion needs its gradients",
    reviewers=("security_reviewer", "compliance_officer"),
)

# Defaults for the policies (governance/policies/defaults.py): its thresholds per tier.
THRESHOLDS = thresholds.THRESHOLDS
