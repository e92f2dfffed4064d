"""Tags for the security audits' result pages (templates/runs/results/{robustness,...}.html)."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from audits import figures

register = template.Library()


def _safe(items: list[dict], *keys: str) -> list[dict]:
    # The charts escape every text they hold (audits/reports/charts.py, audits/figures.image_svg).
    return [{**item, **{k: mark_safe(item.get(k) or "") for k in keys}} for item in items]  # noqa: S308


@register.simple_tag
def security_figures(kind: str, results: dict) -> list[dict]:
    """{% security_figures run.kind run.results as charts %}: the kind's charts from stored results."""
    return _safe(figures.report_figures(kind, results), "svg")


@register.simple_tag
def inversion_images(results: dict) -> list[dict]:
    return _safe(figures.inversion_images(results), "reconstruction_svg", "mean_svg")


@register.filter
def f3(value, digits=3) -> str:
    """0.7391 -> "0.739"; None -> "—"."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{value:.{int(digits)}f}"


@register.filter
def pct(value, digits=0) -> str:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{100 * value:.{int(digits)}f}%"


@register.filter
def sci(value) -> str:
    """A small number such as delta: 1.4e-05; None -> "—"."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{value:.2g}"


@register.filter
def lookup(mapping, key):
    """{{ d|lookup:key }} for keys that are not identifiers ("0.1")."""
    if not isinstance(mapping, dict):
        return None
    return mapping.get(key, mapping.get(str(key)))
