"""What a runner returns, and the errors that decide retry or fail."""

from __future__ import annotations

from dataclasses import dataclass, field


class AuditInputError(Exception):
    """A problem with the user's model, data or parameters: fail the run, never retry."""


class TransientAuditError(Exception):
    """A passing problem (database, broker, network): retry with backoff."""


@dataclass
class RunOutcome:
    outcome: str  # "pass" | "fail" | "inconclusive"
    summary: str
    results: dict
    checks: list = field(default_factory=list)
    seeds: dict = field(default_factory=dict)
    device: str = "cpu"
    # The version the checks judge, when it is not the audited one: DP retraining's checks
    # judge the version it registers, so its "fail" is that version's evidence and revokes
    # that version's approvals, not the parent's. None: the run's own version.
    judged_version: object = None
    # The outcome the run's own evidence carries when some checks speak to other controls (set,
    # with `further`, by kinds that declare `further_controls`); None: the run's outcome.
    evidence_outcome: str | None = None
    # [{"kind", "outcome", "summary"}]: evidence on the kind's further controls.
    further: list = field(default_factory=list)


def overall_outcome(checks: list[dict]) -> str:
    outcomes = {c["outcome"] for c in checks}
    if "fail" in outcomes:
        return "fail"
    if "inconclusive" in outcomes:
        return "inconclusive"
    return "pass"
