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


# Each audit kind registers its own entry (audits/kinds/<kind>/words.py).
AUDITS: dict[str, Term] = {}


# The product's own words, which pages show beside numbers and buttons: (label, what it means).
CONCEPTS: dict[str, tuple[str, str]] = {
    "gate": ("Deploy gate", "The answer a deploy pipeline asks for before it ships a model version to an "
             "environment: allow or deny, with the reasons, signed so the pipeline can check it came from here. "
             "It allows a version only when the policy's required audits passed (or their risk was accepted), "
             "the signed report exists when the policy asks for one, and the approvals are given and current."),
    "policy": ("Policy", "The rules for one risk tier and environment: which audits are required and how "
               "recent they must be, their thresholds, whether a signed report is needed, and who approves."),
    "coverage": ("Control coverage", "The share of a framework's controls (NIST AI RMF subcategories or "
                 "ISO/IEC 42001 Annex A controls) that have evidence on this system, satisfied or marked not "
                 "applicable. 7% means 7 in every 100 controls have something to show; the rest have no "
                 "evidence yet, which is not the same as failing."),
    "evidence": ("Evidence", "A record that speaks to a control: an audit's result, a document, a waiver. It "
                 "names the version it describes (or says it is system-wide) and is never edited: a correction "
                 "is a new row, and the audit trail holds a hash of each one."),
    "document": ("Document (evidence)", "A policy, procedure or record (PDF, DOCX, Markdown, text), or a written "
                 "attestation, attached to controls as evidence until its review-by date. It is kept with its "
                 "SHA-256, only ever downloaded, and never edited: a new version supersedes the old one."),
    "stale": ("Stale", "A control that was satisfied but whose evidence expired: an audit older than the policy "
              "allows, or a document past its review-by date. It counts as not satisfied until new evidence "
              "arrives; its owner is told once."),
    "waiver": ("Waiver", "A compliance officer's decision that a control does not apply to this system, with "
               "the reason. It is recorded as evidence and in the audit trail; withdrawing it is recorded too. "
               "When the control is the one an audit speaks to first, the policy no longer requires that audit "
               "for this system."),
    "risk_acceptance": ("Risk acceptance", "An approver's written decision to go ahead although an audit was "
                        "inconclusive: who, why, for which environment, and until when (never longer than the "
                        "policy allows). A failed audit cannot be accepted, only fixed."),
    "acknowledged_gap": ("Acknowledged gap", "Something a version misses of its policy (a failed, missing or "
                         "expired audit, no signed report) that the person requesting or approving it has read "
                         "and explained in writing. Acknowledging a gap does not close it: the gate still denies "
                         "until it is fixed or its risk accepted."),
    "inconclusive": ("Inconclusive", "The data cannot decide: the interval around the measurement straddles the "
                     "policy's threshold. Evaluate on more data, or an approver may accept the risk for a while."),
    "insufficient_data": ("Insufficient data", "Too few rows (or people in a group) to measure at all; the "
                          "check neither passes nor fails and says how many it needs."),
    "could_not_run": ("Could not run", "The audit stopped before it measured anything (missing data, a model "
                      "it cannot take, a worker error). It is not a failed audit: fix the cause and run it again."),
    "epsilon": ("ε (epsilon)", "In a robustness audit: how far an attacker may move an input. In differential "
                "privacy: the privacy budget, where smaller means stronger protection of each training row. "
                "Each check names the ε it was judged at."),
    "rollback": ("Rollback target", "The newest other version still allowed in an environment now, with its own "
                 "evidence current; when the breach came from production data, the answer says whether that "
                 "version was reviewed on the same batch."),
    "development_signer": ("Development signer", "Reports signed with the built-in development certificate "
                           "carry a mark on every page: the signature proves the file is unchanged, not who "
                           "issued it. Set REPORT_SIGNING_P12 to sign with your organisation's certificate."),
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
    "stale": "Stale: it was satisfied, but a piece of its evidence expired (an audit older than the policy "
             "allows, a document past its review-by date).",
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


# (kind, stored outcome) -> (label, explanation), where the general words would mislead: a data
# quality run stores "inconclusive" (no check failed, a person must look; the gate and the
# controls treat it as undecided) but reads "warning", with its own explanation, not the
# confidence-interval sentence.
KIND_OUTCOMES: dict[tuple[str, str], tuple[str, str]] = {}


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
        + [(KIND_OUTCOMES, (kind, k), tuple(v), "KIND_OUTCOMES") for k, v in (outcomes or {}).items()]
    ):
        if table.get(key, value) != value:
            raise ValueError(DUPLICATE.format(where=where, key=key))
        table[key] = value
    KIND_LABELS[kind] = label


def register_label(kind: str, label: str) -> None:
    """The label of an evidence kind that is not an audit kind of its own (an audit's further evidence)."""
    if KIND_LABELS.get(kind, label) != label:
        raise ValueError(DUPLICATE.format(where="KIND_LABELS", key=kind))
    KIND_LABELS[kind] = label


def clauses(parts: list[str], *, limit: int = 3) -> str:
    """Sentences as the clauses of one: "a; b; c (and 2 more)", without each one's own full stop,
    so that a reason reads "...rate 0.31; calibration..." rather than "...rate 0.31.; calibration"."""
    shown = "; ".join(p.strip().rstrip(".").rstrip() for p in parts[:limit])
    return shown + (f" (and {len(parts) - limit} more)" if len(parts) > limit else "")


def concept(key: str) -> tuple[str, str]:
    """The product's own word `key`: (label, what it means)."""
    return CONCEPTS[key]


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


SETTING_WORDS = {"epsilon": "ε", "fpr": "false positive rate"}


def setting_text(judged_at: dict | None) -> str:
    """The setting a policy check was judged at, for the words beside its outcome:
    {"epsilon": 0.1, "norm": "L-inf", "attack": "pgd"} -> "at ε = 0.1 (policy; L-inf, PGD)";
    {"fpr": 0.01} -> "at false positive rate = 0.01 (policy)"; nothing -> ""."""
    if not judged_at:
        return ""
    main = [(k, v) for k, v in judged_at.items() if k in SETTING_WORDS]
    rest = [str(v).upper() if k == "attack" else str(v) for k, v in judged_at.items() if k not in SETTING_WORDS]
    values = ", ".join(f"{SETTING_WORDS[k]} = {v:g}" if isinstance(v, (int, float)) else f"{SETTING_WORDS[k]} = {v}"
                       for k, v in main)
    return f"at {values} (policy" + (f"; {', '.join(rest)}" if rest else "") + ")"


def check_outcome_label(check: dict) -> str:
    """A check's chip word: its outcome, or "insufficient data" when too few rows decided it."""
    return "insufficient data" if check.get("status") == "insufficient_data" else str(check.get("outcome") or "")


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
    """What an outcome means, in the kind's own words where it has them."""
    if (kind, outcome) in KIND_OUTCOMES:
        return KIND_OUTCOMES[(kind, outcome)][1]
    return OUTCOMES.get(outcome, str(outcome or "").capitalize())


def outcome_label(outcome: str, kind: str | None = None) -> str:
    """The word for an outcome on a chip: "inconclusive", or "warning" for a data quality run."""
    if (kind, outcome) in KIND_OUTCOMES:
        return KIND_OUTCOMES[(kind, outcome)][0]
    return str(outcome or "")


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
    """The words for `run_state`: "pass", "fail", "inconclusive", "warning" (data quality), "could
    not run", "running"..."""
    state = run_state(run)
    if state == "error":
        return "could not run"
    return outcome_label(state, _field(run, "kind")) if _field(run, "status") == "succeeded" else state
