"""The privacy audit in plain words: what it and its metrics measure, why they matter,
what to do when one misses the policy (governance/core/glossary.py explains the shape)."""

from governance.core.glossary import Term as T

AUDIT = T(
    "Privacy",
    "Whether the model gives away who was in its training data (membership inference) or what they looked like.",
    "Training data about people is personal data; leaking it is a breach (AI RMF MEASURE 2.10).",
    "Retrain with differential privacy and audit again.",
)

METRICS = {
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
}

# Metric names as they appear in checks and results, mapped to their entry.
ALIASES = {'mia_auc': 'membership_auc', 'auc': 'membership_auc', 'tpr_at_1pct_fpr': 'tpr_at_low_fpr', 'tpr_at_01pct_fpr': 'tpr_at_low_fpr'}

LABEL = "Privacy (membership inference, model inversion)"
