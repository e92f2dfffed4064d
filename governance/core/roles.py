"""Roles (Django groups) and the one permission matrix the server enforces.

Every service that changes state calls `require(actor, action, system)` first, so the
pages, the API and management commands share one set of rules.
"""

from __future__ import annotations

from django.db.models import TextChoices

from governance.core.exceptions import PermissionDeniedError


class Role(TextChoices):
    MODEL_OWNER = "model_owner", "Model owner"
    RISK_OFFICER = "risk_officer", "Risk officer (independent validator)"
    SECURITY_REVIEWER = "security_reviewer", "Security reviewer"
    COMPLIANCE_OFFICER = "compliance_officer", "Compliance officer"
    EXECUTIVE_APPROVER = "executive_approver", "Executive approver"
    AUDITOR = "auditor", "Auditor (read-only)"
    ADMIN = "admin", "Administrator"


R = Role
# The roles that sign releases off (approval stages are made of these).
DECIDING_ROLES = {Role.RISK_OFFICER, Role.SECURITY_REVIEWER, Role.COMPLIANCE_OFFICER, Role.EXECUTIVE_APPROVER}
# action -> roles allowed. "owner" means: a model owner who owns the system in question;
# "control_owner": the person who answers for the control in question on that system (any role).
PERMISSIONS: dict[str, set[str]] = {
    "system.view": {r.value for r in Role},
    "system.create": {R.MODEL_OWNER, R.ADMIN},
    "system.edit": {"owner", R.ADMIN},
    "dataset.register": {"owner", R.ADMIN},
    "version.register": {"owner", R.ADMIN},
    "assessment.update": {R.COMPLIANCE_OFFICER, R.RISK_OFFICER, R.ADMIN},
    # A policy, procedure or written attestation as evidence on controls (catalog/documents.py).
    "document.attach": {R.COMPLIANCE_OFFICER, R.ADMIN, "control_owner"},
    "audit.request": {"owner", R.RISK_OFFICER, R.SECURITY_REVIEWER, R.COMPLIANCE_OFFICER, R.ADMIN},
    # A signed report for regulators, built from stored results (audits/reports/service.py).
    "report.generate": {"owner", R.RISK_OFFICER, R.SECURITY_REVIEWER, R.COMPLIANCE_OFFICER, R.ADMIN},
    # Approvals (governance/approvals/). Deciding also needs a role of the request's current
    # stage, and never the requester or the version's creator (segregation of duties). Admins
    # run the platform; they do not sign releases off.
    "approval.request": {"owner", R.ADMIN},
    "approval.decide": {R.RISK_OFFICER, R.SECURITY_REVIEWER, R.COMPLIANCE_OFFICER, R.EXECUTIVE_APPROVER},
    "approval.revoke": {R.RISK_OFFICER, R.COMPLIANCE_OFFICER, R.EXECUTIVE_APPROVER, R.ADMIN},
    # Accepting an inconclusive audit result (governance/approvals/risk.py) is a risk owner's call.
    "risk.accept": {R.RISK_OFFICER, R.EXECUTIVE_APPROVER},
    "policy.edit": {R.COMPLIANCE_OFFICER, R.ADMIN},
    "gate.read": {r.value for r in Role},
    # Incidents, outside reports and appeals (governance/incidents/): auditors read, never manage;
    # the regulator's export is for whoever files it (compliance) and whoever checks it (auditors).
    "incident.view": {"owner", R.RISK_OFFICER, R.COMPLIANCE_OFFICER, R.AUDITOR, R.ADMIN},
    "incident.manage": {"owner", R.RISK_OFFICER, R.COMPLIANCE_OFFICER, R.ADMIN},
    "incident.export": {R.COMPLIANCE_OFFICER, R.AUDITOR, R.ADMIN},
    "trail.view": {R.AUDITOR, R.COMPLIANCE_OFFICER, R.RISK_OFFICER, R.ADMIN},
    "trail.export": {R.AUDITOR, R.COMPLIANCE_OFFICER, R.ADMIN},
}

DENIED = "Your role does not allow this ({action}). Roles that may: {roles}."


def role_label(role: str) -> str:
    """A role's label ("Risk officer (independent validator)"); an unknown value as it is."""
    return Role(role).label if role in Role.values else str(role)


def user_roles(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) & {r.value for r in Role}
        if user.is_superuser:
            cached.add(Role.ADMIN.value)
        user._role_cache = cached
    return cached


def can(user, action: str, system=None, *, assessment=None) -> bool:
    """`assessment`: the control on a system the action is about, for "control_owner"."""
    allowed = PERMISSIONS[action]
    roles = user_roles(user)
    if roles & allowed:
        return True
    if "control_owner" in allowed and assessment is not None and roles and assessment.owner_id == user.pk:
        return True
    if "owner" in allowed and Role.MODEL_OWNER in roles:
        # An owner may act on their own systems only; with no system given (e.g. a list), any.
        return system is None or system.owner_id == user.pk
    return False


OWNER_WORDS = {"owner": "the system's owner", "control_owner": "the control's owner"}


def require(user, action: str, system=None, *, assessment=None) -> None:
    if not can(user, action, system, assessment=assessment):
        names = sorted(role_label(r) if r in Role.values else OWNER_WORDS[r] for r in PERMISSIONS[action])
        raise PermissionDeniedError(DENIED.format(action=action, roles=", ".join(names)))
