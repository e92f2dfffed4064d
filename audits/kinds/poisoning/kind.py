"""The poisoning audit kind: what the runs table, the policies and the glossary need to know."""

from __future__ import annotations

from audits.kinds.poisoning import figures, thresholds, words
from audits.runs.params import SUPERSET, TRUE, Bool, Choice, Float, Int, Label, List, Seed
from audits.runs.registry import AuditKind
from governance.catalog.controls import Framework

KIND = AuditKind(
    name="poisoning",
    label=words.LABEL,
    queue="gpu",
    runner="audits.kinds.poisoning.runner.run",
    description=(
        "Backdoor success per poisoning rate after retraining with the version's recipe (and label flips for "
        "tabular data), suspicious rows in the registered training data, and the detector checked on a "
        "planted backdoor."
    ),
    defaults={"rates": [0.01, 0.05, 0.1], "target_class": None, "method": "raw-strip", "validate": True,
              "validation_rate": 0.1, "max_listed": 50, "seed": 0},
    params={
        "rates": List(Float(0.0, 0.5, low_open=True), min_items=1, max_items=10, thorough=SUPERSET,
                      doc="Poisoning rates retrained at (the policy's rates are always added)."),
        "target_class": Label(doc="Null: the first class."),
        "method": Choice("raw-strip", "activation-distance", "spectral"),
        "validate": Bool(thorough=TRUE, doc="Check the detector on a planted backdoor."),
        "validation_rate": Float(0.0, 1.0, low_open=True, high_open=True),
        "max_listed": Int(1, 10_000),
        "seed": Seed(),
    },
    controls={Framework.AI_RMF: ["MEASURE 2.7"], Framework.ISO42001: ["A.7.5", "A.7.4"]},
    figures=figures.poisoning_figures,
    results_template="kinds/poisoning/results.html",
    formats=("safetensors",),
    formats_why="it retrains the model with the version's recipe",
    quantized_why="the detector reads the float layers' activations and retrains float copies",
    reviewers=("security_reviewer", "compliance_officer"),
)

# Defaults for the policies (governance/policies/defaults.py): its thresholds per tier.
THRESHOLDS = thresholds.THRESHOLDS
PARAMS = thresholds.PARAMS
