"""The robustness audit's default thresholds (not required by default: a compliance officer who
adds it to a policy's audit_requirements makes it required). Robust accuracy is decided on
its 95% Clopper-Pearson interval, and on at least `min_rows` attacked rows; the group gap on
its point estimate, over groups of at least the run's `min_group_count` rows.

| metric (where it is read)                                 | low    | medium | high   |
|-----------------------------------------------------------|--------|--------|--------|
| robust accuracy (PGD, ε = 0.1)                            | ≥ 0.4  | ≥ 0.5  | ≥ 0.6  |
| gap in accuracy lost between groups (ε = 0.1)             | ≤ 0.15 | ≤ 0.10 | ≤ 0.10 |

ε = 0.1 is a tenth of the pixel range, or a tenth of a training standard deviation of a
numeric feature: a nudge nobody would notice. At robust accuracy ≥ 0.5 such an attacker
cannot flip most decisions; higher tiers ask for more. The group gap uses the fairness gaps'
0.10 tolerance, on accuracy *lost* under attack, so it measures fragility; a group that is
less accurate anyway is the fairness audit's finding.

min_rows = 100: below it the check is "insufficient data" and neither passes nor fails. At
100 rows the interval is already about ±0.1 wide near 0.5 (50 of 100: 0.398-0.602), so
fewer could not tell the tiers apart; and 20 of 20 robust rows would otherwise pass every
tier (lower bound 0.832).
"""

MIN_ROWS = 100


def _tier(robust_min: float, drop_gap_max: float) -> dict:
    return {"robust_accuracy": {"min": robust_min, "epsilon": 0.1, "min_rows": MIN_ROWS},
            "accuracy_drop_difference": {"max": drop_gap_max, "epsilon": 0.1}}


THRESHOLDS = {"low": _tier(0.4, 0.15), "medium": _tier(0.5, 0.10), "high": _tier(0.6, 0.10)}

# The parameters that decide its verdicts, per tier (audits/runs/params.py): the policy's
# robust accuracy is read under PGD, so a request may not leave PGD out; the group gap is read
# over groups of at least min_group_count rows, which only the policy changes. The policy may
# also set a minimum of "pgd_steps" or "max_samples", and "epsilons" a request must include.
PARAMS = {tier: {"attacks": ["pgd"], "min_group_count": 20} for tier in ("low", "medium", "high")}
