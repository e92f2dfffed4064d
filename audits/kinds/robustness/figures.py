"""The robustness audit's charts: robust accuracy against the attack budget, overall and per group."""

from __future__ import annotations

from governance.core.charts import line_chart

ATTACK_LABELS = {"fgsm": "FGSM", "pgd": "PGD", "hopskipjump": "HopSkipJump"}


def robustness_curve_chart(results: dict) -> str:
    """Robust accuracy against epsilon, one line per attack."""
    series = [{"name": ATTACK_LABELS.get(a, a), "points": [(p["epsilon"], p["robust_accuracy"]) for p in curve]}
              for a, curve in (results.get("curves") or {}).items()]
    norm = "L2" if results.get("mode") == "black-box" else "L-inf"
    return line_chart(series, title="Robust accuracy as the attack budget grows", x_label=f"epsilon ({norm})",
                      y_label="Robust accuracy", y_range=(0, 1)) if series else ""


def robustness_group_chart(results: dict, feature: str) -> str:
    """Robust accuracy against epsilon for each group of one sensitive feature (the group attack)."""
    groups = (results.get("group_robustness") or {}).get(feature) or {}
    series = [{"name": f"{g} (n={points[0]['count'] if points else 0})",
               "points": [(p["epsilon"], p["robust_accuracy"]) for p in points]} for g, points in groups.items()]
    attack = ATTACK_LABELS.get((results.get("params") or {}).get("group_attack") or "", "attack")
    return line_chart(series, title=f"{attack} robust accuracy by {feature}", x_label="epsilon (L-inf)",
                      y_label="Robust accuracy", y_range=(0, 1)) if series else ""


def robustness_figures(results: dict) -> list[dict]:
    units = (results.get("params") or {}).get("epsilon_units", "")
    figures = [{"feature": "curve", "svg": robustness_curve_chart(results),
                "caption": f"Robust accuracy per attack on {results.get('n_samples')} sampled rows; "
                           f"epsilon in {units}."}]
    for feature in results.get("group_robustness") or {}:
        figures.append({"feature": feature, "svg": robustness_group_chart(results, feature),
                        "caption": f"Robust accuracy per group of {feature}: a line that falls faster marks a group "
                                   "the model is more fragile for."})
    return [f for f in figures if f["svg"]]
