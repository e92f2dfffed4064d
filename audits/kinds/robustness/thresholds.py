"""The robustness audit's default thresholds (not required by default: a compliance officer who
adds it to a policy's audit_requirements makes it required). Decided on the point estimate.

| metric (where it is read)                                 | low    | medium | high   |
|-----------------------------------------------------------|--------|--------|--------|
| robust accuracy (PGD, ε = 0.1)                            | ≥ 0.4  | ≥ 0.5  | ≥ 0.6  |
| gap in accuracy lost between groups (ε = 0.1)             | ≤ 0.15 | ≤ 0.10 | ≤ 0.10 |

ε = 0.1 is a tenth of the pixel range, or a tenth of a training standard deviation of a
numeric feature: a nudge nobody would notice. At robust accuracy ≥ 0.5 such an attacker
cannot flip most decisions; higher tiers ask for more. The group gap uses the fairness gaps'
0.10 tolerance, on accuracy *lost* under attack, so it measures fragility; a group that is
less accurate anyway is the fairness audit's finding.
"""


def _tier(robust_min: float, drop_gap_max: float) -> dict:
    return {"robust_accuracy": {"min": robust_min, "epsilon": 0.1},
            "accuracy_drop_difference": {"max": drop_gap_max, "epsilon": 0.1}}


THRESHOLDS = {"low": _tier(0.4, 0.15), "medium": _tier(0.5, 0.10), "high": _tier(0.6, 0.10)}
