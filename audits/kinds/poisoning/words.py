"""The poisoning audit in plain words: what it and its metrics measure, why they matter,
what to do when one misses the policy (governance/core/glossary.py explains the shape)."""

from governance.core.glossary import Term as T

AUDIT = T(
    "Data poisoning",
    "How easily a backdoor can be planted through the training data, and whether the data already holds one.",
    "A poisoned model can be controlled by whoever planted the trigger.",
    "Remove flagged rows, secure the data pipeline and retrain.",
)

METRICS = {
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
}

# Metric names as they appear in checks and results, mapped to their entry.
ALIASES = {'asr': 'attack_success_rate', 'backdoor_success_rate': 'attack_success_rate'}

LABEL = "Data poisoning"
