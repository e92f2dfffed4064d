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
    ]
}

UNKNOWN_KIND = "kind must be one of: {kinds}."
