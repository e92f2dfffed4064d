"""The explainability audit kind: what the runs table, the policies and the glossary need to know."""

from __future__ import annotations

from audits.kinds.explainability import figures, thresholds, words
from audits.kinds.explainability.forms import CaseForm
from audits.runs.params import FIXED, MORE, Float, Int, List, Object, Seed
from audits.runs.registry import AuditKind
from governance.catalog.controls import Framework

PROXY_EVIDENCE = "proxy_scan"


def case_form(results: dict):
    """The run page's "explain a case" form, for a run that recorded what a case needs."""
    fields = (results or {}).get("case_fields")
    return CaseForm(fields=fields) if fields else None


KIND = AuditKind(
    name="explainability",
    label=words.LABEL,
    queue="cpu",
    runner="audits.kinds.explainability.runner.run",
    description=(
        "Global importance with intervals (permutation importance; Captum Integrated Gradients for torch "
        "models), each method tested by a deletion test and the model-randomization check, importance per "
        "sensitive group, proxy features for sensitive attributes, and sample decisions explained in words."
    ),
    defaults={"n_repeats": 30, "ig_steps": 32, "deletion_k": 5, "n_random": 99, "n_randomized_models": 3,
              "n_bootstrap": 200, "confidence_level": 0.95, "min_group_count": 20, "n_local_rows": 5,
              "max_rows": 2000, "seed": 0, "cases": None},
    params={
        "n_repeats": Int(2, 200, thorough=MORE, doc="Permutation-importance repeats."),
        "ig_steps": Int(4, 512, thorough=MORE, doc="Integrated-Gradients steps."),
        "deletion_k": Int(1, 50),
        "n_random": Int(19, 999, thorough=MORE, doc="Random deletion orders the deletion test compares with."),
        "n_randomized_models": Int(1, 10, thorough=MORE),
        "n_bootstrap": Int(0, 5000, thorough=MORE, doc="Bootstrap resamples of the intervals."),
        "confidence_level": Float(0.5, 0.999, thorough=MORE, doc="Higher is more thorough."),
        "min_group_count": Int(1, 100_000, thorough=FIXED, doc="A smaller group is not explained per group."),
        "n_local_rows": Int(0, 50),
        "max_rows": Int(50, 200_000, thorough=MORE),
        "seed": Seed(),
        "cases": List(Object(max_items=500), max_items=20, nullable=True,
                      doc="Rows to explain, each checked against the evaluation data when the run starts."),
    },
    # MEASURE 2.9: explained and validated; 2.8: transparency; A.6.2.7 and A.8.2: its crosswalk
    # (technical documentation, information for users). These carry the explanation methods' checks.
    controls={Framework.AI_RMF: ["MEASURE 2.9", "MEASURE 2.8"], Framework.ISO42001: ["A.6.2.7", "A.8.2"]},
    # The proxy checks are a fairness matter: their own evidence on MEASURE 2.11 and its crosswalk
    # partner A.5.4 (impact on individuals and groups), so that a proxy finding fails fairness and
    # an untrustworthy explanation method does not.
    further_controls={PROXY_EVIDENCE: (words.PROXY_LABEL, {Framework.AI_RMF: ["MEASURE 2.11"],
                                                           Framework.ISO42001: ["A.5.4"]})},
    figures=figures.explainability_figures,
    headline=figures.headline,
    results_template="kinds/explainability/results.html",
    report_template="kinds/explainability/report.html",
    quantized_why="Integrated Gradients and the randomization check need float layers with gradients",
    reviewers=("risk_officer", "compliance_officer"),
    urls="audits.kinds.explainability.urls",
    page_context=lambda results: {"case_form": case_form(results)},
)

# Defaults for the policies (governance/policies/defaults.py): its thresholds per tier.
THRESHOLDS = thresholds.THRESHOLDS
PARAMS = thresholds.PARAMS
