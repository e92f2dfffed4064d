"""The fairness audit's charts, drawn from stored results when a page or report renders."""

from __future__ import annotations

from governance.core import glossary
from governance.core.charts import bar_chart_with_intervals


def fairness_group_chart(results: dict, feature: str, *, metric: str = "selection_rate") -> str:
    """One bar per slice with its exact interval; insufficient slices are labelled so."""
    block = results["intersectional"] if feature == "intersectional" else results["features"][feature]
    items = []
    for g in block["groups"]:
        m = g["metrics"].get(metric) or {}
        # Labels must fit the chart's label column (24 characters): intersections show their levels
        # only ("female · [18, 25)"), and a dagger, explained in the title, marks insufficient data.
        label = " · ".join(str(v) for v in g["levels"].values()) if g.get("levels") else g["group"]
        marker = " †" if g["status"] != "ok" else ""
        items.append({"label": f"{label} n={g['count']}{marker}", "value": m.get("value"), "ci": m.get("ci")})
    where = " × ".join(block.get("features") or []) or "intersection" if feature == "intersectional" else feature
    title = f"{glossary.term(metric).label} by {where}"
    if any(g["status"] != "ok" for g in block["groups"]):
        title += " († insufficient data)"
    return bar_chart_with_intervals(items, title=title, x_label=glossary.term(metric).label, x_range=(0, 1))


def fairness_figures(results: dict) -> list[dict]:
    """The fairness audit's charts: selection rate per group of each feature and per intersection."""
    level = f"{(results.get('params') or {}).get('confidence_level', 0.95):.0%}"
    features = list(results.get("features") or {}) + (["intersectional"] if results.get("intersectional") else [])
    figures = []
    for feature in features:
        where = "the intersection of the sensitive features" if feature == "intersectional" else feature
        # Selection rate speaks to demographic parity, TPR to equalized odds: the two policy checks.
        for metric in ("selection_rate", "tpr"):
            figures.append({
                "feature": feature, "metric": metric, "svg": fairness_group_chart(results, feature, metric=metric),
                "caption": f"{glossary.term(metric).label} by {where}, with {level} exact (Clopper–Pearson) intervals.",
            })
    return figures


def headline(results: dict) -> dict:
    """The headline numbers for exports: the overall metrics and the disparities per feature and
    intersection (the full per-group tables stay in the report)."""
    if "features" not in results:
        return results
    disparities = {name: report.get("disparities", {}) for name, report in results["features"].items()}
    inter = results.get("intersectional")
    if inter:
        disparities[" & ".join(inter.get("features") or ["intersection"])] = inter.get("disparities", {})
    return {"overall": results.get("overall", {}), "disparities": disparities}
