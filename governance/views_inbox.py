"""The approvals inbox: what waits for me, with the evidence that matters to my role, and a
one-step decision (approve or reject, with a comment) through governance.approvals."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from audits.registry import KINDS
from governance import approvals, glossary
from governance.exceptions import ApplicationError
from governance.models import ApprovalRequest
from governance.roles import Role
from governance.selectors import ROLE_KINDS, inbox


def _focus(roles: set[str]) -> tuple[list[str], bool]:
    """The audit kinds to show first for these roles, and whether to show the executive summary."""
    kinds: list[str] = []
    for role in sorted(roles):
        for kind in ROLE_KINDS.get(role, []):
            if kind not in kinds:
                kinds.append(kind)
    return kinds, Role.EXECUTIVE_APPROVER in roles or not kinds


@login_required
def inbox_page(request):
    data = inbox(user=request.user)
    kinds, summary = _focus(data["roles"])
    for r in data["awaiting"]:
        r.focus = [{"kind": k, "label": glossary.audit(k).label, "why": glossary.audit(k).matters,
                    "run": r.runs.get(k)} for k in kinds]
        r.others = [run for kind, run in sorted(r.runs.items()) if kind not in kinds]
        r.role_choices = [(role, Role(role).label) for role in approvals.approval_options(
            user=request.user, request=r).roles]
    return render(request, "inbox/inbox.html", {
        **data, "focus_kinds": [glossary.audit(k).label for k in kinds], "summary": summary,
        "role_labels": [Role(r).label for r in sorted(data["roles"])],
        "kind_labels": {k: v.label for k, v in KINDS.items()},
    })


@login_required
@require_POST
def inbox_decide(request, pk):
    """Approve or reject in one step; the service enforces roles, stages and segregation of duties."""
    req = get_object_or_404(ApprovalRequest.objects.select_related("version__system"), pk=pk)
    decision = request.POST.get("decision", "")
    try:
        approvals.approval_decide(actor=request.user, request=req, decision=decision,
                                  comment=request.POST.get("comment", ""), role=request.POST.get("role") or None)
    except ApplicationError as exc:
        messages.error(request, f"{req.version.system.name} {req.version.version}: {exc.message}")
    else:
        verb = "approved" if decision == "approve" else "rejected"
        messages.success(request, f"You {verb} {req.version.system.name} {req.version.version} for "
                                  f"{req.environment}. The owner and the next approvers were told.")
    return redirect("inbox")
