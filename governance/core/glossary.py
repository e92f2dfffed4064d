"""Plain-language explanations of every metric, threshold, audit and status the platform shows.

One place, so the pages, the guided wizard and the PDF report say the same thing in the same
words. No Django import: the report renderer and tests can use it on their own.

General words live here; each audit kind brings its own (audits/kinds/<kind>/words.py), which
the kinds app registers with `register_kind` when Django starts, so one lookup serves every
page, the wizard and the report.

Each metric answers three questions for a reader who is not a data scientist:
  measures  - what the number is;
  matters   - why anyone should care;
  if_fails  - what to do when it misses the policy's threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Term:
    label: str
    measures: str
    matters: str
    if_fails: str

    def as_dict(self) -> dict:
        return asdict(self)


T = Term

METRICS: dict[str, Term] = {
    # --- fairness: per-group rates ---------------------------------------------------------
    "accuracy": T(
        "Accuracy",
        "The share of cases where the model's decision matches the real outcome.",
        "A model that is right less often for one group treats that group worse, even if it looks fine on average.",
        "Check whether the group is under-represented in the training data; collect more examples or retrain.",
    ),
    "selection_rate": T(
        "Selection rate",
        "The share of people in a group who receive the positive decision (for example, a loan approved).",
        "Large gaps in selection rates between groups are the first sign of unequal treatment.",
        "Compare with the true outcomes (see true positive rate) before concluding; then consider the mitigations "
        "shown in the fairness audit.",
    ),
    "tpr": T(
        "True positive rate",
        "Of the people who really deserve the positive decision, the share the model gives it to.",
        "If it is lower for one group, qualified people in that group are turned down more often.",
        "Look at equalized odds; threshold adjustment per group or retraining with a fairness constraint can help.",
    ),
    "fpr": T(
        "False positive rate",
        "Of the people who should not get the positive decision, the share who get it anyway.",
        "Different error rates between groups mean the model's mistakes fall unevenly on people.",
        "Review the groups with the highest rate and the features driving their scores.",
    ),
    "precision": T(
        "Precision",
        "Of the positive decisions the model makes, the share that are correct.",
        "Low precision for a group means its positive decisions are less trustworthy.",
        "Check calibration and the group's data quality; recalibrate or retrain.",
    ),
    "ece": T(
        "Calibration error (ECE)",
        "How far the model's stated confidence is from how often it is actually right (0 is perfect).",
        "People downstream act on scores; a score that means different things for different groups misleads them.",
        "Recalibrate the model's scores (for example, per group) and re-run the audit.",
    ),
}


AUDITS: dict[str, Term] = {
    "performance": T(
        "Performance and validity",
        "How well the model does its job on held-out data.",
        "A model must be shown to work before anything else matters.",
        "Retrain or reconsider the model's intended use.",
    ),
}


OUTCOMES: dict[str, str] = {
    "pass": "Pass: the result meets the policy's threshold, even allowing for uncertainty.",
    "fail": "Fail: the result misses the policy's threshold, even allowing for uncertainty.",
    "inconclusive": "Inconclusive: the confidence interval straddles the threshold, so the data cannot decide; "
                    "evaluate on more data.",
    "info": "Information: recorded for the file; no decision was needed.",
}


STATUSES: dict[str, str] = {
    "satisfied": "Satisfied: the latest evidence passed.",
    "failed": "Failed: the latest evidence failed; this is an open finding.",
    "in_progress": "In progress: evidence exists but nothing is decided yet.",
    "not_started": "Not started: no evidence yet.",
    "not_applicable": "Not applicable: marked so by a compliance officer, with a reason.",
}


# The same metric name can mean different things in different audits: (kind, metric) -> Term.
KIND_METRICS: dict[tuple[str, str], Term] = {}


# Metric names as they appear in checks and results, mapped to their entry.
ALIASES = {"true_positive_rate": "tpr", "false_positive_rate": "fpr"}


# (kind, outcome) -> what that outcome means for that kind, where the general words above are
# not true of it (a drift review's "pass" is "no breach", not "meets a threshold").
KIND_OUTCOMES: dict[tuple[str, str], str] = {}


# Audit kind -> the name the registry gives it ("Privacy (membership inference, model inversion)").
KIND_LABELS: dict[str, str] = {}


UNKNOWN = T(
    "",
    "A measurement recorded by the audit.",
    "The policy uses it to decide whether the system may ship.",
    "Read the audit's details and discuss the result with the risk officer.",
)


DUPLICATE = "{where}: {key!r} is explained twice, differently; one audit kind must own it."


def register_kind(kind: str, *, label: str, audit: Term, metrics: dict | None = None, aliases: dict | None = None,
                  kind_metrics: dict | None = None, outcomes: dict | None = None) -> None:
    """Add one audit kind's words (called once per kind when Django starts)."""
    for table, key, value, where in (
        [(AUDITS, kind, audit, "AUDITS")]
        + [(METRICS, k, v, "METRICS") for k, v in (metrics or {}).items()]
        + [(ALIASES, k, v, "ALIASES") for k, v in (aliases or {}).items()]
        + [(KIND_METRICS, (kind, k), v, "KIND_METRICS") for k, v in (kind_metrics or {}).items()]
        + [(KIND_OUTCOMES, (kind, k), v, "KIND_OUTCOMES") for k, v in (outcomes or {}).items()]
    ):
        if table.get(key, value) != value:
            raise ValueError(DUPLICATE.format(where=where, key=key))
        table[key] = value
    KIND_LABELS[kind] = label


def term(key: str, kind: str | None = None) -> Term:
    """The explanation of a metric, by its name in results or checks (and the audit kind, where
    a name means something else there); never raises."""
    key = str(key or "")
    if (kind, key) in KIND_METRICS:
        return KIND_METRICS[(kind, key)]
    if key in METRICS:
        return METRICS[key]
    if key in ALIASES:
        return METRICS[ALIASES[key]]
    base, _, kind = key.rpartition("_")
    if kind in ("difference", "ratio") and base in METRICS:
        # e.g. accuracy_difference: a per-group metric turned into a disparity.
        inner = METRICS[base]
        gap = "gap between the highest and lowest group" if kind == "difference" else "lowest group's value as a share of the highest"
        return T(
            f"{inner.label} {kind}",
            f"The {gap} in {inner.label.lower()}. {inner.measures}",
            inner.matters,
            inner.if_fails,
        )
    return Term(key.replace("_", " ").capitalize() or "Metric", UNKNOWN.measures, UNKNOWN.matters, UNKNOWN.if_fails)


def audit(kind: str) -> Term:
    return AUDITS.get(kind) or Term(str(kind).replace("_", " ").capitalize(), UNKNOWN.measures, UNKNOWN.matters,
                                    UNKNOWN.if_fails)


def kind_label(kind: str) -> str:
    """'fairness' -> 'Fairness slices' (the registry's name, else the glossary's)."""
    return KIND_LABELS.get(str(kind)) or audit(kind).label


def threshold_text(operator: str, threshold) -> str:
    """'<=' 0.1 -> 'The policy allows at most 0.1.'; accepts '<=', '>=', 'max', 'min'."""
    if threshold is None:
        return "The policy sets no threshold for this measurement."
    value = f"{threshold:g}" if isinstance(threshold, (int, float)) else str(threshold)
    if operator in ("<=", "<", "max"):
        return f"The policy allows at most {value}."
    if operator in (">=", ">", "min"):
        return f"The policy requires at least {value}."
    return f"The policy's threshold is {operator} {value}."


def outcome_text(outcome: str, kind: str | None = None) -> str:
    """What an outcome means; the audit kind's own words where it registered some."""
    if (kind, outcome) in KIND_OUTCOMES:
        return KIND_OUTCOMES[(kind, outcome)]
    return OUTCOMES.get(outcome, str(outcome or "").capitalize())


def status_text(status: str) -> str:
    return STATUSES.get(status, str(status or "").replace("_", " ").capitalize())


def _field(run, name):
    return run.get(name) if isinstance(run, dict) else getattr(run, name, None)


def run_state(run) -> str:
    """An audit run's state for a chip: its outcome once it ran; "error" when it could not run
    (the audit said nothing about the model, which is not the same as failing); else queued or
    running. `run` is an AuditRun or a dict with its status and outcome."""
    status = _field(run, "status")
    if status == "succeeded":
        return _field(run, "outcome") or "info"
    return "error" if status == "failed" else str(status)


def run_label(run) -> str:
    """The words for `run_state`: "pass", "fail", "inconclusive", "could not run", "running"..."""
    state = run_state(run)
    return "could not run" if state == "error" else state
