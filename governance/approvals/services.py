"""Approval workflow: request -> submitted -> in review (stage by stage) -> approved or
rejected; later expired or revoked. Services write (keyword-only, `approval_<action>`);
governance/approvals/selectors.py reads.

Segregation of duties, checked in `eligibility` and kept by the database too
(one decision per person per request, one per role per stage):
- the requester and the version's creator never decide the request, nor accept its risks,
  and whoever accepted a risk on it never requests it (governance/approvals/risk.py);
- one person never fills two roles (or two stages) on the same request.

Decisions lock the request row first (`select_for_update`; on SQLite, which has no row
locks, a no-op UPDATE takes the write lock instead), so two people deciding at the same
moment are applied one after the other and the second sees the first's result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from governance.approvals.models import (
    ApprovalDecision,
    ApprovalRequest,
    ApprovalStatus,
    Decision,
    RiskAcceptance,
)
from governance.approvals.notifications import approval_notify
from governance.approvals.signals import approval_revoked
from governance.catalog.evidence import evidence_record
from governance.core.exceptions import (
    ApplicationError,
    ConflictError,
    PermissionDeniedError,
)
from governance.core.glossary import clauses
from governance.core.roles import DECIDING_ROLES, require, role_label, user_roles
from governance.policies.models import Environment, Policy
from governance.policies.services import policies_ensure_defaults
from governance.registry.models import ModelVersion
from governance.trail.services import trail_append

BAD_ENVIRONMENT = "environment must be one of: staging, production."
ALREADY_OPEN = "{name} already has an approval request for {env} ({status}); decide, revoke or let it expire first."
NOT_DRAFT = "Only a draft can be submitted; this request is {status}."
NOT_PENDING = "This request is {status}; only submitted or in-review requests take decisions."
BAD_DECISION = "decision must be approve or reject."
REJECT_NEEDS_COMMENT = "comment: say why you reject, so the owner can act on it."
SOD_REQUESTER = "You requested this approval; someone else must decide it (segregation of duties)."
SOD_CREATOR = "You created version {version}; someone else must approve it (segregation of duties)."
SOD_OWNER = "You own {system}; someone independent of it must approve its versions (segregation of duties)."
SOD_PRODUCER = ("You requested the audit or retraining that produced version {version}; someone else must "
                "approve it (segregation of duties).")
SOD_ACCEPTED = ("You accepted a risk on this version for {env}; someone else must request its approval "
                "(segregation of duties).")
SOD_TWICE = "You already decided this request as {role}; one person never fills two roles on the same request."
WRONG_STAGE = "Stage {stage} of {count} needs {needed}; your roles: {mine}."
CHOOSE_ROLE = "role: you hold several roles stage {stage} still needs ({roles}); choose one."
ROLE_NOT_NEEDED = "role: stage {stage} does not need {role} (it still needs {needed})."
BAD_STAGES = "The policy '{policy}' has no valid approval stages ({stages!r}); fix it in the admin."
NOT_REVOCABLE = "This request is {status}; only a pending or approved request can be revoked."
REASON_REQUIRED = "reason: say why the approval is revoked."
MIN_GAP_JUSTIFICATION = 20
ACKNOWLEDGE_GAPS = ("acknowledge: {name} does not meet its {env} policy ({gaps}). Confirm that you have read what "
                    "it misses, and say why in {field}.")
JUSTIFY_GAPS = ("{field}: {name} does not meet its {env} policy; write at least {n} characters on why you "
                "{verb} it anyway.")

# The gate (an app above this one) says what a version misses of its policy: it registers its
# answer here when Django starts (governance/gate/apps.py). Without it nothing is missing.
_policy_gaps = None


def register_policy_gaps(function) -> None:
    """function(version, environment) -> [reason, ...] (empty when the policy is met)."""
    global _policy_gaps
    _policy_gaps = function


def policy_gaps(*, version: ModelVersion, environment: str) -> list[str]:
    return list(_policy_gaps(version, environment)) if _policy_gaps else []


def _eyes_open(*, version, environment: str, acknowledge: bool, text: str, field: str, verb: str) -> list[str]:
    """The version's policy gaps, once the person has acknowledged them and said why; else a 400."""
    gaps = policy_gaps(version=version, environment=environment)
    if not gaps:
        return []
    name = f"{version.system.slug}@{version.version}"
    if not acknowledge:
        raise ApplicationError(ACKNOWLEDGE_GAPS.format(name=name, env=environment, gaps=clauses(gaps), field=field),
                               field="acknowledge", extra={"gaps": gaps})
    if len(text) < MIN_GAP_JUSTIFICATION:
        raise ApplicationError(JUSTIFY_GAPS.format(field=field, name=name, env=environment, n=MIN_GAP_JUSTIFICATION,
                                                   verb=verb), field=field, extra={"gaps": gaps})
    return gaps


def _labels(roles) -> str:
    return ", ".join(role_label(r) for r in roles) or "none"


def _name(request: ApprovalRequest) -> str:
    return f"{request.version.system.slug}@{request.version.version}"


def _locked(pk) -> ApprovalRequest:
    qs = ApprovalRequest.objects.filter(pk=pk)
    if connection.vendor == "sqlite":
        # No row locks on SQLite: writing first takes the database write lock, so a concurrent
        # decider waits here (busy timeout) instead of failing later with "database is locked".
        qs.update(status=F("status"))
    return (
        qs.select_for_update(of=("self",))
        .select_related("version__system__owner", "version__created_by", "requested_by", "policy")
        .get()
    )


def _clean_stages(policy: Policy) -> list[list[str]]:
    stages = policy.approval_stages
    ok = (
        isinstance(stages, list) and stages
        and all(isinstance(s, list) and s and all(r in DECIDING_ROLES for r in s) and len(set(s)) == len(s)
                for s in stages)
    )
    if not ok:
        raise ApplicationError(BAD_STAGES.format(policy=policy.name, stages=stages), field="policy")
    return [list(s) for s in stages]


def _policy(*, risk_tier: str, environment: str) -> Policy:
    policy = Policy.objects.filter(risk_tier=risk_tier, environment=environment).first()
    if policy is None:
        policies_ensure_defaults()
        policy = Policy.objects.get(risk_tier=risk_tier, environment=environment)
    return policy


def _policy_snapshot(policy: Policy) -> dict:
    return {
        "id": policy.pk, "name": policy.name, "risk_tier": policy.risk_tier, "environment": policy.environment,
        "audit_requirements": policy.audit_requirements, "require_signed_report": policy.require_signed_report,
        "approval_stages": policy.approval_stages, "approval_valid_days": policy.approval_valid_days,
        "updated_at": policy.updated_at.isoformat() if policy.updated_at else None,
    }


def _submit(request: ApprovalRequest, *, actor) -> None:
    policy = request.policy
    request.stages = _clean_stages(policy)
    request.policy_snapshot = _policy_snapshot(policy)
    request.status = ApprovalStatus.SUBMITTED
    request.current_stage = 1
    request.submitted_at = timezone.now()
    request.save(update_fields=["stages", "policy_snapshot", "status", "current_stage", "submitted_at"])
    trail_append(actor=actor, action="approval.submitted", obj=request, payload={
        "version": str(request.version_id), "environment": request.environment, "policy": policy.name,
        "stages": request.stages,
    })
    approval_notify(event="approval.requested", request=request)


def approval_request_create(
    *, actor, version: ModelVersion, environment: str, justification: str = "", submit: bool = True,
    acknowledge: bool = False,
) -> ApprovalRequest:
    """Open a request for `version` in `environment` and, by default, submit it at once.

    A version that does not meet its policy (a failed, missing, inconclusive or stale required
    audit, a missing signed report, an open finding) can be requested only with eyes open:
    `acknowledge` and a written justification, both stored and shown to the approvers."""
    system = version.system
    require(actor, "approval.request", system)
    if environment not in Environment.values:
        raise ApplicationError(BAD_ENVIRONMENT, field="environment")
    if RiskAcceptance.objects.filter(audit_run__version=version, environment=environment, accepted_by=actor).exists():
        raise PermissionDeniedError(SOD_ACCEPTED.format(env=environment))
    open_one = ApprovalRequest.objects.filter(version=version, environment=environment,
                                              status__in=[s.value for s in _open()]).first()
    if open_one is not None:
        raise ConflictError(ALREADY_OPEN.format(name=f"{system.slug}@{version.version}", env=environment,
                                                status=open_one.get_status_display().lower()),
                            extra={"request": str(open_one.pk)})
    justification = (justification or "").strip()
    gaps = _eyes_open(version=version, environment=environment, acknowledge=acknowledge, text=justification,
                      field="justification", verb="request")
    policy = _policy(risk_tier=system.risk_tier, environment=environment)
    request = ApprovalRequest(version=version, environment=environment, policy=policy,
                              justification=justification, requested_by=actor, acknowledged_gaps=gaps)
    request.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            request.save()
            trail_append(actor=actor, action="approval.requested", obj=request, payload={
                "version": str(version.pk), "system": system.slug, "environment": environment,
                "justification": justification, "acknowledged_gaps": gaps,
            })
            if submit:
                _submit(request, actor=actor)
    except IntegrityError:  # a concurrent request for the same version and environment won
        raise ConflictError(ALREADY_OPEN.format(name=f"{system.slug}@{version.version}", env=environment,
                                                status="just opened")) from None
    return request


def _open():
    return [ApprovalStatus.DRAFT, ApprovalStatus.SUBMITTED, ApprovalStatus.IN_REVIEW, ApprovalStatus.APPROVED]


def approval_request_submit(*, actor, request: ApprovalRequest) -> ApprovalRequest:
    require(actor, "approval.request", request.version.system)
    with transaction.atomic():
        request = _locked(request.pk)
        if request.status != ApprovalStatus.DRAFT:
            raise ConflictError(NOT_DRAFT.format(status=request.get_status_display().lower()))
        _submit(request, actor=actor)
    return request


@dataclass
class Eligibility:
    allowed: bool
    roles: list[str] = field(default_factory=list)  # the roles this person may sign as now
    reason: str = ""
    forbidden: bool = True  # a refusal about who you are (403), not about the request's state (409)


def pending_roles(request: ApprovalRequest, decisions: list[ApprovalDecision]) -> list[str]:
    """Roles of the current stage that have not approved yet."""
    if not request.is_pending or not 1 <= request.current_stage <= request.stage_count:
        return []
    done = {d.role for d in decisions if d.stage == request.current_stage and d.decision == Decision.APPROVE}
    return [r for r in request.stages[request.current_stage - 1] if r not in done]


def eligibility(user, request: ApprovalRequest, decisions: list[ApprovalDecision]) -> Eligibility:
    if not request.is_pending:
        return Eligibility(False, reason=NOT_PENDING.format(status=request.get_status_display().lower()),
                           forbidden=False)
    if user.pk == request.requested_by_id:
        return Eligibility(False, reason=SOD_REQUESTER)
    if user.pk == request.version.created_by_id:
        return Eligibility(False, reason=SOD_CREATOR.format(version=request.version.version))
    if user.pk == request.version.system.owner_id:
        return Eligibility(False, reason=SOD_OWNER.format(system=request.version.system.name))
    if user.pk == request.version.requested_by_id:
        return Eligibility(False, reason=SOD_PRODUCER.format(version=request.version.version))
    mine = [d for d in decisions if d.user_id == user.pk]
    if mine:
        return Eligibility(False, reason=SOD_TWICE.format(role=role_label(mine[0].role)))
    needed = pending_roles(request, decisions)
    held = user_roles(user)
    roles = [r for r in needed if r in held]
    if not roles:
        return Eligibility(False, reason=WRONG_STAGE.format(
            stage=request.current_stage, count=request.stage_count, needed=_labels(needed),
            mine=_labels(sorted(held))))
    return Eligibility(True, roles=roles)


def approval_decide(
    *, actor, request: ApprovalRequest, decision: str, comment: str = "", role: str | None = None,
    acknowledge: bool = False,
) -> ApprovalDecision:
    """Record one person's decision at the current stage; move the request on.

    Approving a version that does not meet its policy needs `acknowledge` and a comment saying
    why (stored with the decision); a rejection always needs a comment."""
    require(actor, "approval.decide", request.version.system)
    if decision not in Decision.values:
        raise ApplicationError(BAD_DECISION, field="decision")
    comment = (comment or "").strip()
    if decision == Decision.REJECT and not comment:
        raise ApplicationError(REJECT_NEEDS_COMMENT, field="comment")
    with transaction.atomic():
        request = _locked(request.pk)
        decisions = list(request.decisions.all())
        who = eligibility(actor, request, decisions)
        if not who.allowed:
            raise (PermissionDeniedError if who.forbidden else ConflictError)(who.reason)
        if role is None or role == "":
            if len(who.roles) > 1:
                raise ApplicationError(CHOOSE_ROLE.format(stage=request.current_stage, roles=_labels(who.roles)),
                                       field="role")
            role = who.roles[0]
        elif role not in who.roles:
            raise ApplicationError(ROLE_NOT_NEEDED.format(stage=request.current_stage, role=role_label(role),
                                                          needed=_labels(pending_roles(request, decisions))),
                                   field="role")
        gaps = (_eyes_open(version=request.version, environment=request.environment, acknowledge=acknowledge,
                           text=comment, field="comment", verb="approve") if decision == Decision.APPROVE else [])
        row = ApprovalDecision.objects.create(request=request, stage=request.current_stage, role=role, user=actor,
                                              decision=decision, comment=comment, acknowledged_gaps=gaps)
        decisions.append(row)
        _advance(request, row, decisions)
        trail_append(actor=actor, action="approval.decision", obj=request, seal=[row], payload={
            "stage": row.stage, "role": role, "decision": decision, "comment": comment, "status": request.status,
            "version": str(request.version_id), "environment": request.environment, "acknowledged_gaps": gaps,
        })
        approval_notify(event="approval.decided", request=request, extra={
            "decision": {"stage": row.stage, "role": role, "user": actor.get_username(), "decision": decision,
                         "comment": comment},
            "message": f"{actor.get_full_name() or actor.get_username()} ({role_label(role)}) chose to {decision}"
                       + (f": {comment}" if comment else "."),
        })
    return row


def _advance(request: ApprovalRequest, row: ApprovalDecision, decisions: list[ApprovalDecision]) -> None:
    now = timezone.now()
    fields = ["status", "current_stage"]
    if row.decision == Decision.REJECT:
        request.status = ApprovalStatus.REJECTED
        request.decided_at = now
        fields.append("decided_at")
    elif pending_roles(request, decisions):
        request.status = ApprovalStatus.IN_REVIEW
    elif request.current_stage < request.stage_count:
        request.status = ApprovalStatus.IN_REVIEW
        request.current_stage += 1
    else:
        days = int(request.policy_snapshot.get("approval_valid_days") or request.policy.approval_valid_days)
        request.status = ApprovalStatus.APPROVED
        request.decided_at = request.approved_at = now
        request.expires_at = now + timedelta(days=days)
        fields += ["decided_at", "approved_at", "expires_at"]
    request.save(update_fields=fields)
    if request.status == ApprovalStatus.APPROVED:
        signers = "; ".join(f"{role_label(d.role)} {d.user.get_username()}" for d in decisions)
        evidence_record(system=request.version.system, kind="approval", outcome="pass", version=request.version,
                        summary=f"{_name(request)} approved for {request.environment} by {signers}; "
                                f"valid until {request.expires_at:%Y-%m-%d}.",
                        link=f"/approvals/{request.pk}/")
    elif request.status == ApprovalStatus.REJECTED:
        evidence_record(system=request.version.system, kind="approval", outcome="info", version=request.version,
                        summary=f"{_name(request)} rejected for {request.environment} by {role_label(row.role)} "
                                f"{row.user.get_username()}: {row.comment}",
                        link=f"/approvals/{request.pk}/")


def _revoke(request: ApprovalRequest, *, actor, reason: str, status=ApprovalStatus.REVOKED) -> None:
    """Revoke (or expire) a locked request: row, evidence, the gate's rollback, trail, notices."""
    was_approved = request.status == ApprovalStatus.APPROVED
    now = timezone.now()
    request.status = status
    if status == ApprovalStatus.REVOKED:
        request.revoked_at, request.revoked_reason = now, reason
    request.decided_at = request.decided_at or now
    request.save(update_fields=["status", "revoked_at", "revoked_reason", "decided_at"])
    verb = "revoked" if status == ApprovalStatus.REVOKED else "expired"
    system = request.version.system
    evidence_record(system=system, kind="approval", outcome="info", version=request.version,
                    summary=f"The {request.environment} approval of {_name(request)} was {verb}: {reason}",
                    link=f"/approvals/{request.pk}/")
    # The gate names (and records as evidence) the version to roll back to, if one is still allowed.
    answers = approval_revoked.send(sender=ApprovalRequest, request=request, was_approved=was_approved)
    target = next((found for _, found in answers if found is not None), None)
    trail_append(actor=actor, action=f"approval.{verb}", obj=request, payload={
        "reason": reason, "was_approved": was_approved, "version": str(request.version_id),
        "environment": request.environment, "rollback_to": target.version if target else None,
    })
    # A revocation's reason is on the request (the email says it once); an expiry's is the message.
    approval_notify(event=f"approval.{verb}", request=request,
                    extra={"message": "" if status == ApprovalStatus.REVOKED else reason,
                           "rollback_to": target.version if target else None})


def approval_revoke(*, actor, request: ApprovalRequest, reason: str) -> ApprovalRequest:
    """A person withdraws a pending or approved request (e.g. new evidence came to light)."""
    require(actor, "approval.revoke", request.version.system)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(REASON_REQUIRED, field="reason")
    with transaction.atomic():
        request = _locked(request.pk)
        if request.status not in {ApprovalStatus.SUBMITTED, ApprovalStatus.IN_REVIEW, ApprovalStatus.APPROVED,
                                  ApprovalStatus.DRAFT}:
            raise ConflictError(NOT_REVOCABLE.format(status=request.get_status_display().lower()))
        _revoke(request, actor=actor, reason=reason)
    return request


def approvals_revoke_for_version(*, version: ModelVersion, reason: str, actor=None) -> list[ApprovalRequest]:
    """Revoke every open request of `version`, in all environments: a failing audit or a
    drift breach means the evidence approvers signed on no longer holds. Idempotent."""
    revoked = []
    with transaction.atomic():
        for pk in ApprovalRequest.objects.filter(version=version, status__in=_open()).values_list("pk", flat=True):
            request = _locked(pk)
            if request.status in _open():
                _revoke(request, actor=actor, reason=reason)
                revoked.append(request)
    return revoked


def approvals_audit_finished(*, run, outcome: str, version=None) -> list[ApprovalRequest]:
    """A failing audit revokes the approvals of the version its checks judged (on the runs
    app's `audit_finished`): the run's own, or the one it registered (DP retraining)."""
    if outcome != "fail":
        return []
    reason = f"The {run.kind} audit (run {run.pk}) failed against the policy; see /runs/{run.pk}/."
    return approvals_revoke_for_version(version=version or run.version, reason=reason, actor=f"audit:{run.kind}")


def approvals_expire(*, now=None) -> dict:
    """Expire approvals past their date; warn about those expiring within the warning window.
    Run by the periodic task `governance.approvals_sweep`."""
    now = now or timezone.now()
    expired = []
    for pk in ApprovalRequest.objects.filter(status=ApprovalStatus.APPROVED, expires_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            request = _locked(pk)
            if request.status == ApprovalStatus.APPROVED and request.expires_at <= now:
                days = request.policy_snapshot.get("approval_valid_days")
                _revoke(request, actor=None, status=ApprovalStatus.EXPIRED,
                        reason=f"the policy's approval period ({days} days) ended on {request.expires_at:%Y-%m-%d}.")
                expired.append(str(pk))
    warned = []
    horizon = now + timedelta(days=settings.APPROVAL_EXPIRY_WARNING_DAYS)
    due = ApprovalRequest.objects.filter(status=ApprovalStatus.APPROVED, expires_at__gt=now, expires_at__lte=horizon,
                                         expiry_notice_sent_at__isnull=True)
    for request in due.select_related("version__system"):
        with transaction.atomic():
            # Claim the notice with a conditional UPDATE, so two sweeps never both send it.
            if ApprovalRequest.objects.filter(pk=request.pk, expiry_notice_sent_at__isnull=True).update(
                    expiry_notice_sent_at=now):
                approval_notify(event="approval.expiring", request=request,
                                extra={"message": f"It expires on {request.expires_at:%Y-%m-%d %H:%M} UTC; "
                                                  "request a new approval before then."})
                warned.append(str(request.pk))
    return {"expired": expired, "warned": warned}
