"""The drift review's charts: reference against batch per feature and for the model's output,
drawn from the stored bins and shares when a page or report renders."""

from __future__ import annotations

from governance.core.charts import overlay_histogram


def _drift_caption(entry: dict, what: str) -> str:
    if entry.get("psi") is None:
        return f"{what}: reference only, the batch has no values."
    parts = [f"PSI {entry['psi']:.3f} ({entry.get('psi_band')})"]
    if entry.get("ks_statistic") is not None:
        parts.append(f"KS {entry['ks_statistic']:.3f}")
    if entry.get("js_distance") is not None:
        parts.append(f"Jensen-Shannon {entry['js_distance']:.3f}")
    if entry.get("wasserstein") is not None:
        parts.append(f"Wasserstein {entry['wasserstein']:.4g}")
    adjusted = entry.get("p_value_adjusted")
    p_value = entry.get("p_value") if adjusted is None else adjusted
    if p_value is not None:
        parts.append(f"{'adjusted ' if adjusted is not None else ''}p {p_value:.2g}")
    if entry.get("unseen_categories"):
        parts.append("unseen: " + ", ".join(map(str, entry["unseen_categories"][:5])))
    verdict = ("drifted" if entry.get("drifted")
               else "insufficient data, not decided" if entry.get("status") == "insufficient_data"
               else "stable under the rule")
    return f"{what}: {'; '.join(parts)} - {verdict}."


def drift_overlay_chart(entry: dict, *, title: str, x_label: str) -> str:
    """Reference (filled) against batch (outlined) over the review's own bins: the PSI bins
    of a numeric feature (open end bins), or the categories of a categorical one."""
    overlay = entry.get("overlay") or {}
    if "categories" in overlay:
        bins = list(overlay["categories"])
    else:
        bins = [float("-inf"), *overlay.get("edges", []), float("inf")]
    n = max(len(bins) - (0 if "categories" in overlay else 1), 0)
    reference = overlay.get("reference") or [None] * n
    current = overlay.get("current") or [None] * n
    return overlay_histogram(bins, reference, current, title=title, x_label=x_label,
                             labels=("Reference", "Batch"))


def drift_overlay_figures(results: dict) -> list[dict]:
    """One overlay per feature (drifted first), then the predictions' overlay."""
    features = sorted(results.get("features") or [], key=lambda f: not f.get("drifted"))
    figures = [{
        "feature": f["name"], "drifted": bool(f.get("drifted")),
        "svg": drift_overlay_chart(f, title=f"{f['name']}: reference vs batch", x_label=f["name"]),
        "caption": _drift_caption(f, f["name"]),
    } for f in features]
    prediction = results.get("prediction")
    if prediction:
        figures.append({
            "feature": "(predictions)", "drifted": bool(prediction.get("drifted")),
            "svg": drift_overlay_chart(prediction, title="Model output: reference vs batch",
                                       x_label="Predicted probability" if prediction.get("kind") == "numeric"
                                       else "Predicted class"),
            "caption": _drift_caption(prediction, "Model output"),
        })
    return figures


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def history_points(results: dict) -> dict[str, float]:
    """A drift review's headline numbers for the system page's over-time chart: the highest
    feature PSI, the prediction PSI and the accuracy drop on labelled batch rows (when there
    were labels)."""
    points = {}
    psis = [f.get("psi") for f in results.get("features") or [] if _number(f.get("psi"))]
    if psis:
        points["psi"] = max(psis)
    prediction = results.get("prediction") or {}
    if _number(prediction.get("psi")):
        points["prediction_drift"] = prediction["psi"]
    performance = results.get("performance") or {}
    if _number(performance.get("drop")):
        points["performance_drop"] = performance["drop"]
    return points


HISTORY_LIMITS = {"psi": "below 0.1 is stable, 0.1-0.25 a moderate shift, above 0.25 a major one",
                  "prediction_drift": "read like PSI: above 0.25 is a major shift"}


def headline(results: dict) -> dict:
    """The headline numbers for exports (model cards, OSCAL): how many inputs drifted, the breach,
    and the accuracy estimated without labels (with the realized accuracy when labels came)."""
    if "features" not in results:
        return results
    out = {"features_drifted": sum(1 for f in results["features"] if f.get("drifted")),
           "features_reviewed": len(results["features"]), "breach": int(bool(results.get("breach")))}
    estimate = results.get("performance_estimate")
    if estimate:
        out["estimated_accuracy"] = {"value": estimate["estimate"], "ci": [estimate["low"], estimate["high"]]}
        if estimate.get("realized") is not None:
            out["realized_accuracy"] = estimate["realized"]
        out["estimated_accuracy_by_group"] = {
            f"{feature} = {row['group']}": {"value": row["estimate"], "ci": [row["low"], row["high"]]}
            for feature, g in (estimate.get("groups") or {}).items() for row in g["groups"]}
    performance = results.get("performance")
    if performance and performance.get("current") is not None:
        out["accuracy_on_batch"] = performance["current"]
    return out
