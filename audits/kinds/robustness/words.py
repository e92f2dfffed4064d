"""The robustness audit in plain words: what it and its metrics measure, why they matter,
what to do when one misses the policy (governance/core/glossary.py explains the shape)."""

from governance.core.glossary import Term as T

AUDIT = T(
    "Adversarial robustness",
    "How accuracy falls when inputs are perturbed on purpose by small amounts.",
    "Attackers and noisy inputs exist in real use (AI RMF MEASURE 2.7).",
    "Harden the model (adversarial training) or the input channel, and retest.",
)

METRICS = {
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
}

LABEL = "Adversarial robustness"
