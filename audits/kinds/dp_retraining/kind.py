"""The dp retraining audit kind: what the runs table, the policies and the glossary need to know."""

from __future__ import annotations

from audits.kinds.dp_retraining import figures, thresholds, words
from audits.runs.params import Choice, Float, Int, Seed, Text
from audits.runs.registry import AuditKind
from governance.catalog.controls import Framework

KIND = AuditKind(
    name="dp_retraining",
    label=words.LABEL,
    queue="gpu",
    runner="audits.kinds.dp_retraining.runner.run",
    description=(
        "Retrains the version with DP-SGD (Opacus) to a target epsilon and registers the result as a child "
        "version with its privacy record; compares utility, membership inference and per-group accuracy "
        "before and after, and tracks the system's privacy budget."
    ),
    defaults={"target_epsilon": 3.0, "delta": None, "max_grad_norm": 1.0, "epochs": None, "batch_size": None,
              "accountant": "prv", "grad_sample_mode": None, "new_version": None, "recommendation": None, "seed": 0},
    params={
        "target_epsilon": Float(0.0, 100.0, low_open=True, doc="The privacy budget the retraining spends."),
        "delta": Float(0.0, 1.0, low_open=True, high_open=True, nullable=True, doc="Null: 1 / (10 N)."),
        "max_grad_norm": Float(0.0, 100.0, low_open=True),
        "epochs": Int(1, 1000, nullable=True, doc="Null: the version's recipe."),
        "batch_size": Int(1, 65536, nullable=True, doc="Null: the version's recipe."),
        "accountant": Choice("prv", "rdp"),
        "grad_sample_mode": Choice("hooks", "functorch", "ew", "ghost", "bk", nullable=True),
        "new_version": Text(),
        "recommendation": Text(),
        "seed": Seed(),
    },
    controls={Framework.AI_RMF: ["MEASURE 2.10", "MANAGE 1.3"], Framework.ISO42001: ["A.5.4", "A.7.2"]},
    figures=figures.dp_figures,
    in_wizard=False,
    formats=("safetensors",),
    formats_why="it retrains the model with Opacus",
    quantized_why="DP-SGD trains float weights; an int8 copy is made from a trained model",
    results_template="kinds/dp_retraining/results.html",
    urls="audits.kinds.dp_retraining.urls",
)

# Defaults for the policies (governance/policies/defaults.py): its thresholds per tier.
THRESHOLDS = thresholds.THRESHOLDS
