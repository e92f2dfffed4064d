"""The drift audit in plain words: what it and its metrics measure, why they matter,
what to do when one misses the policy (governance/core/glossary.py explains the shape)."""

from governance.core.glossary import Term as T

AUDIT = T(
    "Drift review",
    "Whether production data and decisions have moved away from what the model was audited on.",
    "An audit is only valid for the data it saw (AI RMF MEASURE 2.4, MANAGE 4.1).",
    "Investigate the change; retrain or roll back, and audit the new version.",
)

METRICS = {
    # --- drift -------------------------------------------------------------------------------
    "psi": T(
        "Population stability index (PSI)",
        "How much the distribution of a feature in production has moved away from the training data "
        "(below 0.1: stable; 0.1-0.25: moderate shift; above 0.25: major shift).",
        "A model only knows the world it was trained on; when its inputs shift, its accuracy and fairness can "
        "silently degrade.",
        "Find out what changed in the data source; if the shift is real, retrain on recent data and audit again.",
    ),
    "ks_statistic": T(
        "Kolmogorov-Smirnov statistic",
        "The largest distance between the cumulative distributions of a numeric feature in training and in "
        "production (0 to 1).",
        "It detects changes in shape, not just in the average.",
        "Look at the overlay chart for the feature, then follow the advice for PSI.",
    ),
    "wasserstein": T(
        "Wasserstein distance",
        "How far, on average, values would have to move to turn the training distribution into the production one.",
        "It is expressed in the feature's own units, so it shows whether a shift is large in practice.",
        "Judge it against what the feature means (e.g. 2 years of age); retrain if the shift matters.",
    ),
    "jensen_shannon": T(
        "Jensen-Shannon distance",
        "How different the category shares of a feature are between training and production (0 to 1).",
        "New or vanishing categories change what the model sees.",
        "Check for new categories or a changed data pipeline; retrain if the change is real.",
    ),
    "prediction_drift": T(
        "Prediction drift",
        "How much the distribution of the model's own outputs has moved since it was audited.",
        "A change in what the model decides is often the first visible sign of input drift.",
        "Review recent decisions with the business owner; run a new fairness and performance audit.",
    ),
    "performance_drop": T(
        "Performance drop",
        "How much accuracy on labelled production data has fallen compared with the audited test data; a breach "
        "needs the fall to exceed the allowance even allowing for the uncertainty of both figures.",
        "It is the direct measure of whether the model still does its job.",
        "Retrain or roll back to the last version the gate still allows.",
    ),
    "fairness_change": T(
        "Fairness change",
        "How much a fairness disparity has grown in production compared with the audited value; a breach "
        "needs the rise to exceed the allowance even allowing for the uncertainty of both figures.",
        "A model can become unfair after release when the population it serves changes.",
        "Run a full fairness audit on recent data; mitigate or roll back.",
    ),
}

# What a review's outcome means; the general words ("meets the policy's threshold, even allowing
# for uncertainty") are not true of "no breach", which is only the absence of evidence of drift.
# How a drift review's outcomes read (governance/core/glossary.py, KIND_OUTCOMES): (label, meaning).
OUTCOMES = {
    "pass": ("no breach", "No breach: nothing moved beyond what sampling noise explains within the review's error "
             "budget. That is not proof that nothing moved: a small shift on a small batch can go unseen."),
    "fail": ("breach", "Breach: a check moved beyond what sampling noise on both sides explains, within the "
             "review's error budget (one budget for all its checks)."),
    "inconclusive": ("insufficient data", "Insufficient data: the batch is smaller than the review needs to "
                     "decide, so it can neither pass nor breach; review a larger batch."),
}

# Metric names as they appear in checks and results, mapped to their entry.
ALIASES = {'ks': 'ks_statistic', 'ks_pvalue': 'ks_statistic', 'wasserstein_distance': 'wasserstein', 'wasserstein_normed': 'wasserstein', 'js_distance': 'jensen_shannon', 'jensen_shannon_distance': 'jensen_shannon', 'accuracy_decay': 'performance_drop', 'performance_decay': 'performance_drop'}

LABEL = "Drift review"
