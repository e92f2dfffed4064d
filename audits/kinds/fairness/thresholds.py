"""The fairness audit's default policy: required on every tier, judged on the interval.

| tier   | max age | DP difference | DP ratio | EO difference |
|--------|---------|---------------|----------|---------------|
| low    | 365 d   | <= 0.20       | >= 0.70  | <= 0.30       |
| medium | 180 d   | <= 0.10       | >= 0.80  | <= 0.20       |
| high   | 90 d    | <= 0.10       | >= 0.80  | <= 0.20       |

The 0.80 ratio mirrors the four-fifths rule of thumb (29 CFR 1607.4(D)); 0.10 is a common
demographic-parity tolerance in practice. Thresholds are decided on an exact interval, not
the point estimate, and all the checks of an audit share one 5% error budget (Bonferroni;
probe/verdicts.py, `fairness_evaluate`). Starting points: edit them in the admin.
"""

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

# The parameters that decide a fairness verdict, per tier (audits/runs/params.py): a request may
# not judge on point estimates, nor change the slice size below which a slice is not judged.
PARAMS = {tier: {"min_slice_count": 20, "intervals": True} for tier in ("low", "medium", "high")}

REQUIRED = {
    "low": {"thresholds": LENIENT, "max_age_days": 365},
    "medium": {"thresholds": STRICT, "max_age_days": 180},
    "high": {"thresholds": STRICT, "max_age_days": 90},
}
