"""DP retraining's default thresholds (not required by default). They judge the new version.

| metric                                         | low    | medium | high   |
|------------------------------------------------|--------|--------|--------|
| evaluation accuracy lost                       | ≤ 0.10 | ≤ 0.05 | ≤ 0.05 |
| membership AUC after                           | ≤ 0.6 (every tier)       |
| growth of the accuracy gap between groups      | ≤ 0.05 (every tier)      |
| classes the new model still predicts           | ≥ 2 (every tier)         |

DP retraining judges the new version: it must keep its job (accuracy), show the privacy gain
(AUC), and not widen a group gap by more than 5 points (DP-SGD costs small groups the most,
Bagdasaryan et al. 2019). Nor may it collapse to one decision for everyone: on skewed data a
constant model keeps most of the accuracy (70% on German credit), so the accuracy drop alone
does not catch it. A miss fails the run, as evidence on the new version (see the runner).
"""


def _tier(drop_max: float) -> dict:
    return {"accuracy_drop": {"max": drop_max}, "membership_auc": {"max": 0.6},
            "accuracy_gap_increase": {"max": 0.05}, "predicted_classes": {"min": 2}}


THRESHOLDS = {"low": _tier(0.10), "medium": _tier(0.05), "high": _tier(0.05)}
