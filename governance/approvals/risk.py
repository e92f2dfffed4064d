"""Risk acceptance: a named person accepts an inconclusive audit result, in writing, until a date.

Why it exists: an audit is inconclusive when its sampling intervals straddle a threshold,
which on a small evaluation set is the usual answer (the demo's 300-row German credit test
split cannot show a demographic-parity difference <= 0.10 either way). The gate never
treats inconclusive as a pass on its own; NIST AI RMF MANAGE 1.3 and ISO/IEC 42001 6.1.3
let an accountable person accept a residual risk instead, and this records who did, in which
role, why, and until when. The gate then counts that run as met for that environment and
says so in its answer (`accepted_by`, `justification`, `expires_at`).

Rules, enforced here:
- only the roles allowed `risk.accept` (risk officer, executive approver);
- only the latest succeeded run of a kind the environment's policy requires, only when it
  is inconclusive with no failed check: a failure is fixed, never accepted;
- never the version's creator, nor anyone who requested its approval for that environment,
  and whoever accepted may not request it afterwards (segregation of duties, as for approvals);
- a written justification, and an end no later than the policy's maximum age for the audit
  (or 90 days where the policy sets none).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import IntegrityError, transaction
from django.utils import timezone

from audits.runs.models import AuditRun, RunStatus
from governance.approvals.models import ApprovalRequest, RiskAcceptance
from governance.core.exceptions import (
    ApplicationError,
    ConflictError,
    PermissionDeniedError,
)
from governance.core.roles import PERMISSIONS, can, require, role_label, user_roles
from governance.policies.models import Environment
from governance.policies.services import policy_for
from governance.trail.hashchain import iso_timestamp
from governance.trail.services import trail_append

DEFAULT_DAYS = 90
MIN_JUSTIFICATION = 20

BAD_ENVIRONMENT = "environment must be one of: staging, production."
NOT_REQUIRED = "The {env} policy '{policy}' does not require a {kind} audit; there is nothing to accept."
NOT_LATEST = "Only the latest {kind} audit of version {version} can be accepted; this run has been superseded."
NOT_INCONCLUSIVE = ("Only an inconclusive result can be accepted; this run is {outcome}. A failed check must be "
                    "fixed (retrain, mitigate, or change the policy through the compliance officer).")
HAS_FAILED_CHECK = "This run has {n} failed check(s); a failure is fixed, never accepted."
JUSTIFICATION = ("justification: write at least {n} characters on why the residual risk is acceptable and "
                 "how it is watched.")
BAD_EXPIRY = "expires_at must be in the future and no later than {limit} (the audit's maximum age)."
SOD_CREATOR = "You created version {version}; someone else must accept its risks (segregation of duties)."
SOD_OWNER = "You own {system}; someone independent of it must accept its risks (segregation of duties)."
SOD_PRODUCER = ("You requested the audit or retraining that produced version {version}; someone else must "
                "accept its risks (segregation of duties).")
SOD_REQUESTER = "You requested this version's {env} approval; someone else must accept its risks (segregation of duties)."
CHOOSE_ROLE = "role: you hold several roles that may accept risks ({roles}); choose one."
NOT_YOUR_ROLE = "role: you do not hold the role {role}."
ALREADY = "This run is already accepted for {env} (by {who})."


def acceptance_limit(run, policy) -> datetime:
    """The latest an acceptance of `run` may last: the audit's maximum age under the policy."""
    max_age = ((policy.audit_requirements or {}).get(run.kind) or {}).get("max_age_days")
    return run.finished_at + timedelta(days=max_age if max_age is not None else DEFAULT_DAYS)


def _role(actor, role: str | None) -> str:
    allowed = sorted(user_roles(actor) & PERMISSIONS["risk.accept"])
    if role:
        if role not in allowed:
            raise ApplicationError(NOT_YOUR_ROLE.format(role=role), field="role")
        return role
    if len(allowed) > 1:
        raise ApplicationError(CHOOSE_ROLE.format(roles=", ".join(role_label(r) for r in allowed)), field="role")
    return allowed[0]


def _check_run(run, *, environment: str, policy) -> None:

    if run.kind not in (policy.audit_requirements or {}):
        raise ApplicationError(NOT_REQUIRED.format(env=environment, policy=policy.name, kind=run.kind), field="run")
    latest = (AuditRun.objects.filter(version_id=run.version_id, kind=run.kind, status=RunStatus.SUCCEEDED)
              .order_by("-finished_at").values_list("pk", flat=True).first())
    if latest != run.pk:
        raise ConflictError(NOT_LATEST.format(kind=run.kind, version=run.version.version))
    if run.outcome != "inconclusive":
        raise ConflictError(NOT_INCONCLUSIVE.format(outcome=run.outcome or "unfinished"))
    failed = sum(1 for c in run.checks or [] if c.get("outcome") == "fail")
    if failed:
        raise ConflictError(HAS_FAILED_CHECK.format(n=failed))


def risk_accept(*, actor, run, environment: str, justification: str, expires_at: datetime | None = None,
                role: str | None = None) -> RiskAcceptance:
    """Accept the inconclusive `run` for `environment` (see the module docstring for the rules)."""
    version = run.version
    require(actor, "risk.accept", version.system)
    if environment not in Environment.values:
        raise ApplicationError(BAD_ENVIRONMENT, field="environment")
    justification = (justification or "").strip()
    if len(justification) < MIN_JUSTIFICATION:
        raise ApplicationError(JUSTIFICATION.format(n=MIN_JUSTIFICATION), field="justification")
    if actor.pk == version.created_by_id:
        raise PermissionDeniedError(SOD_CREATOR.format(version=version.version))
    if actor.pk == version.system.owner_id:
        raise PermissionDeniedError(SOD_OWNER.format(system=version.system.name))
    if actor.pk == version.requested_by_id:
        raise PermissionDeniedError(SOD_PRODUCER.format(version=version.version))
    if ApprovalRequest.objects.filter(version=version, environment=environment, requested_by=actor).exists():
        raise PermissionDeniedError(SOD_REQUESTER.format(env=environment))
    role = _role(actor, role)
    policy = policy_for(risk_tier=version.system.risk_tier, environment=environment)
    _check_run(run, environment=environment, policy=policy)
    now, limit = timezone.now(), acceptance_limit(run, policy)
    expires_at = expires_at or limit
    if not now < expires_at <= limit:
        raise ApplicationError(BAD_EXPIRY.format(limit=f"{limit:%Y-%m-%d %H:%M} UTC"), field="expires_at")
    undecided = [f"{c.get('metric')} on {c.get('feature')}: {c.get('value')}" for c in run.checks or []
                 if c.get("outcome") == "inconclusive"]
    try:
        with transaction.atomic():
            acceptance = RiskAcceptance.objects.create(
                audit_run=run, environment=environment, role=role, accepted_by=actor,
                justification=justification, expires_at=expires_at)
            trail_append(actor=actor, action="risk.accepted", obj=version, seal=[acceptance], payload={
                "run": str(run.pk), "kind": run.kind, "environment": environment, "role": role,
                "justification": justification, "expires_at": iso_timestamp(expires_at),
                "inconclusive_checks": undecided,
            })
    except IntegrityError:
        existing = RiskAcceptance.objects.select_related("accepted_by").get(audit_run=run, environment=environment)
        raise ConflictError(ALREADY.format(env=environment, who=existing.accepted_by.get_username())) from None
    return acceptance


def risk_acceptances_for_version(*, version) -> list[RiskAcceptance]:
    return list(RiskAcceptance.objects.filter(audit_run__version=version)
                .select_related("accepted_by", "audit_run").order_by("-accepted_at"))


def inconclusive_audits(*, user, version, environment: str, answer: dict) -> dict:
    """For the approval page: the required audits of the gate `answer` whose latest run is
    inconclusive, their undecided checks, any acceptance of them for `environment`, the last
    day one may last, and whether (and in which roles) `user` may accept them."""
    rows = [a for a in answer["audits"] if a["outcome"] == "inconclusive" and a["run"]]
    if not rows:
        return {"audits": []}
    runs = {str(pk): run for pk, run in AuditRun.objects.in_bulk([a["run"] for a in rows]).items()}
    accepted = {str(a.audit_run_id): a for a in risk_acceptances_for_version(version=version)
                if a.environment == environment}
    policy = policy_for(risk_tier=version.system.risk_tier, environment=environment)
    now = timezone.now()
    audits = []
    for row in rows:
        run = runs.get(row["run"])
        if run is None:
            continue
        checks = run.checks or []
        acceptance = accepted.get(row["run"])
        audits.append({
            "kind": row["kind"], "run": run, "met": row["met"],
            "checks": [c for c in checks if c.get("outcome") == "inconclusive"],
            "failed": sum(1 for c in checks if c.get("outcome") == "fail"),
            "acceptance": acceptance, "role_label": role_label(acceptance.role) if acceptance else "",
            "ended": bool(acceptance and acceptance.expires_at <= now),
            "limit": acceptance_limit(run, policy).astimezone(dt_timezone.utc).date(),
        })
    roles = sorted(user_roles(user) & PERMISSIONS["risk.accept"])
    return {"audits": audits, "may_accept": can(user, "risk.accept", version.system),
            "roles": [(r, role_label(r)) for r in roles], "today": now.astimezone(dt_timezone.utc).date()}
