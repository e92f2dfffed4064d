"""The dp retraining audit in plain words: what it and its metrics measure, why they matter,
what to do when one misses the policy (governance/core/glossary.py explains the shape)."""

from governance.core.glossary import Term as T

AUDIT = T(
    "Differentially private retraining",
    "A new version trained with a formal privacy guarantee, compared with the original.",
    "It is the standard remedy when a privacy audit fails.",
    "If accuracy or fairness suffer too much, try a larger epsilon or more data.",
)

METRICS = {
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

# What a metric name means in this audit, where it means something else elsewhere.
KIND_METRICS = {
    "accuracy_drop": T(
        "Accuracy lost to privacy",
        "How much test accuracy the privacy-preserving (DP) retraining cost compared with the original model.",
        "Privacy must not cost the model its ability to do its job.",
        "Try a larger privacy budget (epsilon), more epochs or more data, and compare again.",
    ),
    "predicted_classes": T(
        "Decisions the retrained model still makes",
        "How many different decisions (classes) the DP-retrained model gives on the evaluation data; one means "
        "everyone gets the same decision.",
        "Heavy noise can collapse a model to one answer for everyone, which can still look accurate on skewed data.",
        "Try a larger privacy budget (epsilon), a smaller clipping norm or more epochs, and compare again.",
    ),
    "membership_auc": T(
        "Membership inference AUC after retraining",
        "How well an attacker can still tell training members apart after DP retraining (0.5 is guessing).",
        "It checks that the privacy gain is real, not assumed.",
        "Choose a smaller epsilon and retrain.",
    ),
}

LABEL = "Differentially private retraining"
