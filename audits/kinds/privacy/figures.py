"""The privacy audit's charts: membership-inference ROC curves and model-inversion reconstructions."""

from __future__ import annotations

import html as _html

from governance.core.charts import line_chart

ATTACK_LABELS = {"black_box": "Learned", "rule_based": "Rule-based"}


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


def inversion_page(results: dict) -> list[dict]:
    """The reconstructions for the run page, ready to show (the SVGs escape their text)."""
    from django.utils.safestring import mark_safe

    return [{**row, "reconstruction_svg": mark_safe(row["reconstruction_svg"]),  # noqa: S308
             "mean_svg": mark_safe(row["mean_svg"])} for row in inversion_images(results)]  # noqa: S308
