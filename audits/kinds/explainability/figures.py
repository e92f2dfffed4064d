"""The explainability audit's charts, drawn from stored results when a page or report renders:
importance with intervals per method, and each method's deletion curve against random orders."""

from __future__ import annotations

from governance.core.charts import bar_chart_with_intervals, line_chart

MAX_BARS = 15  # an image model has a feature per pixel: the chart shows the most important ones


UNITS = {"permutation": "drop in ROC AUC when shuffled", "integrated_gradients": "mean |contribution| to the score"}


def importance_chart(name: str, method: dict, *, level: float) -> str:
    rows = sorted(method.get("importance") or [], key=lambda r: -r["value"])[:MAX_BARS]
    items = [{"label": r["feature"], "value": r["value"], "ci": r.get("ci")} for r in rows]
    unit = UNITS.get(name, "importance")
    return bar_chart_with_intervals(items, title=f"{method['label']}: importance ({level:.0%} intervals)",
                                    x_label=unit) if items else ""


def deletion_chart(method: dict) -> str:
    d = method.get("deletion") or {}
    curve = d.get("ranked_curve") or []
    if not curve:
        return ""
    ks = list(range(1, len(curve) + 1))
    low, high = (d.get("random_band") or [[], []])
    series = [{"name": f"{method['label']} order", "points": list(zip(ks, curve))},
              {"name": f"Random orders (mean of {d.get('n_random')})", "points": list(zip(ks, d["random_mean_curve"]))},
              {"name": "Random orders, 5th percentile", "points": list(zip(ks, low))},
              {"name": "Random orders, 95th percentile", "points": list(zip(ks, high))}]
    return line_chart(series, title=f"Deletion test: {method['label']}", x_label="features removed",
                      y_label="mean change of the score", y_range=None, x_ticks=[(k, str(k)) for k in ks])


def explainability_figures(results: dict) -> list[dict]:
    level = (results.get("params") or {}).get("confidence_level", 0.95)
    figures = []
    for name, method in (results.get("methods") or {}).items():
        figures.append({"feature": name, "metric": "importance", "svg": importance_chart(name, method, level=level),
                        "caption": f"{method['label']} per feature, largest first, with {level:.0%} intervals."})
        figures.append({"feature": name, "metric": "deletion", "svg": deletion_chart(method),
                        "caption": "How much the model's score moves as features are set to a typical value, in "
                                   f"the order {method['label']} ranks them and in random orders: a faithful "
                                   "ranking stays above the random band."})
    return [f for f in figures if f["svg"]]


def headline(results: dict) -> dict:
    """The headline numbers for exports (model cards, OSCAL): per method its tests and the top
    features' importance; the proxy findings."""
    if "methods" not in results:
        return results
    out = {}
    for name, method in results["methods"].items():
        r = method.get("randomization") or {}
        out[name] = {"deletion_gap": {"value": method["deletion"]["gap"], "ci": method["deletion"]["ci"]},
                     "randomization_similarity": {"value": r.get("similarity"), "ci": r.get("ci")},
                     "importance": {row["feature"]: {"value": row["value"], "ci": row["ci"]}
                                    for row in sorted(method["importance"], key=lambda x: -x["value"])[:5]}}
    out["proxy_findings"] = {f"{p['feature']} for {p['attribute']}": {"value": p["auc"], "ci": p["ci"]}
                             for p in results.get("proxy_findings") or []}
    out["possible_proxies"] = {f"{p['feature']} for {p['attribute']}": {"value": p["auc"], "ci": p["ci"]}
                               for p in results.get("possible_proxies") or []}
    return out
