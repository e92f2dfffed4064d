"""The fairness audit in plain words: what it and its metrics measure, why they matter,
what to do when one misses the policy (governance/core/glossary.py explains the shape)."""

from governance.core.glossary import Term as T

AUDIT = T(
    "Fairness slices",
    "Accuracy, selection rate and error rates for each group of each sensitive feature (and their "
    "intersections), with exact confidence intervals; the policy checks of one audit share a single "
    "5% chance of any wrong verdict.",
    "Laws and the AI RMF (MEASURE 2.11) ask you to show that the system does not disadvantage groups of people.",
    "Read which disparity failed and for which feature; apply a mitigation and audit the new version.",
)

METRICS = {
    # --- fairness: disparities (the policy's thresholds) ----------------------------------------
    "demographic_parity_difference": T(
        "Demographic parity difference",
        "The gap between the highest and the lowest group selection rate (0 means every group is selected "
        "equally often).",
        "A large gap means one group receives the favourable decision far less often than another.",
        "Check whether the gap is explained by real differences in outcomes (see equalized odds). If not, apply "
        "a mitigation (the fairness audit shows their cost in accuracy) and audit the new version.",
    ),
    "demographic_parity_ratio": T(
        "Demographic parity ratio",
        "The lowest group selection rate divided by the highest (1 means equal; the four-fifths rule of thumb "
        "asks for at least 0.8).",
        "Regulators and courts use this ratio as a screen for disparate impact.",
        "Treat it as a warning that needs a documented explanation or a mitigation before release.",
    ),
    "equalized_odds_difference": T(
        "Equalized odds difference",
        "The largest gap between groups in true positive rate or false positive rate (0 means the model errs "
        "equally for every group).",
        "It shows whether the model's mistakes, not just its decisions, fall unevenly on a group.",
        "Threshold adjustment per group (ThresholdOptimizer) or retraining under an equalized-odds constraint "
        "usually narrows it; audit the new version.",
    ),
    "equalized_odds_ratio": T(
        "Equalized odds ratio",
        "The smallest ratio between groups of their true or false positive rates (1 means equal).",
        "Like the difference, but relative: it highlights groups with very low error rates being compared.",
        "Follow the advice for the equalized odds difference.",
    ),
}

LABEL = "Fairness slices"
