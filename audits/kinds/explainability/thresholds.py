"""The explainability audit's default thresholds (not required by default: a compliance officer
who adds it to a policy's audit_requirements makes it required). Decided on the interval.

| check (one per explanation method, or per feature and sensitive attribute) | low    | medium | high   |
|-----------------------------------------------------------------------------|--------|--------|--------|
| deletion gap: removing the top features moves the score more than random     | > 0    | > 0    | > 0    |
| randomization similarity (Spearman) with randomized models                   | < 0.5  | < 0.5  | < 0.5  |
| proxy AUC of a feature with ≥ 10 % of the importance, for a sensitive group  | ≤ 0.75 | ≤ 0.70 | ≤ 0.70 |

Deletion gap > 0: an explanation whose top features hurt the model no more than random ones
explains nothing about this model. Similarity < 0.5: Adebayo et al. (NeurIPS 2018) read rank
correlations that stay high after randomizing the weights as a method that does not depend on
the model; half of a perfect correlation is the line used here. A proxy AUC of 0.70 is
conventionally "acceptable discrimination" (Hosmer, Lemeshow and Sturdivant, Applied Logistic
Regression, 3rd ed., §5.2.4): a feature that tells a group apart that well, and carries a tenth
of the model's decisions, lets the model treat the group differently without seeing it.
"""


def _tier(proxy_auc_max: float) -> dict:
    return {"deletion_gap": {"min": 0.0}, "randomization_similarity": {"max": 0.5},
            "proxy_auc": {"max": proxy_auc_max, "importance_share": 0.10}}


THRESHOLDS = {"low": _tier(0.75), "medium": _tier(0.70), "high": _tier(0.70)}

# The parameters that decide its verdicts, per tier (audits/runs/params.py; docs/audit-parameters.md):
# the intervals' bootstrap size and level, and the group size explained per group. A request may
# ask for more resamples or a higher level, never fewer or lower.
PARAMS = {tier: {"n_bootstrap": 200, "confidence_level": 0.95, "min_group_count": 20}
          for tier in ("low", "medium", "high")}
