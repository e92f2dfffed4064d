"""Policies per risk tier and environment, with documented defaults.

Defaults (production; staging uses the same thresholds with one approval stage fewer):

| tier   | required audits                  | fairness thresholds                         | approvals                                  |
|--------|----------------------------------|---------------------------------------------|--------------------------------------------|
| low    | fairness (max age 365 d)         | DP diff <= 0.20, DP ratio >= 0.70, EO diff <= 0.30 | risk officer                           |
| medium | fairness (180 d)                 | DP diff <= 0.10, DP ratio >= 0.80, EO diff <= 0.20 | risk officer                           |
| high   | fairness (90 d), signed report   | DP diff <= 0.10, DP ratio >= 0.80, EO diff <= 0.20 | risk officer, then executive approver  |

The 0.80 ratio mirrors the four-fifths rule of thumb (29 CFR 1607.4(D)); 0.10 is a common
demographic-parity tolerance in practice. They are starting points: edit them in the admin.
Thresholds are decided on the bootstrap interval, not the point estimate (see
audits/probes/fairness.py, `fairness_evaluate`).
"""

from __future__ import annotations

from governance.models import Policy

STRICT = {
    "demographic_parity_difference": {"max": 0.10},
    "demographic_parity_ratio": {"min": 0.80},
    "equalized_odds_difference": {"max": 0.20},
}
LENIENT = {
    "demographic_parity_difference": {"max": 0.20},
    "demographic_parity_ratio": {"min": 0.70},
    "equalized_odds_difference": {"max": 0.30},
}

DEFAULT_POLICIES = {
    "low": {"audit_requirements": {"fairness": {"thresholds": LENIENT, "max_age_days": 365}},
            "require_signed_report": False, "approval_stages": [["risk_officer"]]},
    "medium": {"audit_requirements": {"fairness": {"thresholds": STRICT, "max_age_days": 180}},
               "require_signed_report": False, "approval_stages": [["risk_officer"]]},
    "high": {"audit_requirements": {"fairness": {"thresholds": STRICT, "max_age_days": 90}},
             "require_signed_report": True, "approval_stages": [["risk_officer"], ["executive_approver"]]},
}


def policies_ensure_defaults() -> int:
    created = 0
    for tier, body in DEFAULT_POLICIES.items():
        for env in ("production", "staging"):
            stages = body["approval_stages"] if env == "production" else body["approval_stages"][:1]
            _, was_created = Policy.objects.get_or_create(
                risk_tier=tier, environment=env,
                defaults={"name": f"{tier.title()} risk - {env}", **body, "approval_stages": stages},
            )
            created += int(was_created)
    return created


def policy_for(*, risk_tier: str, environment: str = "production") -> Policy:
    policy = Policy.objects.filter(risk_tier=risk_tier, environment=environment).first()
    if policy is None:  # an unsaved default, so an empty database still has a rule to apply
        body = DEFAULT_POLICIES[risk_tier]
        policy = Policy(name=f"Default {risk_tier} ({environment})", risk_tier=risk_tier, environment=environment, **body)
    return policy


def audit_thresholds(policy: Policy, kind: str) -> dict:
    return (policy.audit_requirements.get(kind) or {}).get("thresholds", {})
