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

| kind / metric                              | low   | medium | high  | why this number |
|--------------------------------------------|-------|--------|-------|-----------------|
| robustness: robust accuracy, PGD at ε=0.1  | ≥ 0.4 | ≥ 0.5  | ≥ 0.6 | ε=0.1 is a tenth of the pixel range or of a training standard deviation: a nudge a person would not notice. At ≥ 0.5 an attacker with that budget cannot flip most decisions. |
| robustness: gap in accuracy drop between groups at ε=0.1 | ≤ 0.15 | ≤ 0.10 | ≤ 0.10 | The same tolerance as the fairness gaps: no group may lose 10 points more accuracy under attack than another. The gap in *drop* isolates fragility; the gap in accuracy itself is the fairness audit's. |
| poisoning: backdoor success at 5% poisoned | —     | —      | ≤ 0.5 | Nearly every neural network learns a backdoor from 5% of its rows, so this is a finding only where the policy asks the data pipeline to be an integrity boundary (high risk): 1 row in 20 must not control most decisions. Lower tiers record it. |
| poisoning: share of registered rows flagged | ≤ 0.01 | ≤ 0.01 | ≤ 0.01 | The detector flags nothing on the clean demo data; more than 1% flagged needs a person to look. |
| poisoning: detector recall / precision on a planted 10% backdoor | ≥ 0.9 / ≥ 0.8 | same | same | The acceptance bar of issue 4; below it the run is inconclusive: the scan cannot vouch for the data. |
| privacy: membership-inference AUC          | ≤ 0.6 | ≤ 0.6  | ≤ 0.6 | 0.5 is guessing; above 0.6 an attacker tells members apart clearly better than chance. |
| privacy: TPR at 1% FPR                     | ≤ 0.05 | ≤ 0.05 | ≤ 0.05 | Chance is 0.01 (TPR = FPR); 5x chance means some people are confidently identified (Carlini et al. 2022). |
| DP retraining: test accuracy lost          | ≤ 0.10 | ≤ 0.05 | ≤ 0.05 | The privacy must not cost the model its job. |
| DP retraining: membership AUC after        | ≤ 0.6 | ≤ 0.6  | ≤ 0.6 | As the privacy audit: the gain is measured, not assumed. |
| DP retraining: growth of the accuracy gap between groups | ≤ 0.05 | ≤ 0.05 | ≤ 0.05 | DP-SGD costs small groups the most (Bagdasaryan et al. 2019); the retrained model may not widen a gap by more than 5 points. |

Both tables are starting points: edit them in the admin (`audit_requirements[kind]["thresholds"]`).
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
