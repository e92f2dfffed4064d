"""Policies: create the documented defaults, find the policy for a tier and environment, read its thresholds."""

from __future__ import annotations

from governance.policies.defaults import (
    ENVIRONMENTS,
    TIERS,
    default_params,
    default_policy,
    default_thresholds,
)
from governance.policies.models import Policy


def policies_ensure_defaults() -> int:
    created = 0
    for tier in TIERS:
        body = default_policy(tier)
        for env in ENVIRONMENTS:
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
        body = default_policy(risk_tier)
        policy = Policy(name=f"Default {risk_tier} ({environment})", risk_tier=risk_tier, environment=environment, **body)
    return policy


def audit_thresholds(policy: Policy, kind: str) -> dict:
    """The policy's thresholds for a kind; for a kind it sets none, the kind's default thresholds (if any).

    A policy that states `"thresholds": {}` for a kind means "record, do not decide"."""
    requirement = (policy.audit_requirements or {}).get(kind) or {}
    if "thresholds" in requirement:
        return requirement["thresholds"]
    return default_thresholds(policy.risk_tier, kind)


def audit_params(policy: Policy, kind: str, *, key: str = "params") -> dict:
    """The verdict-deciding parameters the policy sets for a kind: the kind's defaults for the tier,
    with what the policy's `audit_requirements[kind][key]` states over them (a policy may change a
    default, and it may set more; removing one leaves the default's)."""
    requirement = (policy.audit_requirements or {}).get(kind) or {}
    stated = requirement.get(key) or {}
    return {**default_params(policy.risk_tier, kind), **(stated if isinstance(stated, dict) else {})}
