"""The deploy gate: may this model version ship to this environment, and why not?

`gate_evaluate` reads everything the answer depends on in a constant number of queries
(`_facts`, batched over versions, so the system page and the rollback search cost the
same as one answer), then `_decide` applies the policy in plain Python:

- every audit kind the policy requires has a latest succeeded run on this version whose
  outcome is "pass" (or "inconclusive" with an unexpired risk acceptance for this environment,
  governance/approvals/risk.py), judged against the policy's current thresholds, younger than max age;
  unless a compliance officer marked the control that defines the kind not applicable to the
  system, with a reason (AuditKind.defining_control: fairness for a system that
  decides nothing about people), which waives the requirement;
- a current signed report, when the policy requires one (and it covers the latest audits);
- no open findings: no control failed by this version's own latest audits, nor by a finding
  about the system as a whole (a control failed by hand). Another version's failing audit
  is that version's finding: it does not block this one, which is what makes a rollback
  to an earlier version possible after a drift breach on the newest;
- no open serious incident about this version, when the policy says so
  (`deny_open_serious_incidents`, governance/incidents/): the reason names it;
- an approved, unexpired, unrevoked approval request for this environment.

`gate_answer` is what the API serves: the evaluation, the change log (a changed answer is
written to the audit trail once) and a signed attestation (governance/gate/attestation.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audits.drift.selectors import KIND as DRIFT
from audits.drift.selectors import batch_review, production_breach
from audits.runs.models import RunStatus
from audits.runs.registry import KINDS
from governance.approvals.models import ApprovalStatus
from governance.approvals.services import pending_roles
from governance.core.exceptions import ApplicationError, NotFoundError
from governance.core.glossary import clauses
from governance.core.roles import role_label
from governance.gate import attestation, reads
from governance.gate.keys import signing_key
from governance.gate.models import GateState
from governance.incidents.selectors import open_serious_incidents
from governance.policies.models import Environment, Policy
from governance.policies.services import policy_for
from governance.registry.models import AISystem, ModelVersion
from governance.trail.hashchain import iso_timestamp
from governance.trail.services import trail_append

ALLOW, DENY = "allow", "deny"
BAD_ENVIRONMENT = "environment must be one of: staging, production."
NO_ALLOWED_VERSION = "No version of {system} is currently allowed in {env}."

# Reasons, in words a release engineer understands. Each names what to do next.
R_NO_AUDIT = "No successful {kind} audit on this version; run one."
R_AUDIT_ERROR = ("The latest {kind} audit could not run ({when}): {error} It did not fail the policy; fix the "
                 "cause and run it again.")
R_AUDIT_FAILED = "The latest {kind} audit ({when}) failed the policy: {details}"
R_AUDIT_INCONCLUSIVE = ("The latest {kind} audit ({when}) was inconclusive ({n} could not be decided), and "
                        "inconclusive does not meet the policy: evaluate on more data, or a risk officer or "
                        "executive approver may accept the result for {env} in writing.")
R_AUDIT_OUTCOME = "The latest {kind} audit ({when}) has no pass outcome ({outcome!r}); rerun it."
R_AUDIT_STALE = "The latest {kind} audit is {age} days old; the policy allows {max_age}. Run it again."
R_AUDIT_THRESHOLDS = ("The latest {kind} audit ({when}) was judged against other thresholds than the policy now sets; "
                      "run it again.")
R_REPORT_UNAVAILABLE = ("The policy requires a signed report, but signed reports are not available on this "
                        "installation, so this requirement cannot be met.")
R_NO_REPORT = "The policy requires a signed report for this version; none is signed. Generate and sign one."
R_REPORT_OLD = "The signed report {number} predates the latest {kind} audit; sign a new report."
R_FINDINGS = ("{n} control(s) have open findings from this version's audits or about the system: {refs}. "
              "Resolve them, or record why they do not apply.")
R_SERIOUS_INCIDENT = ("Serious incident {reference} ({title!r}, opened {day}) is open on this version; the policy "
                      "denies a version with an open serious incident until the incident is closed.")
R_NO_APPROVAL = "No approval request for {env}; the model owner must request one."
R_PENDING = "The {env} approval is in review: stage {stage} of {count} still needs {needed}."
R_DRAFT = "The {env} approval request is still a draft; the model owner must submit it."
R_REJECTED = "The {env} approval was rejected by {who} on {when}: {comment}"
R_REVOKED = "The {env} approval was revoked on {when}: {reason}"
R_EXPIRED = "The {env} approval expired on {when}; request a new one."


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "?"


@dataclass
class Facts:
    policies: dict
    runs: dict  # version_id -> {kind: latest succeeded AuditRun}
    reports: dict | None  # version_id -> current signed Report; None when reports are not installed
    findings: list  # [(version_id or None, control ref)], see gate_reads.control_facts
    not_applicable: dict  # control ref -> reason, for the controls that define audit kinds
    requests: dict  # (version_id, env) -> [ApprovalRequest, newest first]
    states: dict  # (version_id, env) -> GateState
    acceptances: dict  # (run_id, env) -> RiskAcceptance of an inconclusive latest run
    errors: dict = field(default_factory=dict)  # version_id -> {kind: newer run that could not run}
    incidents: dict = field(default_factory=dict)  # version_id -> [open serious Incident]; read when a policy asks


def _facts(*, system: AISystem, versions: list[ModelVersion], environments: list[str]) -> Facts:
    """Everything the answers depend on, for all `versions` at once: six statements (seven when a
    policy denies open serious incidents)."""
    ids = [v.pk for v in versions]
    policies = reads.policies(risk_tier=system.risk_tier, environments=environments)
    for env in environments:
        if env not in policies:  # no row: the documented default, so an empty database still has a rule
            policies[env] = policy_for(risk_tier=system.risk_tier, environment=env)
    kinds = sorted({k for p in policies.values() for k in (p.audit_requirements or {})})
    needs_report = any(p.require_signed_report for p in policies.values())
    runs, errors = reads.latest_runs_and_errors(version_ids=ids, kinds=kinds)
    return Facts(
        policies=policies,
        runs=runs,
        errors=errors,
        reports=reads.current_reports(version_ids=ids) if needs_report else {},
        **_controls(reads.control_facts(system_ids=[system.pk])[system.pk]),
        requests=reads.approval_requests(version_ids=ids, environments=environments),
        states=reads.gate_states(version_ids=ids, environments=environments),
        acceptances=reads.risk_acceptances(runs=runs, environments=environments),
        incidents=incidents_if_asked(policies.values(), ids),
    )


def incidents_if_asked(policies, version_ids: list) -> dict:
    """The open serious incidents of the versions, one statement; none when no policy asks."""
    if any(p.deny_open_serious_incidents for p in policies):
        return open_serious_incidents(version_ids=version_ids)
    return {}


def _incidents(version, policy: Policy, facts: Facts) -> tuple[list[dict], list[str]]:
    found = facts.incidents.get(version.pk, []) if policy.deny_open_serious_incidents else []
    rows = [{"reference": i.reference, "title": i.title, "opened_at": i.opened_at.isoformat(), "status": i.status,
             "category": i.serious_category} for i in found]
    return rows, [R_SERIOUS_INCIDENT.format(reference=i.reference, title=i.title, day=_day(i.opened_at))
                  for i in found]


def _controls(facts: dict) -> dict:
    """Facts' findings and not_applicable fields from gate_reads.control_facts' answer."""
    return {"findings": facts["findings"], "not_applicable": facts["not_applicable"]}


def _threshold_pairs(thresholds: dict) -> set:
    pairs = set()
    for metric, spec in (thresholds or {}).items():
        for op, value in (spec or {}).items():
            pairs.add((metric, "<=" if op == "max" else ">=", float(value)))
    return pairs


def _acceptance_info(acceptance) -> dict:
    return {"by": acceptance.accepted_by.get_username(), "role": acceptance.role,
            "justification": acceptance.justification, "accepted_at": acceptance.accepted_at.isoformat(),
            "expires_at": acceptance.expires_at.isoformat()}


def _audits(version, policy: Policy, env: str, facts: Facts, now) -> tuple[list[dict], list[str], list[datetime]]:
    rows, reasons, expiries = [], [], []
    for kind, spec in sorted((policy.audit_requirements or {}).items()):
        spec = spec or {}
        max_age = spec.get("max_age_days")
        run = facts.runs.get(version.pk, {}).get(kind)
        error = facts.errors.get(version.pk, {}).get(kind)
        row = {"kind": kind, "required": True, "max_age_days": max_age, "run": None, "outcome": None,
               "finished_at": None, "age_days": None, "met": False, "accepted": None, "not_applicable": None,
               "error": ({"run": str(error.pk), "message": error.error, "finished_at": error.finished_at.isoformat()}
                         if error is not None and error.finished_at else None)}
        rows.append(row)
        control = KINDS[kind].defining_control
        if control in facts.not_applicable:  # waived for this system, in writing
            row.update(met=True, not_applicable={"control": control, "reason": facts.not_applicable[control]})
            continue
        if run is None:
            if row["error"]:
                reasons.append(R_AUDIT_ERROR.format(kind=kind, when=f"run {row['error']['run'][:8]}, "
                                                    f"{_day(error.finished_at)}",
                                                    error=(error.error or "no message").rstrip(".") + "."))
            else:
                reasons.append(R_NO_AUDIT.format(kind=kind))
            continue
        age = (now - run.finished_at).total_seconds() / 86400
        row.update(run=str(run.pk), outcome=run.outcome, finished_at=run.finished_at.isoformat(),
                   age_days=round(age, 2))
        when = f"run {str(run.pk)[:8]}, {_day(run.finished_at)}"
        checks = run.checks or []
        wanted = _threshold_pairs(spec.get("thresholds"))
        used = {(c.get("metric"), c.get("operator"), float(c["threshold"])) for c in checks
                if c.get("threshold") is not None}
        acceptance = facts.acceptances.get((run.pk, env)) if run.outcome == "inconclusive" else None
        if acceptance is not None and acceptance.expires_at <= now:
            acceptance = None  # expired: inconclusive again
        if run.outcome == "fail":
            failed = [c.get("explanation") or f"{c.get('metric')} on {c.get('feature')}" for c in checks
                      if c.get("outcome") == "fail"]
            reasons.append(R_AUDIT_FAILED.format(kind=kind, when=when,
                                                 details=clauses(failed) + "." if failed else "see the run."))
        elif run.outcome == "inconclusive" and acceptance is None:
            n = sum(1 for c in checks if c.get("outcome") == "inconclusive")
            reasons.append(R_AUDIT_INCONCLUSIVE.format(kind=kind, when=when, n=f"{n} check{'s' * (n != 1)}",
                                                       env=env))
        elif run.outcome not in ("pass", "inconclusive"):
            reasons.append(R_AUDIT_OUTCOME.format(kind=kind, when=when, outcome=run.outcome))
        elif wanted and not wanted <= used:
            reasons.append(R_AUDIT_THRESHOLDS.format(kind=kind, when=when))
        elif max_age is not None and age > max_age:
            reasons.append(R_AUDIT_STALE.format(kind=kind, age=int(age), max_age=max_age))
        else:
            row["met"] = True
            if acceptance is not None:  # met by a risk acceptance, which ends on its own date
                row["accepted"] = _acceptance_info(acceptance)
                expiries.append(acceptance.expires_at)
            if max_age is not None:
                expiries.append(run.finished_at + timedelta(days=max_age))
    return rows, reasons, expiries


def _report(version, policy: Policy, facts: Facts) -> tuple[dict | None, list[str]]:
    if not policy.require_signed_report:
        return None, []
    if facts.reports is None:
        return None, [R_REPORT_UNAVAILABLE]
    report = facts.reports.get(version.pk)
    if report is None:
        return None, [R_NO_REPORT]
    info = {"id": str(report.pk), "number": getattr(report, "report_number", ""), "sha256": report.sha256,
            "created_at": report.created_at.isoformat()}
    for kind, run in sorted(facts.runs.get(version.pk, {}).items()):
        if kind in (policy.audit_requirements or {}) and report.created_at < run.finished_at:
            return info, [R_REPORT_OLD.format(number=info["number"] or info["id"][:8], kind=kind)]
    return info, []


def _approval(requests: list, env: str, now) -> tuple[dict | None, list[str], datetime | None]:
    if not requests:
        return None, [R_NO_APPROVAL.format(env=env)], None
    req = requests[0]
    decisions = req.gate_decisions
    info = {
        "id": str(req.pk), "status": req.status, "stage": req.current_stage, "stages": req.stages,
        "policy": req.policy_snapshot.get("name"), "requested_by": req.requested_by.get_username(),
        "submitted_at": req.submitted_at.isoformat() if req.submitted_at else None,
        "approved_at": req.approved_at.isoformat() if req.approved_at else None,
        "expires_at": req.expires_at.isoformat() if req.expires_at else None,
        "revoked_reason": req.revoked_reason or None,
        # What the version missed of its policy when it was requested, acknowledged in writing.
        "justification": req.justification or None, "acknowledged_gaps": req.acknowledged_gaps or [],
        "decisions": [{"stage": d.stage, "role": d.role, "user": d.user.get_username(),
                       "name": d.user.get_full_name() or d.user.get_username(), "decision": d.decision,
                       "comment": d.comment, "decided_at": d.decided_at.isoformat(),
                       "acknowledged_gaps": d.acknowledged_gaps or []} for d in decisions],
    }
    status = req.status
    if status == ApprovalStatus.APPROVED and req.expires_at and req.expires_at > now:
        return info, [], req.expires_at
    if status == ApprovalStatus.APPROVED or status == ApprovalStatus.EXPIRED:
        return info, [R_EXPIRED.format(env=env, when=_day(req.expires_at))], None
    if status == ApprovalStatus.REVOKED:
        return info, [R_REVOKED.format(env=env, when=_day(req.revoked_at), reason=req.revoked_reason)], None
    if status == ApprovalStatus.REJECTED:
        rejection = next((d for d in decisions if d.decision == "reject"), None)
        who = f"{rejection.user.get_username()} ({role_label(rejection.role)})" if rejection else "an approver"
        return info, [R_REJECTED.format(env=env, who=who, when=_day(req.decided_at),
                                        comment=rejection.comment if rejection else "")], None
    if status == ApprovalStatus.DRAFT:
        return info, [R_DRAFT.format(env=env)], None
    needed = ", ".join(role_label(r) for r in pending_roles(req, decisions)) or "a decision"
    return info, [R_PENDING.format(env=env, stage=req.current_stage, count=req.stage_count, needed=needed)], None


def _was_allowed(version, env: str, facts: Facts) -> bool:
    state = facts.states.get((version.pk, env))
    if state is not None and state.first_allowed_at is not None:
        return True
    return any(r.approved_at for r in facts.requests.get((version.pk, env), []))


def gate_decide(system: AISystem, version: ModelVersion, env: str, facts: Facts, now) -> dict:
    """The gate's rule over facts already read; public so the portfolio, which reads facts
    for many systems at once, gives exactly the answer the gate API would."""
    policy = facts.policies[env]
    audits, reasons, expiries = _audits(version, policy, env, facts, now)
    report, report_reasons = _report(version, policy, facts)
    reasons += report_reasons
    findings = reads.version_findings(facts.findings, version.pk)
    if findings:
        refs = ", ".join(findings[:8]) + (" ..." if len(findings) > 8 else "")
        reasons.append(R_FINDINGS.format(n=len(findings), refs=refs))
    incidents, incident_reasons = _incidents(version, policy, facts)
    reasons += incident_reasons
    # What the version misses of its policy, the approval aside: whoever requests or approves it
    # must acknowledge these in writing (governance/approvals/services.py).
    policy_gaps = list(reasons)
    approval, approval_reasons, approval_expiry = _approval(facts.requests.get((version.pk, env), []), env, now)
    reasons += approval_reasons
    decision = DENY if reasons else ALLOW
    expires = now + timedelta(seconds=settings.GATE_ATTESTATION_TTL_SECONDS)
    if decision == ALLOW:
        expires = min([expires, *expiries, *([approval_expiry] if approval_expiry else [])])
    return {
        "system": system.slug, "version": version.version, "environment": env, "decision": decision,
        "reasons": reasons, "artifact_sha256": version.artifact_sha256,
        "policy": {"id": policy.pk, "name": policy.name, "risk_tier": policy.risk_tier, "environment": env,
                   "updated_at": policy.updated_at.isoformat() if policy.updated_at else None},
        "approval": approval, "approvals": approval["decisions"] if approval else [], "policy_gaps": policy_gaps,
        "audits": audits, "report": report, "report_sha256": report["sha256"] if report else None,
        "open_findings": findings, "open_serious_incidents": incidents, "evaluated_at": iso_timestamp(now), "expires_at": iso_timestamp(expires),
        "was_allowed": _was_allowed(version, env, facts), "rollback": None,
    }


def _check_environment(environment: str) -> None:
    if environment not in Environment.values:
        raise ApplicationError(BAD_ENVIRONMENT, field="environment")


def _evaluate_many(system, versions, environments, now) -> tuple[dict, Facts | None]:
    for env in environments:
        _check_environment(env)
    if not versions:
        return {}, None
    facts = _facts(system=system, versions=versions, environments=environments)
    return {(v.pk, env): gate_decide(system, v, env, facts, now) for v in versions for env in environments}, facts


def gate_evaluate_many(*, system: AISystem, versions: list[ModelVersion], environments: list[str], now=None) -> dict:
    """{(version_id, environment): answer} for several versions at once, in constant queries."""
    return _evaluate_many(system, versions, environments, now or timezone.now())[0]


def rollback_target(*, system: AISystem, environment: str, exclude: ModelVersion | None = None, now=None):
    """The newest other version the gate allows in `environment` now, or None."""
    now = now or timezone.now()
    candidates = list(
        ModelVersion.objects.filter(system=system, approval_requests__environment=environment,
                                    approval_requests__status=ApprovalStatus.APPROVED,
                                    approval_requests__expires_at__gt=now)
        .exclude(pk=exclude.pk if exclude else None).distinct().order_by("-created_at")
    )
    if not candidates:
        return None
    answers = gate_evaluate_many(system=system, versions=candidates, environments=[environment], now=now)
    return next((v for v in candidates if answers[(v.pk, environment)]["decision"] == ALLOW), None)


def _evaluate(system, version, environment, now) -> tuple[dict, GateState | None]:
    answers, facts = _evaluate_many(system, [version], [environment], now)
    answer = answers[(version.pk, environment)]
    if answer["decision"] == DENY and answer["was_allowed"]:
        target = rollback_target(system=system, environment=environment, exclude=version, now=now)
        answer["rollback"] = rollback_info(system, target, environment, breached=version) if target else None
        answer["reasons"].append(answer["rollback"]["sentence"] if target
                                 else f"No other version of {system.slug} is allowed in {environment} to roll back to.")
    return answer, facts.states.get((version.pk, environment))


def rollback_info(system: AISystem, target: ModelVersion, environment: str, *, breached=None) -> dict:
    """The version to roll back to (still allowed now, so its own evidence is current) and, when
    the breach that ended `breached` came from production data, whether `target` was reviewed
    against that same batch; if not, the request that reviews it."""
    info = {"version": target.version, "artifact_sha256": target.artifact_sha256,
            "gate": f"/api/v1/gate/{system.slug}/{target.version}/?environment={environment}"}
    sentence = f"Roll back to {target.version}, the last version still allowed in {environment}"
    breach = production_breach(version=breached) if breached is not None else None
    if breach is None:
        return {**info, "sentence": sentence + "."}
    batch = breach.params["batch"]
    review = batch_review(version=target, batch=batch)
    info["breach"] = {"version": breached.version, "run": str(breach.pk), "batch": batch}
    info["reviewed_against_breach"] = (None if review is None else {
        "run": str(review.pk), "status": review.status, "outcome": review.outcome or None})
    if review is None:
        info["review_request"] = {"method": "POST", "url": "/api/v1/audit-runs/", "body": {
            "version": str(target.pk), "kind": DRIFT, "params": {"batch": batch}}}
        sentence += (f"; it has not been reviewed against the production batch that breached {breached.version}:"
                     " review it first (rollback.review_request)")
    elif review.status != RunStatus.SUCCEEDED:
        sentence += f"; its review against the production batch that breached {breached.version} is {review.status}"
    else:
        sentence += (f"; reviewed against the production batch that breached {breached.version}: "
                     f"drift {review.outcome}")
    return {**info, "sentence": sentence + "."}


def gate_evaluate(*, system: AISystem, version: ModelVersion, environment: str, now=None) -> dict:
    """The gate's answer for one version and environment (without the attestation).

    When the answer is deny and this version was allowed before, `rollback` names the last
    version still allowed there (or is None when there is none)."""
    return _evaluate(system, version, environment, now or timezone.now())[0]


def _record(version: ModelVersion, answer: dict, state: GateState | None, *, actor, now) -> None:
    """Keep the last answer per version and environment; log it to the trail when it changes."""
    env, decision = answer["environment"], answer["decision"]
    if state is not None and state.decision == decision:
        return
    allowed_at = now if decision == ALLOW else None
    with transaction.atomic():
        if state is None:
            try:
                with transaction.atomic():
                    GateState.objects.create(version=version, environment=env, decision=decision,
                                             reasons=answer["reasons"], changed_at=now, first_allowed_at=allowed_at)
            except IntegrityError:
                return  # a concurrent call recorded the first answer
            previous = None
        else:
            # Conditional on the old answer, so of two concurrent callers only one logs the change.
            changed = GateState.objects.filter(pk=state.pk, decision=state.decision).update(
                decision=decision, reasons=answer["reasons"], changed_at=now,
                first_allowed_at=state.first_allowed_at or allowed_at)
            if not changed:
                return
            previous = state.decision
        trail_append(actor=actor, action="gate.decision_changed", obj=version, payload={
            "environment": env, "from": previous, "to": decision, "reasons": answer["reasons"],
            "rollback_to": (answer.get("rollback") or {}).get("version"),
        })


def acknowledged_gaps(approval: dict | None) -> list[dict]:
    """Who asked for or gave the approval knowing the version missed its policy: what it missed
    then, and why they went ahead (the request's justification, the approver's comment)."""
    if not approval:
        return []
    found = []
    if approval["acknowledged_gaps"]:
        found.append({"by": approval["requested_by"], "as": "requester", "at": approval["submitted_at"],
                      "gaps": approval["acknowledged_gaps"], "justification": approval["justification"]})
    found += [{"by": d["user"], "as": d["role"], "at": d["decided_at"], "gaps": d["acknowledged_gaps"],
               "justification": d["comment"]} for d in approval["decisions"] if d["acknowledged_gaps"]]
    return found


def gate_attest(answer: dict) -> dict:
    """Sign the answer as an in-toto Statement in a DSSE envelope (deploy/ci/README.md)."""
    key = signing_key()
    statement = attestation.make_gate_statement(
        system_slug=answer["system"], version=answer["version"], artifact_sha256=answer["artifact_sha256"],
        decision=answer["decision"], reasons=answer["reasons"], environment=answer["environment"],
        policy={"id": answer["policy"]["id"], "name": answer["policy"]["name"],
                "updated_at": answer["policy"]["updated_at"]},
        evaluated_at=answer["evaluated_at"], expires_at=answer["expires_at"],
        accepted_risks=[{"audit": a["kind"], "run": a["run"], **a["accepted"]} for a in answer["audits"]
                        if a["accepted"]],
        not_applicable=[{"audit": a["kind"], **a["not_applicable"]} for a in answer["audits"] if a["not_applicable"]],
        acknowledged_gaps=acknowledged_gaps(answer["approval"]),
        audit_trail=answer.get("audit_trail"),
    )
    return attestation.sign_envelope(statement, private_pem=key.private_pem)


def gate_answer(*, system: AISystem, version: ModelVersion, environment: str, actor=None) -> dict:
    """What GET /api/v1/gate/<system>/<version>/ returns: the answer, signed; a change is logged."""
    _check_environment(environment)
    key = signing_key()  # fail before any write when the key is missing
    now = timezone.now()
    answer, state = _evaluate(system, version, environment, now)
    _record(version, answer, state, actor=actor, now=now)  # writes only when the answer changed
    answer["audit_trail"] = reads.trail_head()  # after _record: a changed answer anchors its own row
    answer["attestation"] = gate_attest(answer)
    answer["keyid"] = key.keyid
    return answer


def rollback_answer(*, system: AISystem, environment: str, actor=None) -> dict:
    """What GET /api/v1/rollback/<system>/ returns: the last version allowed in `environment`,
    with its signed gate answer."""
    _check_environment(environment)
    target = rollback_target(system=system, environment=environment)
    if target is None:
        raise NotFoundError(NO_ALLOWED_VERSION.format(system=system.slug, env=environment))
    answer = gate_answer(system=system, version=target, environment=environment, actor=actor)
    # The newest version, when it is not the target, is what the pipeline rolls back from.
    newest = system.versions.order_by("-created_at").first()
    breached = newest if newest and newest.pk != target.pk else None
    answer["rollback"] = rollback_info(system, target, environment, breached=breached)
    return answer


def policy_gaps(version: ModelVersion, environment: str) -> list[str]:
    """What `version` misses of its `environment` policy, its approval aside (the gate's reasons
    about audits, the signed report and open findings); empty when the policy is met."""
    return gate_evaluate(system=version.system, version=version, environment=environment)["policy_gaps"]
