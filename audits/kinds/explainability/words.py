"""The explainability audit in plain words: what it and its metrics measure, why they matter,
what to do when one misses the policy (governance/core/glossary.py explains the shape)."""

from governance.core.glossary import Term as T

AUDIT = T(
    "Explainability",
    "Which inputs drive the model's decisions (overall, per group and for single cases), whether those "
    "explanations are faithful to the model, and whether an input stands in for a sensitive attribute.",
    "The AI RMF (MEASURE 2.9) asks that the model be explained, validated and documented; an explanation that "
    "has not been tested can mislead the people who rely on it.",
    "Read which test failed: use an explanation method that passes for this model, and investigate a proxy "
    "with the fairness audit before release.",
)

PROXY_LABEL = "Proxy scan (explainability)"

METRICS = {
    "deletion_gap": T(
        "Deletion test gap",
        "How much more the model's score moves when the features an explanation ranks first are removed than "
        "when random features are removed (0 means no better than random).",
        "An explanation whose top features do not matter to the model is not an explanation of this model.",
        "Do not publish this method's rankings for this model; use a method that passes the test.",
    ),
    "randomization_similarity": T(
        "Similarity after randomizing the model",
        "How alike (rank correlation, 1 is identical) an explanation method's output is for the real model and "
        "for copies whose learned weights were replaced by random ones.",
        "A method that says the same thing about a random model is describing the data, not the model "
        "(Adebayo et al., NeurIPS 2018).",
        "Treat this method as not trustworthy for this model; use one that passes.",
    ),
    "proxy_auc": T(
        "Proxy strength",
        "How well a feature the model relies on tells members of a sensitive group apart from everyone else "
        "(AUC: 0.5 is chance, 1 is perfect).",
        "Removing a sensitive column does not stop a model from using it when another input stands in for it.",
        "Check the fairness audit for this group; consider dropping or transforming the feature, or a fairness "
        "mitigation, and document the decision.",
    ),
    "permutation_importance": T(
        "Permutation importance",
        "How much the model's ROC AUC falls when one feature's values are shuffled between rows.",
        "It shows which inputs the model's accuracy depends on.",
        "A feature that should not matter but does is a finding to investigate.",
    ),
    "integrated_gradients": T(
        "Integrated Gradients attribution",
        "How much each feature moved one row's score away from that of a typical row (the contributions add up "
        "to the difference).",
        "It explains single decisions in terms a case worker can check.",
        "A contribution that makes no sense for the case is worth raising with the model owner.",
    ),
}

LABEL = "Explainability"
