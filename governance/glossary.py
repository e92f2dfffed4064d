"""Plain-language explanations of every metric, threshold, audit and status the platform shows.

One place, so the pages, the guided wizard and the PDF report say the same thing in the same
words. No Django import: the report renderer and tests can use it on their own.

Each metric answers three questions for a reader who is not a data scientist:
  measures  - what the number is;
  matters   - why anyone should care;
  if_fails  - what to do when it misses the policy's threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Term:
    label: str
    measures: str
    matters: str
    if_fails: str

    def as_dict(self) -> dict:
        return asdict(self)


T = Term

METRICS: dict[str, Term] = {
    # --- fairness: per-group rates ---------------------------------------------------------
    "accuracy": T(
        "Accuracy",
        "The share of cases where the model's decision matches the real outcome.",
        "A model that is right less often for one group treats that group worse, even if it looks fine on average.",
        "Check whether the group is under-represented in the training data; collect more examples or retrain.",
    ),
    "selection_rate": T(
        "Selection rate",
        "The share of people in a group who receive the positive decision (for example, a loan approved).",
        "Large gaps in selection rates between groups are the first sign of unequal treatment.",
        "Compare with the true outcomes (see true positive rate) before concluding; then consider the mitigations "
        "shown in the fairness audit.",
    ),
    "tpr": T(
        "True positive rate",
        "Of the people who really deserve the positive decision, the share the model gives it to.",
        "If it is lower for one group, qualified people in that group are turned down more often.",
        "Look at equalized odds; threshold adjustment per group or retraining with a fairness constraint can help.",
    ),
    "fpr": T(
        "False positive rate",
        "Of the people who should not get the positive decision, the share who get it anyway.",
        "Different error rates between groups mean the model's mistakes fall unevenly on people.",
        "Review the groups with the highest rate and the features driving their scores.",
    ),
    "precision": T(
        "Precision",
        "Of the positive decisions the model makes, the share that are correct.",
        "Low precision for a group means its positive decisions are less trustworthy.",
        "Check calibration and the group's data quality; recalibrate or retrain.",
    ),
    "ece": T(
        "Calibration error (ECE)",
        "How far the model's stated confidence is from how often it is actually right (0 is perfect).",
        "People downstream act on scores; a score that means different things for different groups misleads them.",
        "Recalibrate the model's scores (for example, per group) and re-run the audit.",
    ),
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
        "How much accuracy on labelled production data has fallen compared with the audited test data.",
        "It is the direct measure of whether the model still does its job.",
        "Retrain or roll back to the last version the gate still allows.",
    ),
    "fairness_change": T(
        "Fairness change",
        "How much a fairness disparity has grown in production compared with the audited value.",
        "A model can become unfair after release when the population it serves changes.",
        "Run a full fairness audit on recent data; mitigate or roll back.",
    ),
    # --- data quality -------------------------------------------------------------------------
    "missing_values": T(
        "Missing values",
        "How many cells of each column are empty.",
        "Gaps are often filled with defaults that hide real information or bias the model.",
        "Fix the data source, or document how gaps are filled and check that it does not harm any group.",
    ),
    "constant_columns": T(
        "Constant columns",
        "Columns that hold the same value in every row.",
        "They carry no information and often reveal a broken extraction.",
        "Drop them or fix the extraction.",
    ),
    "duplicate_rows": T(
        "Duplicate rows",
        "Rows that appear more than once, sometimes with different labels.",
        "Duplicates overweight some cases; conflicting labels confuse the model.",
        "De-duplicate and resolve conflicting labels with the data owner.",
    ),
    "class_imbalance": T(
        "Class imbalance",
        "How much more common the majority outcome is than the minority one.",
        "A model can look accurate by always predicting the common outcome.",
        "Report per-class metrics; rebalance or reweight the training data.",
    ),
    "representation": T(
        "Representation",
        "Whether each group of a sensitive feature appears in the data about as often as in the population served.",
        "Under-represented groups get less accurate and less fair decisions.",
        "Collect more data for the group, or state the limitation in the intended use.",
    ),
    "split_leakage": T(
        "Train/test leakage",
        "Test rows that also appear (exactly or nearly) in the training data.",
        "Leaked rows make the audit look better than the model really is.",
        "Rebuild the test split without overlapping rows and audit again.",
    ),
    "single_feature_leakage": T(
        "Single-feature leakage",
        "A single column that predicts the label almost perfectly.",
        "It usually means the label leaked into the inputs, so the model will fail in real use.",
        "Remove the column or find out how it encodes the outcome.",
    ),
    "label_errors": T(
        "Label errors",
        "Rows whose label disagrees with what similar rows suggest (confident learning).",
        "Wrong labels teach the model wrong lessons and distort every metric.",
        "Have a person review the listed rows and correct the labels.",
    ),
    # --- security -------------------------------------------------------------------------------
    "robust_accuracy": T(
        "Robust accuracy",
        "Accuracy when an attacker may nudge each input by a small, bounded amount (epsilon).",
        "Small, deliberate changes to an input can flip a decision; this shows how easily.",
        "Consider adversarial training, input validation, or limiting who can submit inputs; retest.",
    ),
    "accuracy_drop": T(
        "Accuracy drop under attack",
        "How much accuracy falls from clean inputs to attacked inputs.",
        "A large drop means the model is easy to manipulate.",
        "Follow the advice for robust accuracy.",
    ),
    "accuracy_drop_difference": T(
        "Gap between groups in accuracy lost under attack",
        "How much more accuracy one group loses under attack than another.",
        "If one group's decisions are easier to manipulate, attacks hit that group harder.",
        "Check the group's representation in the training data; adversarial training on all groups can help.",
    ),
    "attack_success_rate": T(
        "Backdoor attack success rate",
        "How often a planted trigger makes a retrained model give the attacker's chosen answer.",
        "If a few poisoned training rows can control the model, the training data pipeline must be protected.",
        "Restrict who can change training data, check data provenance, and scan training data for poisoned rows.",
    ),
    "flagged_share": T(
        "Share of training rows flagged",
        "The share of the registered training rows the poisoning detector flags as suspicious.",
        "More than a few flagged rows means someone should look at where the data came from.",
        "Have a person review the flagged rows; remove confirmed poison and retrain.",
    ),
    "detector_recall": T(
        "Detector recall on a planted backdoor",
        "Of the rows we poisoned on purpose in a copy of the data, the share the detector found.",
        "It shows whether a clean scan of your data can be trusted.",
        "The scan cannot vouch for the data: treat the result as inconclusive and review provenance by hand.",
    ),
    "detector_precision": T(
        "Detector precision on a planted backdoor",
        "Of the rows the detector flagged in the planted test, the share that really were poisoned.",
        "Low precision means many false alarms to review.",
        "Expect manual review work; consider another detection method.",
    ),
    "flagged_rows": T(
        "Suspicious training rows",
        "Training rows the poisoning detector flags as likely carrying a backdoor.",
        "Poisoned rows let an attacker control decisions later.",
        "Review and remove the flagged rows, find how they entered, then retrain.",
    ),
    "membership_auc": T(
        "Membership inference AUC",
        "How well an attacker can tell whether a person's record was in the training data (0.5 is guessing).",
        "Revealing who was in the training data can itself be a privacy breach.",
        "Retrain with differential privacy (DP-SGD) or regularise the model; then audit privacy again.",
    ),
    "tpr_at_low_fpr": T(
        "Attack true positive rate at a low false positive rate",
        "How many training records an attacker can identify with confidence (while rarely being wrong).",
        "Even a few confidently identified people are a privacy failure, whatever the average looks like.",
        "Retrain with differential privacy and check the accuracy cost on each group.",
    ),
    "accuracy_gap_increase": T(
        "Growth of the accuracy gap between groups",
        "How much wider the accuracy gap between groups became after privacy-preserving retraining.",
        "Differential privacy tends to cost small groups the most accuracy.",
        "Try a larger privacy budget, more data for the small groups, or keep the original model.",
    ),
    "epsilon": T(
        "Privacy budget (epsilon)",
        "The differential-privacy guarantee of a retrained model: smaller means stronger privacy.",
        "It bounds how much any one person's data can influence the model.",
        "Choose a smaller epsilon if the privacy audit still fails, and check the accuracy cost.",
    ),
}

AUDITS: dict[str, Term] = {
    "fairness": T(
        "Fairness slices",
        "Accuracy, selection rate and error rates for each group of each sensitive feature (and their "
        "intersections), with confidence intervals.",
        "Laws and the AI RMF (MEASURE 2.11) ask you to show that the system does not disadvantage groups of people.",
        "Read which disparity failed and for which feature; apply a mitigation and audit the new version.",
    ),
    "robustness": T(
        "Adversarial robustness",
        "How accuracy falls when inputs are perturbed on purpose by small amounts.",
        "Attackers and noisy inputs exist in real use (AI RMF MEASURE 2.7).",
        "Harden the model (adversarial training) or the input channel, and retest.",
    ),
    "poisoning": T(
        "Data poisoning",
        "How easily a backdoor can be planted through the training data, and whether the data already holds one.",
        "A poisoned model can be controlled by whoever planted the trigger.",
        "Remove flagged rows, secure the data pipeline and retrain.",
    ),
    "privacy": T(
        "Privacy",
        "Whether the model gives away who was in its training data (membership inference) or what they looked like.",
        "Training data about people is personal data; leaking it is a breach (AI RMF MEASURE 2.10).",
        "Retrain with differential privacy and audit again.",
    ),
    "dp_retraining": T(
        "Differentially private retraining",
        "A new version trained with a formal privacy guarantee, compared with the original.",
        "It is the standard remedy when a privacy audit fails.",
        "If accuracy or fairness suffer too much, try a larger epsilon or more data.",
    ),
    "drift": T(
        "Drift review",
        "Whether production data and decisions have moved away from what the model was audited on.",
        "An audit is only valid for the data it saw (AI RMF MEASURE 2.4, MANAGE 4.1).",
        "Investigate the change; retrain or roll back, and audit the new version.",
    ),
    "data_quality": T(
        "Data quality",
        "Missing values, duplicates, imbalance, leakage, label errors and representation of groups in the data.",
        "Bad data makes every later audit unreliable (ISO/IEC 42001 A.7.4).",
        "Fix the data at its source and register a corrected dataset.",
    ),
    "performance": T(
        "Performance and validity",
        "How well the model does its job on held-out data.",
        "A model must be shown to work before anything else matters.",
        "Retrain or reconsider the model's intended use.",
    ),
}

OUTCOMES: dict[str, str] = {
    "pass": "Pass: the result meets the policy's threshold, even allowing for uncertainty.",
    "fail": "Fail: the result misses the policy's threshold, even allowing for uncertainty.",
    "inconclusive": "Inconclusive: the confidence interval straddles the threshold, so the data cannot decide; "
                    "evaluate on more data.",
    "info": "Information: recorded for the file; no decision was needed.",
}

STATUSES: dict[str, str] = {
    "satisfied": "Satisfied: the latest evidence passed.",
    "failed": "Failed: the latest evidence failed; this is an open finding.",
    "in_progress": "In progress: evidence exists but nothing is decided yet.",
    "not_started": "Not started: no evidence yet.",
    "not_applicable": "Not applicable: marked so by a compliance officer, with a reason.",
}

# The same metric name can mean different things in different audits.
KIND_METRICS: dict[tuple[str, str], Term] = {
    ("dp_retraining", "accuracy_drop"): T(
        "Accuracy lost to privacy",
        "How much test accuracy the privacy-preserving (DP) retraining cost compared with the original model.",
        "Privacy must not cost the model its ability to do its job.",
        "Try a larger privacy budget (epsilon), more epochs or more data, and compare again.",
    ),
    ("dp_retraining", "membership_auc"): T(
        "Membership inference AUC after retraining",
        "How well an attacker can still tell training members apart after DP retraining (0.5 is guessing).",
        "It checks that the privacy gain is real, not assumed.",
        "Choose a smaller epsilon and retrain.",
    ),
}

# Metric names as they appear in checks and results, mapped to their entry.
ALIASES = {
    "ks": "ks_statistic", "ks_pvalue": "ks_statistic", "wasserstein_distance": "wasserstein",
    "wasserstein_normed": "wasserstein", "js_distance": "jensen_shannon", "jensen_shannon_distance": "jensen_shannon",
    "accuracy_decay": "performance_drop", "performance_decay": "performance_drop",
    "asr": "attack_success_rate", "backdoor_success_rate": "attack_success_rate",
    "mia_auc": "membership_auc", "auc": "membership_auc",
    "tpr_at_1pct_fpr": "tpr_at_low_fpr", "tpr_at_01pct_fpr": "tpr_at_low_fpr",
    "true_positive_rate": "tpr", "false_positive_rate": "fpr",
}

UNKNOWN = T(
    "",
    "A measurement recorded by the audit.",
    "The policy uses it to decide whether the system may ship.",
    "Read the audit's details and discuss the result with the risk officer.",
)


def term(key: str, kind: str | None = None) -> Term:
    """The explanation of a metric, by its name in results or checks (and the audit kind, where
    a name means something else there); never raises."""
    key = str(key or "")
    if (kind, key) in KIND_METRICS:
        return KIND_METRICS[(kind, key)]
    if key in METRICS:
        return METRICS[key]
    if key in ALIASES:
        return METRICS[ALIASES[key]]
    base, _, kind = key.rpartition("_")
    if kind in ("difference", "ratio") and base in METRICS:
        # e.g. accuracy_difference: a per-group metric turned into a disparity.
        inner = METRICS[base]
        gap = "gap between the highest and lowest group" if kind == "difference" else "lowest group's value as a share of the highest"
        return T(
            f"{inner.label} {kind}",
            f"The {gap} in {inner.label.lower()}. {inner.measures}",
            inner.matters,
            inner.if_fails,
        )
    return Term(key.replace("_", " ").capitalize() or "Metric", UNKNOWN.measures, UNKNOWN.matters, UNKNOWN.if_fails)


def audit(kind: str) -> Term:
    return AUDITS.get(kind) or Term(str(kind).replace("_", " ").capitalize(), UNKNOWN.measures, UNKNOWN.matters,
                                    UNKNOWN.if_fails)


def threshold_text(operator: str, threshold) -> str:
    """'<=' 0.1 -> 'The policy allows at most 0.1.'; accepts '<=', '>=', 'max', 'min'."""
    if threshold is None:
        return "The policy sets no threshold for this measurement."
    value = f"{threshold:g}" if isinstance(threshold, (int, float)) else str(threshold)
    if operator in ("<=", "<", "max"):
        return f"The policy allows at most {value}."
    if operator in (">=", ">", "min"):
        return f"The policy requires at least {value}."
    return f"The policy's threshold is {operator} {value}."


def outcome_text(outcome: str) -> str:
    return OUTCOMES.get(outcome, str(outcome or "").capitalize())


def status_text(status: str) -> str:
    return STATUSES.get(status, str(status or "").replace("_", " ").capitalize())
