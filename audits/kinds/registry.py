"""Every audit kind, one line each. Adding a kind: a folder under audits/kinds/ (copy a
neighbour) and its line here; nothing else names it (docs/architecture.md)."""

from audits.kinds.data_quality import kind as data_quality
from audits.kinds.dp_retraining import kind as dp_retraining
from audits.kinds.drift import kind as drift
from audits.kinds.efficiency import kind as efficiency
from audits.kinds.explainability import kind as explainability
from audits.kinds.fairness import kind as fairness
from audits.kinds.poisoning import kind as poisoning
from audits.kinds.privacy import kind as privacy
from audits.kinds.robustness import kind as robustness

KINDS = [fairness, data_quality, drift, robustness, poisoning, privacy, dp_retraining, explainability, efficiency]
