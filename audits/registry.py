"""Every audit kind in one place: its queue, its runner and its parameters.

Adding an audit = one probe module in audits/probes/, one runner in audits/runners/,
one line here, and its controls in governance/evidence.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module


@dataclass(frozen=True)
class AuditKind:
    name: str
    label: str
    queue: str  # "gpu" for torch-heavy work, "cpu" for the rest
    runner: str  # dotted path to run(run, progress) -> RunOutcome
    description: str
    defaults: dict = field(default_factory=dict)

    def load_runner(self):
        module, func = self.runner.rsplit(".", 1)
        return getattr(import_module(module), func)


KINDS: dict[str, AuditKind] = {
    k.name: k
    for k in [
        AuditKind(
            "fairness", "Fairness slices", "cpu", "audits.runners.fairness.run",
            "Accuracy, selection rate, TPR and FPR per group and intersection, with bootstrap intervals, "
            "compared with the policy's disparity thresholds.",
            {"min_slice_count": 20, "n_bootstrap": 200, "seed": 0, "bins": {}, "mitigation": True},
        ),
        AuditKind(
            "drift", "Drift review", "cpu", "audits.runners.drift.run",
            "A production batch against the reference data: PSI, KS and Wasserstein per numeric feature, "
            "chi-square, PSI and Jensen-Shannon per categorical one, prediction, performance and fairness drift; "
            "a breach recommends retraining. Null settings come from the policy's drift rule.",
            {"batch": None, "psi_bins": None, "alpha": None, "correction": None, "psi_bands": None,
             "performance_drop_max": None, "fairness_max_increase": None},
        ),
        AuditKind(
            "data_quality", "Data quality", "cpu", "audits.runners.data_quality.run",
            "Missing values, constant columns, duplicates, class imbalance, group representation, "
            "train/test and single-feature leakage, and label-error candidates by confident learning.",
            {"population_shares": None, "bins": {}, "near_duplicate_tol": 1e-6, "leakage_auc": 0.98, "n_folds": 5,
             "seed": 0, "max_examples": 5},
        ),
        # Security audits (issues 4 and 5): CPU-sized defaults; GPU settings in each runner's docstring.
        AuditKind(
            "robustness", "Adversarial robustness", "gpu", "audits.runners.robustness.run",
            "Clean and robust accuracy under FGSM and PGD over an epsilon grid (HopSkipJump for scikit-learn "
            "models), numeric features only and within their training range, with robust accuracy per group.",
            {"epsilons": [0.0, 0.05, 0.1, 0.2, 0.3], "attacks": ["fgsm", "pgd"], "pgd_steps": 10, "max_samples": 200,
             "batch_size": 256, "min_group_count": 20, "seed": 0, "blackbox_epsilons": [0.25, 0.5, 1.0, 2.0],
             "blackbox_max_samples": 20, "blackbox_max_iter": 10, "blackbox_max_eval": 500},
        ),
        AuditKind(
            "poisoning", "Data poisoning", "gpu", "audits.runners.poisoning.run",
            "Backdoor success per poisoning rate after retraining with the version's recipe (and label flips for "
            "tabular data), suspicious rows in the registered training data, and the detector checked on a "
            "planted backdoor.",
            {"rates": [0.01, 0.05, 0.1], "target_class": None, "method": "raw-strip", "validate": True,
             "validation_rate": 0.1, "max_listed": 50, "seed": 0},
        ),
        AuditKind(
            "privacy", "Privacy (membership inference, model inversion)", "gpu", "audits.runners.privacy.run",
            "ART's black-box and rule-based membership inference on training rows against held-out rows (AUC, "
            "TPR at 1% and 0.1% FPR, ROC), and MIFace reconstructions of each class for image models.",
            {"max_rows": 5000, "attack_train_fraction": 0.5, "attack_model_type": "rf", "inversion": True,
             "inversion_max_iter": 100, "seed": 0},
        ),
        AuditKind(
            "dp_retraining", "Differentially private retraining", "gpu", "audits.runners.dp_retraining.run",
            "Retrains the version with DP-SGD (Opacus) to a target epsilon and registers the result as a child "
            "version with its privacy record; compares utility, membership inference and per-group accuracy "
            "before and after, and tracks the system's privacy budget.",
            {"target_epsilon": 3.0, "delta": None, "max_grad_norm": 1.0, "epochs": None, "batch_size": None,
             "accountant": "prv", "grad_sample_mode": None, "new_version": None, "recommendation": None, "seed": 0},
        ),
    ]
}

UNKNOWN_KIND = "kind must be one of: {kinds}."
