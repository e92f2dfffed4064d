"""The documented default policies, one per risk tier and environment.

| tier   | required audits (each kind sets its own, see below) | approvals                              |
|--------|-----------------------------------------------------|----------------------------------------|
| low    | fairness (max age 365 d)                            | risk officer                           |
| medium | fairness (180 d)                                    | risk officer                           |
| high   | fairness (90 d), signed report                      | risk officer, then executive approver  |

High risk also denies a version while a serious incident about it is open
(`deny_open_serious_incidents`, governance/incidents/); the other tiers may switch it on.

Staging uses the same audits with one approval stage fewer. Each audit kind brings its
defaults (audits/kinds/<kind>/thresholds.py): the thresholds it is judged against per tier, and
whether a tier requires it before a release. `audit_requirements` is also the list of audits
the gate requires, so a kind that is not required by default (the security audits) still has
written thresholds to be judged against: `audit_thresholds` falls back to them. A compliance
officer who adds a kind to `audit_requirements` in the admin makes it required.

These are starting points: edit them in the admin. A required audit that cannot apply to one
system is waived for it, not edited out of the tier's policy: a compliance officer marks the
control that defines the kind not applicable, with a reason (governance/gate/). An
inconclusive result can be accepted in writing (governance/approvals/risk.py).

The parameters that decide a verdict (bootstrap size, confidence level, minimum counts, attack
budgets) belong to the policy too: `audit_requirements[kind]["params"]`, e.g.
`{"explainability": {"params": {"n_bootstrap": 2000, "confidence_level": 0.99}}}`, over each
kind's defaults per tier (PARAMS, from its thresholds.py). A request may ask for more
thoroughness, never less (docs/audit-parameters.md).
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy

TIERS = ("low", "medium", "high")
ENVIRONMENTS = ("production", "staging")

APPROVALS = {
    "low": {"require_signed_report": False, "approval_stages": [["risk_officer"]], "deny_open_serious_incidents": False},
    "medium": {"require_signed_report": False, "approval_stages": [["risk_officer"]],
               "deny_open_serious_incidents": False},
    "high": {"require_signed_report": True, "approval_stages": [["risk_officer"], ["executive_approver"]],
             "deny_open_serious_incidents": True},
}

# kind -> tier -> {"thresholds": {...}, "max_age_days": n}: audits a tier requires by default.
REQUIRED: dict[str, dict[str, dict]] = {}
# kind -> tier -> {metric: {"max"|"min": value, ...}}: thresholds of kinds a tier does not require.
THRESHOLDS: dict[str, dict[str, dict]] = {}
# kind -> tier -> {param: value}: the verdict-deciding parameters a tier sets when its policy does not
# (bootstrap size, confidence level, minimum counts, attack budgets; audits/runs/params.py).
PARAMS: dict[str, dict[str, dict]] = {}
# kind -> (the key of audit_requirements[kind] that carries its params, params -> problem or None):
# how the admin checks a policy's params against the kind's bounds, which live above this app.
PARAMS_CHECKS: dict[str, tuple[str, Callable[[dict], str | None]]] = {}


def register_kind(kind: str, *, required: dict | None = None, thresholds: dict | None = None,
                  params: dict | None = None, params_key: str = "params",
                  params_check: Callable[[dict], str | None] | None = None) -> None:
    """An audit kind's defaults (called once per kind when Django starts)."""
    if required:
        REQUIRED[kind] = required
    if thresholds:
        THRESHOLDS[kind] = thresholds
    if params:
        PARAMS[kind] = params
    if params_check:
        PARAMS_CHECKS[kind] = (params_key, params_check)


def default_policy(tier: str) -> dict:
    """The default policy's fields for a tier (production; staging drops the last approval stage)."""
    return {"audit_requirements": {kind: deepcopy(by_tier[tier]) for kind, by_tier in REQUIRED.items()
                                   if tier in by_tier}, **deepcopy(APPROVALS[tier])}


def default_thresholds(tier: str, kind: str) -> dict:
    return deepcopy(THRESHOLDS.get(kind, {}).get(tier, {}))


def default_params(tier: str, kind: str) -> dict:
    return deepcopy(PARAMS.get(kind, {}).get(tier, {}))
