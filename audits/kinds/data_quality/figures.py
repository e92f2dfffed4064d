"""The data-quality audit's charts, drawn from stored results when a page or report renders."""

from __future__ import annotations

from governance.core.charts import overlay_histogram


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
