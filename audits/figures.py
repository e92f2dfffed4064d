"""Charts from stored audit results, shared by the web pages and the PDF report."""

from __future__ import annotations

from audits.reports.charts import bar_chart_with_intervals, coverage_bars

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
        # Labels must fit the chart's label column (24 characters): intersections show their levels
        # only ("female · [18, 25)"), and a dagger, explained in the title, marks insufficient data.
        label = " · ".join(str(v) for v in g["levels"].values()) if g.get("levels") else g["group"]
        marker = " †" if g["status"] != "ok" else ""
        items.append({"label": f"{label} n={g['count']}{marker}", "value": m.get("value"), "ci": m.get("ci")})
    where = " × ".join(block.get("features") or []) or "intersection" if feature == "intersectional" else feature
    title = f"{METRIC_LABELS.get(metric, metric)} by {where}"
    if any(g["status"] != "ok" for g in block["groups"]):
        title += " († insufficient data)"
    return bar_chart_with_intervals(items, title=title, x_label=METRIC_LABELS.get(metric, metric), x_range=(0, 1))


def coverage_chart(rows: list[dict], *, title: str) -> str:
    """Control statuses per AI RMF function or ISO objective: one stacked bar per row.

    ``rows``: ``[{"label": "GOVERN", "counts": {"satisfied": 3, ...}}]`` (see charts.coverage_bars).
    """
    return coverage_bars(rows, title=title)


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
                "caption": f"{METRIC_LABELS[metric]} by {where}, with {level} bootstrap intervals.",
            })
    return figures


# Audit kind -> function(results) -> [{"svg", "caption", ...}]. Each audit kind that has charts
# adds one line here; the report and the pages draw a kind's figures from stored results only.
REPORT_FIGURES = {
    "fairness": fairness_figures,
}


def report_figures(kind: str, results: dict) -> list[dict]:
    build = REPORT_FIGURES.get(kind)
    return build(results or {}) if build else []


# --- drift reviews and data quality (audits/runners/drift.py, audits/runners/data_quality.py) ---

from audits.reports.charts import overlay_histogram  # noqa: E402 - appended section, kept self-contained


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
    p_value = entry.get("p_value_adjusted", entry.get("p_value"))
    if p_value is not None:
        parts.append(f"{'adjusted ' if 'p_value_adjusted' in entry else ''}p {p_value:.2g}")
    if entry.get("unseen_categories"):
        parts.append("unseen: " + ", ".join(map(str, entry["unseen_categories"][:5])))
    verdict = "drifted" if entry.get("drifted") else "stable under the rule"
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


def drift_figures(results: dict) -> list[dict]:
    """The review's stored overlays (the runner stores them as SVG), else drawn again."""
    return list(results.get("figures") or drift_overlay_figures(results))


def data_quality_figures(results: dict) -> list[dict]:
    """Group shares in the training data against the expected shares, per compared column."""
    figures = []
    for check in results.get("checks") or []:
        if check.get("name") != "representation":
            continue
        for column, detail in (check.get("detail") or {}).items():
            groups = detail.get("groups") if isinstance(detail, dict) else None
            if not groups:
                continue
            figures.append({
                "feature": column,
                "svg": overlay_histogram(
                    [g["group"] for g in groups], [g["expected_share"] for g in groups],
                    [g["observed_share"] for g in groups], title=f"Representation of {column}",
                    x_label=column, labels=("Expected", "Training data"), normalize=False,
                ),
                "caption": f"Share of each {column} group in the training data (outlined) against the "
                           f"expected share (filled); status {detail.get('status')}.",
            })
    return figures


REPORT_FIGURES["drift"] = drift_figures
REPORT_FIGURES["data_quality"] = data_quality_figures


# --- security audits: robustness, poisoning, privacy, DP retraining (audits/runners/{robustness,...}.py) ---

import html as _html  # noqa: E402 - appended section, kept self-contained

from audits.reports.charts import line_chart  # noqa: E402

ATTACK_LABELS = {"fgsm": "FGSM", "pgd": "PGD", "hopskipjump": "HopSkipJump", "black_box": "Learned",
                 "rule_based": "Rule-based"}


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


def poisoning_rate_chart(results: dict) -> str:
    s = results.get("susceptibility") or {}
    rows = s.get("backdoor") or []
    if not rows:
        return ""
    base = s.get("baseline") or {}
    series = [
        {"name": "Attack success rate", "points": [(0.0, base.get("attack_success_rate"))]
         + [(r["rate"], r["attack_success_rate"]) for r in rows]},
        {"name": "Clean accuracy", "points": [(0.0, base.get("clean_accuracy"))]
         + [(r["rate"], r["clean_accuracy"]) for r in rows]},
    ]
    return line_chart(series, title="Backdoor success and clean accuracy by poisoning rate",
                      x_label="Share of training rows poisoned", y_label="Rate", y_range=(0, 1))


def poisoning_figures(results: dict) -> list[dict]:
    svg = poisoning_rate_chart(results)
    return [{"feature": "rates", "svg": svg, "caption": "After retraining with the version's own recipe on backdoored "
             "copies (rate 0 is the clean retrain): a model that keeps its clean accuracy while the attack succeeds "
             "hides its backdoor."}] if svg else []


def roc_chart(attacks: dict, *, title: str, suffix: str = "") -> str:
    """ROC curves of membership attacks, with the chance diagonal."""
    series = [{"name": ATTACK_LABELS.get(name, name) + suffix + f", AUC {a['auc']:.2f}",
               "points": list(zip(a["roc"]["fpr"], a["roc"]["tpr"]))} for name, a in attacks.items()]
    series.append({"name": "Chance", "points": [(0.0, 0.0), (1.0, 1.0)]})
    return line_chart(series, title=title, x_label="False positive rate", y_label="True positive rate",
                      y_range=(0, 1), x_range=(0, 1))


def image_svg(image, *, title: str, size: int = 64) -> str:
    """A [C][H][W] image with values in [0, 1] as an inline SVG of grey squares (first channel).

    No raster encoding needed, prints crisply in the PDF, and carries a title for screen readers."""
    rows = image[0] if image and isinstance(image[0][0], list) else image
    height, width = len(rows), len(rows[0]) if rows else 0
    cells = []
    for y, row in enumerate(rows):
        for x, value in enumerate(row):
            level = 255 - int(round(max(0.0, min(1.0, float(value))) * 255))  # ink on paper: 1 is black
            cells.append(f'<rect x="{x}" y="{y}" width="1" height="1" fill="#{level:02x}{level:02x}{level:02x}"/>')
    label = _html.escape(title, quote=True)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" width="{size}" '
            f'height="{size * height // max(width, 1)}" viewBox="0 0 {width} {height}" shape-rendering="crispEdges">'
            f'<title>{label}</title><rect width="{width}" height="{height}" fill="#fff" stroke="#999" '
            f'stroke-width="0.05"/>{"".join(cells)}</svg>')


def privacy_figures(results: dict) -> list[dict]:
    mia = results.get("membership_inference") or {}
    figures = []
    if mia.get("attacks"):
        n = mia.get("attack_eval") or {}
        figures.append({"feature": "roc", "svg": roc_chart(mia["attacks"], title="Membership inference ROC"),
                        "caption": f"Scored on {n.get('members')} members and {n.get('non_members')} non-members the "
                                   "attacks were not fitted on; the diagonal is guessing."})
    return figures


def inversion_images(results: dict) -> list[dict]:
    """Per class: the MIFace reconstruction next to the class's mean training image."""
    inversion = results.get("inversion") or {}
    means = inversion.get("class_means") or {}
    out = []
    for row in inversion.get("classes") or []:
        mean = means.get(str(row["class"]))
        label = row["class"]
        out.append({**row,
                    "reconstruction_svg": image_svg(row["image"], title=f"MIFace reconstruction of class {label}"),
                    "mean_svg": image_svg(mean, title=f"Mean training image of class {label}") if mean else ""})
    return out


def dp_figures(results: dict) -> list[dict]:
    mia = (results.get("comparison") or {}).get("membership_inference") or {}
    figures = []
    for when in ("before", "after"):
        attacks = (mia.get(when) or {}).get("attacks")
        if attacks:
            model = "original" if when == "before" else "DP-retrained"
            figures.append({"feature": when, "svg": roc_chart(attacks, title=f"Membership inference ROC, {when} DP"),
                            "caption": f"Membership attacks on the {model} model."})
    return figures


REPORT_FIGURES["robustness"] = robustness_figures
REPORT_FIGURES["poisoning"] = poisoning_figures
REPORT_FIGURES["privacy"] = privacy_figures
REPORT_FIGURES["dp_retraining"] = dp_figures
