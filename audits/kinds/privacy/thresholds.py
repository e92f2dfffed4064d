"""The privacy audit's default thresholds, every tier (not required by default). TPR at 1% FPR is
decided on its 95% Clopper-Pearson interval, AUC on its point estimate; both need at least
`min_rows` evaluated members and as many non-members, else they are "insufficient data" and
neither pass nor fail.

| metric                                       | every tier |
|----------------------------------------------|------------|
| membership-inference AUC (stronger attack)   | ≤ 0.6      |
| TPR at 1% FPR (stronger attack)              | ≤ 0.05     |

AUC 0.5 is guessing; above 0.6 members are told apart clearly better than chance. TPR at 1%
FPR is 0.01 by chance; 5x that means some people are confidently identified (Carlini et al.
2022).

min_rows = 100: 1% FPR is first resolvable at 100 non-members (one false positive), and the
TPR's interval at 100 members is still about ±0.05 wide at 0.05 (5 of 100: 0.016-0.113).
"""

MIN_ROWS = 100
_EVERY_TIER = {"membership_auc": {"max": 0.6, "min_rows": MIN_ROWS},
               "tpr_at_1pct_fpr": {"max": 0.05, "min_rows": MIN_ROWS}}

THRESHOLDS = {tier: dict(_EVERY_TIER) for tier in ("low", "medium", "high")}
