"""The approvals panel on the system page (templates/systems/_approvals.html)."""

from django import template

from governance import approvals, gate, roles
from governance.models import Environment
from governance.roles import can

register = template.Library()


@register.inclusion_tag("approvals/_panel.html", takes_context=True)
def approvals_panel(context):
    """Per version: the latest approval request and the gate's answer in each environment,
    in a constant number of queries; the owner's "request approval" form."""
    system, user = context["system"], context["request"].user
    versions = list(context.get("versions") or [])
    envs = Environment.values
    answers = gate.gate_evaluate_many(system=system, versions=versions, environments=envs)
    latest = {}
    for req in approvals.approval_requests_list(system_slug=system.slug):
        latest.setdefault((req.version_id, req.environment), req)
    rows = [
        {"version": v, "envs": [{"env": env, "gate": answers[(v.pk, env)], "request": latest.get((v.pk, env))}
                                for env in envs]}
        for v in versions
    ]
    return {
        "system": system, "rows": rows, "environments": Environment.choices, "versions": versions,
        "can_request": can(user, "approval.request", system), "csrf_token": context.get("csrf_token"),
        "request": context["request"],
    }


@register.filter
def role_label(value) -> str:
    return roles.role_label(value)


CHIP = {"approved": "pass", "rejected": "fail", "revoked": "fail", "expired": "not_started", "draft": "not_started",
        "submitted": "in_progress", "in_review": "in_progress", "approve": "pass", "reject": "fail"}


@register.filter
def approval_chip(status) -> str:
    """The app.css chip class for an approval status or decision."""
    return CHIP.get(status, "info")
