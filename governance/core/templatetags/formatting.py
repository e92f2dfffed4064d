"""The one formatting library for pages and reports: numbers, intervals, labels and symbols.

`{% load formatting %}`. Every filter answers "—" for a missing or non-numeric value, so a
template never shows "None".
"""

from __future__ import annotations

import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from governance.core import glossary, roles

register = template.Library()

MISSING = "—"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@register.filter
def num(value, digits=3) -> str:
    """0.7391 -> "0.739"; 1234 -> "1,234"; None -> "—"."""
    if not _is_number(value):
        return MISSING
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{int(digits)}f}"


@register.filter
def sig(value, digits=3) -> str:
    """A statistic or p-value at `digits` significant figures (delta: `|sig:2` -> 1.4e-05)."""
    return f"{value:.{int(digits)}g}" if _is_number(value) else MISSING


@register.filter
def percent(value, digits=0) -> str:
    """0.953 -> "95%"; with `:1`, "95.3%"."""
    return f"{100 * value:.{int(digits)}f}%" if _is_number(value) else MISSING


@register.filter
def ci(interval) -> str:
    """[0.61, 0.83] -> "0.610–0.830"; None -> "—"."""
    if not isinstance(interval, (list, tuple)) or len(interval) != 2 or None in interval:
        return MISSING
    return f"{num(interval[0])}–{num(interval[1])}"


@register.filter
def metric(m) -> str:
    """{"value": 0.74, "ci": [0.65, 0.83]} -> "0.740 (0.650–0.830)"; None -> "—"."""
    if not isinstance(m, dict) or m.get("value") is None:
        return MISSING
    interval = ci(m.get("ci"))
    return num(m["value"]) + ("" if interval == MISSING else f" ({interval})")


@register.filter
def value_ci(m) -> str:
    """The value over its interval, for narrow table cells."""
    if not isinstance(m, dict) or m.get("value") is None:
        return MISSING
    interval = ci(m.get("ci"))
    if interval == MISSING:
        return num(m["value"])
    return format_html('{}<span class="ci">{}</span>', num(m["value"]), interval)


@register.filter
def get(mapping, key):
    """{{ d|get:key }}, also for keys that are not identifiers ("0.1") or numbers stored as text."""
    if not isinstance(mapping, dict):
        return None
    return mapping.get(key, mapping.get(str(key)))


@register.filter
def svg(markup) -> str:
    """Charts from governance/core/charts.py escape every text they hold."""
    return mark_safe(markup or "")  # noqa: S308 - see docstring


@register.filter
def as_json(value) -> str:
    """Parameters and seeds as compact JSON (what the API shows), not Python's repr."""
    return json.dumps(value, sort_keys=True, separators=(", ", ": "), default=str)


@register.filter
def humanize_key(key) -> str:
    return str(key).replace("_", " ").replace(".", " · ")


@register.filter
def short(text, length=12) -> str:
    return str(text or "")[: int(length)]


@register.filter
def for_feature(figures, feature):
    """The figures of one feature (or "intersectional") from a list of figure dicts."""
    return [f for f in figures or [] if f.get("feature") == feature]


SHORT_LABELS = {"tpr": "TPR", "fpr": "FPR", "ece": "ECE"}


@register.filter
def short_label(key) -> str:
    """A metric's name for a narrow column header: "TPR", "Selection rate"."""
    return SHORT_LABELS.get(key) or glossary.term(key).label


@register.filter
def metric_label(key) -> str:
    return glossary.term(key).label


@register.filter
def short_ref(ref) -> str:
    """'MEASURE 2.11' -> '2.11'; 'A.6.2.4' -> '6.2.4' (the group is already the row's label)."""
    ref = str(ref)
    if " " in ref:
        return ref.rsplit(" ", 1)[1]
    return ref[2:] if ref.startswith("A.") else ref


# A symbol next to every status colour, so colour is never the only cue (WCAG 1.4.1).
STATUS_SYMBOLS = {"satisfied": "✓", "stale": "⌛", "failed": "✗", "in_progress": "◐", "not_started": "○", "not_applicable": "–",
                  "pass": "✓", "fail": "✗", "inconclusive": "?", "error": "!", "running": "◐", "queued": "○",
                  "allow": "✓", "deny": "✗", "info": "i"}


# How a heatmap cell says what covers its control (catalog/evidence.py COVERAGE), beside words.
COVERAGE_MARKS = {"both": "A+D", "audit": "A", "document": "D", "none": ""}
COVERAGE_WORDS = {"both": "an audit and a document", "audit": "an audit", "document": "a document", "none": "nothing"}


@register.filter
def coverage_mark(coverage) -> str:
    return COVERAGE_MARKS.get(str(coverage), "")


@register.filter
def coverage_words(coverage) -> str:
    return COVERAGE_WORDS.get(str(coverage), str(coverage))


@register.filter
def symbol(status) -> str:
    return STATUS_SYMBOLS.get(str(status), "")


@register.filter
def run_state(run) -> str:
    return glossary.run_state(run)


@register.filter
def run_label(run) -> str:
    return glossary.run_label(run)


@register.filter
def explain(metric_name):
    """{{ "demographic_parity_difference"|explain }} -> a glossary Term (label, measures, matters, if_fails)."""
    return glossary.term(metric_name)


@register.filter
def audit_term(kind):
    return glossary.audit(kind)


@register.filter
def kind_label(kind) -> str:
    """'fairness' -> 'Fairness slices'."""
    return glossary.kind_label(kind)


@register.filter
def status_text(status) -> str:
    return glossary.status_text(status)


@register.filter
def outcome_text(outcome, kind=None) -> str:
    return glossary.outcome_text(outcome, kind)


@register.filter
def outcome_label(outcome, kind=None) -> str:
    """{{ ev.outcome|outcome_label:ev.kind }}: "warning" for a data quality "inconclusive"."""
    return glossary.outcome_label(outcome, kind)


@register.filter
def role_label(role) -> str:
    return roles.role_label(role)


CHIP = {"approved": "pass", "rejected": "fail", "revoked": "fail", "expired": "not_started", "draft": "not_started",
        "submitted": "in_progress", "in_review": "in_progress", "approve": "pass", "reject": "fail"}


@register.filter
def approval_chip(status) -> str:
    """The app.css chip class for an approval status or decision."""
    return CHIP.get(status, "info")


@register.simple_tag(takes_context=True)
def can_do(context, action, system=None) -> bool:
    request = context.get("request")
    return bool(request and roles.can(request.user, action, system))
