from django import template
from django.utils.safestring import mark_safe

from audits.figures import METRIC_LABELS, fairness_group_chart

register = template.Library()


@register.filter
def metric(m) -> str:
    """{"value": 0.74, "ci": [0.65, 0.83]} -> "0.740 (0.650–0.830)"; None -> "—"."""
    if not isinstance(m, dict) or m.get("value") is None:
        return "—"
    text = f"{m['value']:.3f}"
    ci = m.get("ci")
    if ci and ci[0] is not None and ci[1] is not None:
        text += f" ({ci[0]:.3f}–{ci[1]:.3f})"
    return text


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def metric_label(key) -> str:
    return METRIC_LABELS.get(key, str(key).replace("_", " "))


@register.simple_tag
def fairness_chart(results, feature, metric_name="selection_rate"):
    return mark_safe(fairness_group_chart(results, feature, metric=metric_name))  # charts escape their text
