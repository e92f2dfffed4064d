"""Charts from stored audit results, shared by the web pages and the PDF report."""

from __future__ import annotations

from audits.reports.charts import bar_chart_with_intervals

METRIC_LABELS = {
    "accuracy": "Accuracy",
    "selection_rate": "Selection rate",
    "tpr": "True positive rate",
    "fpr": "False positive rate",
    "precision": "Precision",
    "ece": "Calibration error (ECE)",
    "demographic_parity_difference": "Demographic parity difference",
    "demographic_parity_ratio": "Demographic parity ratio",
    "equalized_odds_difference": "Equalized odds difference",
    "equalized_odds_ratio": "Equalized odds ratio",
}


def fairness_group_chart(results: dict, feature: str, *, metric: str = "selection_rate") -> str:
    """One bar per slice with its bootstrap interval; insufficient slices are labelled so."""
    block = results["intersectional"] if feature == "intersectional" else results["features"][feature]
    items = []
    for g in block["groups"]:
        m = g["metrics"].get(metric) or {}
        label = g["group"] + (" (insufficient data)" if g["status"] != "ok" else "")
        items.append({"label": f"{label} n={g['count']}", "value": m.get("value"), "ci": m.get("ci")})
    title = f"{METRIC_LABELS.get(metric, metric)} by {'intersection' if feature == 'intersectional' else feature}"
    return bar_chart_with_intervals(items, title=title, x_label=METRIC_LABELS.get(metric, metric), x_range=(0, 1))
