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

Security audits (issues 4 and 5), `DEFAULT_THRESHOLDS`. They are not in `audit_requirements`
by default, because that dict is also the list of audits the gate requires before a release;
a compliance officer who adds one there (with or without thresholds) makes it required.
Until then, and for every policy row created before these kinds existed, `audit_thresholds`
falls back to these defaults, so a security audit is always decided against a written rule.
Values are decided on the point estimate (attacks have no sampling interval we could trust).

| kind: metric (where it is read)                           | low    | medium | high   |
|-----------------------------------------------------------|--------|--------|--------|
| robustness: robust accuracy (PGD, ε = 0.1)                | ≥ 0.4  | ≥ 0.5  | ≥ 0.6  |
| robustness: gap in accuracy lost between groups (ε = 0.1) | ≤ 0.15 | ≤ 0.10 | ≤ 0.10 |
| poisoning: backdoor attack success (5% of rows poisoned)  | —      | —      | ≤ 0.5  |
| poisoning: share of registered training rows flagged      | ≤ 0.01 | ≤ 0.01 | ≤ 0.01 |
| poisoning: detector recall / precision, planted 10%       | ≥ 0.9 / ≥ 0.8 (every tier)  |
| privacy: membership-inference AUC (stronger attack)       | ≤ 0.6 (every tier)          |
| privacy: TPR at 1% FPR (stronger attack)                  | ≤ 0.05 (every tier)         |
| DP retraining: evaluation accuracy lost                   | ≤ 0.10 | ≤ 0.05 | ≤ 0.05 |
| DP retraining: membership AUC after                       | ≤ 0.6 (every tier)          |
| DP retraining: growth of the accuracy gap between groups  | ≤ 0.05 (every tier)         |

Why these numbers:
- ε = 0.1 is a tenth of the pixel range, or a tenth of a training standard deviation of a
  numeric feature: a nudge nobody would notice. At robust accuracy ≥ 0.5 such an attacker
  cannot flip most decisions; higher tiers ask for more.
- The group gap uses the fairness gaps' 0.10 tolerance, on accuracy *lost* under attack, so
  it measures fragility; a group that is less accurate anyway is the fairness audit's finding.
- Nearly every neural network learns a backdoor from 5% poisoned rows (the demo CNN: 0.59),
  so backdoor success is a finding only where the policy makes the data pipeline an integrity
  boundary (high risk): 1 row in 20 must not control most decisions. Lower tiers record it.
- The detector flags nothing on the clean demo data; over 1% flagged needs a person to look.
  Recall ≥ 0.9 / precision ≥ 0.8 is issue 4's acceptance bar; below it the run is
  inconclusive, not failed: the scan cannot vouch for the data, but found nothing wrong.
- AUC 0.5 is guessing; above 0.6 members are told apart clearly better than chance. TPR at
  1% FPR is 0.01 by chance; 5x that means some people are confidently identified (Carlini et
  al. 2022).
- DP retraining judges the new version: it must keep its job (accuracy), show the privacy
  gain (AUC), and not widen a group gap by more than 5 points (DP-SGD costs small groups the
  most, Bagdasaryan et al. 2019). A miss makes the run inconclusive (see the runner).

Both tables are starting points: edit them in the admin (`audit_requirements[kind]["thresholds"]`).
A required audit that cannot apply to one system is waived for it, not edited out of the tier's
policy: a compliance officer marks the control that defines the kind not applicable, with a
reason (governance/gate.py). An inconclusive result can be accepted in writing (governance/risk.py).
"""

from __future__ import annotations

from copy import deepcopy

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


# Per-metric thresholds; "epsilon" (robustness) and "rate" (poisoning) say where the metric is read.
_DETECTOR = {"detector_recall": {"min": 0.9}, "detector_precision": {"min": 0.8}}
_PRIVACY = {"membership_auc": {"max": 0.6}, "tpr_at_1pct_fpr": {"max": 0.05}}


def _security(robust_min: float, drop_gap_max: float, asr_max: float | None, dp_drop_max: float) -> dict:
    return {
        "robustness": {"robust_accuracy": {"min": robust_min, "epsilon": 0.1},
                       "accuracy_drop_difference": {"max": drop_gap_max, "epsilon": 0.1}},
        "poisoning": {**({"attack_success_rate": {"max": asr_max, "rate": 0.05}} if asr_max is not None else {}),
                      "flagged_share": {"max": 0.01}, **_DETECTOR},
        "privacy": dict(_PRIVACY),
        "dp_retraining": {"accuracy_drop": {"max": dp_drop_max}, "membership_auc": {"max": 0.6},
                          "accuracy_gap_increase": {"max": 0.05}},
    }


DEFAULT_THRESHOLDS = {
    "low": _security(0.4, 0.15, None, 0.10),
    "medium": _security(0.5, 0.10, None, 0.05),
    "high": _security(0.6, 0.10, 0.5, 0.05),
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
    """The policy's thresholds for a kind; for a kind it sets none, DEFAULT_THRESHOLDS (if any).

    A policy that states `"thresholds": {}` for a kind means "record, do not decide"."""
    requirement = (policy.audit_requirements or {}).get(kind) or {}
    if "thresholds" in requirement:
        return requirement["thresholds"]
    return deepcopy(DEFAULT_THRESHOLDS.get(policy.risk_tier, {}).get(kind, {}))
