"""Tags for drift reviews and data quality: the system page's drift panel and number formats."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from audits.drift_selectors import system_drift_panel

register = template.Library()


@register.simple_tag(takes_context=True)
def drift_panel(context):
    """{% drift_panel as drift %} on the system page (which puts `system` in the context)."""
    request = context.get("request")
    return system_drift_panel(system=context["system"], user=getattr(request, "user", None))


@register.filter
def sig(value, digits=3) -> str:
    """A statistic or p-value at `digits` significant figures; None -> "—"."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{value:.{int(digits)}g}"


@register.filter
def percent(value, digits=1) -> str:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{100 * value:.{int(digits)}f}%"


@register.filter
def svg(markup) -> str:
    """Charts from audits/figures.py escape every text they hold (audits/reports/charts.py)."""
    return mark_safe(markup or "")  # noqa: S308 - see docstring
