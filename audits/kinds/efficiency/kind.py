"""The efficiency audit kind: what the runs table, the policies and the glossary need to know."""

from __future__ import annotations

from audits.kinds.efficiency import figures, thresholds, words
from audits.runs.params import Bool, Float, Int, List
from audits.runs.registry import AuditKind
from governance.catalog.controls import Framework

KIND = AuditKind(
    name="efficiency",
    label=words.LABEL,
    queue="gpu",
    runner="audits.kinds.efficiency.runner.run",
    description=(
        "Size and start-up, latency (p50/p95/p99) and throughput by batch size on evaluation rows, peak memory, "
        "energy where the worker can read it, cost per million predictions from a price table, and an outlook: "
        "dynamic int8 quantization and a distilled student, each with its speed-up, size, accuracy and fairness "
        "deltas."
    ),
    # A few seconds per batch size at most on 2 CPU cores: max_seconds stops the repetitions
    # early once min_repeats are in; a GPU worker may ask for more (e.g. "repeats": 200).
    defaults={"batch_sizes": [1, 8, 32, 128, 512], "warmup": 5, "warmup_seconds": 0.2, "min_repeats": 20,
              "repeats": 100, "max_seconds": 1.0, "outlook": True, "outlook_batch_size": 128,
              # The distilled student trains for the teacher's own epochs unless a number is given.
              "distillation": True, "distillation_epochs": None,
              # True: register the distilled student, or the int8 copy, as a child version (services.py),
              # as DP retraining does.
              "register_student": False, "register_int8": False},
    # The bounds of probe.check_params, checked again here so that a bad request is a 400 (the
    # probe imports torch, which the web process does not load).
    params={
        "batch_sizes": List(Int(1, 65536), min_items=1, max_items=16),
        "warmup": Int(0, 10_000),
        "warmup_seconds": Float(0.0, 10.0),
        "min_repeats": Int(2, 10_000),
        "repeats": Int(2, 10_000, doc="At least min_repeats."),
        "max_seconds": Float(0.0, 60.0, low_open=True),
        "outlook": Bool(),
        "outlook_batch_size": Int(1, 65536),
        "distillation": Bool(),
        "distillation_epochs": Int(1, 1000, nullable=True, doc="Null: the teacher's own."),
        "register_student": Bool(),
        "register_int8": Bool(),
    },
    params_check=lambda p: None if p["repeats"] >= p["min_repeats"] else (
        "repeats", f"params.repeats must be at least params.min_repeats ({p['min_repeats']}); you gave {p['repeats']}."),
    # MEASURE 2.12: environmental impact; MAP 3.2 and MANAGE 2.1: costs and resources; A.4.5: system
    # and computing resources (the crosswalk carries MEASURE 2.12 to A.4.5 as well).
    controls={Framework.AI_RMF: ["MEASURE 2.12", "MAP 3.2", "MANAGE 2.1"], Framework.ISO42001: ["A.4.5"]},
    figures=figures.efficiency_figures,
    results_template="kinds/efficiency/results.html",
    report_template="kinds/efficiency/report.html",
    headline=figures.export_headline,
    reviewers=("compliance_officer",),
)

# Defaults for the policies (governance/policies/defaults.py): no budgets per tier.
THRESHOLDS = thresholds.THRESHOLDS
