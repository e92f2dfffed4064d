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
    "estimated_accuracy": T(
        "Estimated accuracy (no labels)",
        "The accuracy the model should have on a production batch whose true outcomes are not known yet, "
        "estimated from its own scores once they are checked (and if need be corrected) for calibration on the "
        "audited test data (confidence-based performance estimation, CBPE), with an interval; a breach needs the "
        "estimated fall to exceed the allowance even allowing for the uncertainty of both figures.",
        "Labels often arrive months late or never: without an estimate, a model can lose accuracy silently. The "
        "estimate is only as good as the assumption that the link between inputs and outcomes has not changed; "
        "it cannot see a change in that link (concept drift) and sees a change in the outcome mix only partly.",
        "Compare the estimate with the realized accuracy as labels arrive (the system page keeps that history); "
        "if the estimate falls, get labels for a sample of the batch, and retrain or roll back if they confirm it.",
    ),
    "score_calibration": T(
        "Calibration of the model's scores",
        "Whether a score of 0.7 means that 7 in 10 such cases turn out positive, tested on the audited test data "
        "(Hosmer-Lemeshow test; expected calibration error for reading).",
        "Estimating accuracy without labels reads the scores as probabilities; uncalibrated scores would make "
        "the model look more (or less) accurate than it is.",
        "Nothing to do for the estimate: it corrects the scores on the test data. For decisions that read the "
        "score as a probability, recalibrate the model.",
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
ALIASES = {'ks': 'ks_statistic', 'ks_pvalue': 'ks_statistic', 'wasserstein_distance': 'wasserstein', 'wasserstein_normed': 'wasserstein', 'js_distance': 'jensen_shannon', 'jensen_shannon_distance': 'jensen_shannon', 'accuracy_decay': 'performance_drop', 'performance_decay': 'performance_drop', 'performance_estimate': 'estimated_accuracy', 'cbpe': 'estimated_accuracy', 'estimated_accuracy_drop': 'estimated_accuracy', 'hl_p_value': 'score_calibration'}

LABEL = "Drift review"

# The system page's history of estimates against realized accuracy, and the run page's verdict chips.
ESTIMATE_HISTORY = (
    "Each labelled batch's accuracy estimated from the model's scores, beside the accuracy its labels gave. "
    "When the realized value keeps falling outside the interval, the estimate cannot be trusted for this "
    "model on unlabelled batches.")
ESTIMATE_WITHIN = "within the interval"
ESTIMATE_OUTSIDE = "outside the interval"
ESTIMATE_ASSUMES = (
    "The estimate assumes the link between inputs and outcomes is the one seen on the test data: it follows "
    "shifts in the inputs, cannot see concept drift, and under a change in the outcome mix follows only the "
    "part that moves the inputs.")
PAGE = {"estimate_title": "Accuracy estimated from the model's scores", "within": ESTIMATE_WITHIN,
        "outside": ESTIMATE_OUTSIDE, "assumes": ESTIMATE_ASSUMES}
