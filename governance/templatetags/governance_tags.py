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


# --- Dashboard pages (portfolio, system page, inbox, wizard) ----------------------------------

from governance import glossary  # noqa: E402

# A symbol next to every status colour, so colour is never the only cue (WCAG 1.4.1).
STATUS_SYMBOLS = {"satisfied": "✓", "failed": "✗", "in_progress": "◐", "not_started": "○", "not_applicable": "–",
                  "pass": "✓", "fail": "✗", "inconclusive": "?", "error": "!", "running": "◐", "queued": "○",
                  "allow": "✓", "deny": "✗", "info": "i"}


@register.filter
def symbol(status) -> str:
    return STATUS_SYMBOLS.get(str(status), "")


@register.filter
def explain(metric):
    """{{ "demographic_parity_difference"|explain }} -> a glossary Term (label, measures, matters, if_fails)."""
    return glossary.term(metric)


@register.filter
def audit_term(kind):
    return glossary.audit(kind)


@register.filter
def status_text(status) -> str:
    return glossary.status_text(status)


@register.filter
def outcome_text(outcome) -> str:
    return glossary.outcome_text(outcome)


@register.simple_tag(takes_context=True)
def inbox_count(context) -> int:
    """How many approval requests wait for this user's decision (the badge in the main menu)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    cached = getattr(request, "_inbox_count", None)
    if cached is None:
        from governance.approvals import approvals_awaiting

        cached = request._inbox_count = len(approvals_awaiting(user=user))
    return cached


@register.simple_tag(takes_context=True)
def can_do(context, action, system=None) -> bool:
    from governance.roles import can

    request = context.get("request")
    return bool(request and can(request.user, action, system))


@register.filter
def short_ref(ref) -> str:
    """'MEASURE 2.11' -> '2.11'; 'A.6.2.4' -> '6.2.4' (the group is already the row's label)."""
    ref = str(ref)
    if " " in ref:
        return ref.rsplit(" ", 1)[1]
    return ref[2:] if ref.startswith("A.") else ref


@register.filter
def kind_label(kind) -> str:
    """'fairness' -> 'Fairness slices' (the registry's label, else the glossary's)."""
    from audits.registry import KINDS

    spec = KINDS.get(str(kind))
    return spec.label if spec else glossary.audit(kind).label


@register.filter
def role_name(role) -> str:
    from governance.roles import role_label

    return role_label(role)
