"""The gate's reads, in plain SQL: the hot path of a pipeline-facing endpoint.

Why plain SQL, and how it stays safe and portable: governance/core/sql.py. These run on
SQLite and PostgreSQL alike (tests/gate/ runs on both in CI); rows become unsaved model
instances, so the decision logic in governance/gate/services.py reads ordinary model attributes.
"""

from __future__ import annotations

from functools import lru_cache

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection

from audits.runs.models import AuditRun
from audits.runs.registry import KINDS
from governance.approvals.models import (
    ApprovalDecision,
    ApprovalRequest,
    RiskAcceptance,
)
from governance.catalog.models import Control, ControlAssessment, Evidence, Framework
from governance.core.sql import as_datetime as _dt
from governance.core.sql import as_json as _json
from governance.core.sql import as_uuid as _uuid
from governance.core.sql import cached_sql as _cached_sql
from governance.core.sql import columns as _cols
from governance.core.sql import placeholders as _in
from governance.core.sql import rows as _rows
from governance.core.sql import table as _t
from governance.gate.models import GateState
from governance.policies.models import Policy
from governance.registry.models import AISystem, ModelVersion
from governance.trail.models import AuditLogHead
from governance.trail.services import HEAD_PK


def _uuid_param(value):
    return ModelVersion._meta.pk.get_db_prep_value(value, connection)


@_cached_sql
def _version_sql() -> str:
    v_fields = ["id", "version", "artifact_sha256", "created_at", "created_by"]
    s_fields = ["id", "name", "slug", "risk_tier", "owner"]
    return (f"SELECT {_cols(ModelVersion, v_fields)}, {_cols(AISystem, s_fields)} "
            f"FROM {_t(ModelVersion)} JOIN {_t(AISystem)} ON {_t(AISystem)}.id = {_t(ModelVersion)}.system_id "
            f"WHERE {_t(AISystem)}.slug = %s AND {_t(ModelVersion)}.version = %s")


def version_in_system(*, slug: str, version: str) -> ModelVersion | None:
    """The version with its system, reading only the columns the gate needs. One statement."""
    rows = _rows(_version_sql(), [slug, version])
    if not rows:
        return None
    vid, label, sha, created_at, created_by, sid, name, sslug, tier, owner = rows[0]
    system = AISystem(id=sid, name=name, slug=sslug, risk_tier=tier, owner_id=owner)
    mv = ModelVersion(id=_uuid(vid), version=label, artifact_sha256=sha, created_at=_dt(created_at),
                      created_by_id=created_by, system=system)
    for obj in (system, mv):
        obj._state.adding = False
    return mv


POLICY_FIELDS = ["id", "name", "risk_tier", "environment", "audit_requirements", "require_signed_report",
                 "approval_stages", "approval_valid_days", "deny_open_serious_incidents", "updated_at"]


@_cached_sql
def _policies_sql(n_envs: int) -> str:
    return (f"SELECT {_cols(Policy, POLICY_FIELDS)} FROM {_t(Policy)} "
            f"WHERE risk_tier = %s AND environment IN ({_in(range(n_envs))})")


def policies(*, risk_tier: str, environments: list[str]) -> dict:
    out = {}
    for row in _rows(_policies_sql(len(environments)), [risk_tier, *environments]):
        values = dict(zip(POLICY_FIELDS, row))
        for name in ("audit_requirements", "approval_stages"):
            values[name] = _json(values[name])
        values["require_signed_report"] = bool(values["require_signed_report"])
        values["deny_open_serious_incidents"] = bool(values["deny_open_serious_incidents"])
        values["updated_at"] = _dt(values["updated_at"])
        out[values["environment"]] = Policy(**values)
    return out


@_cached_sql
def _runs_sql(n_versions: int, n_kinds: int) -> str:
    fields = ["id", "version", "kind", "status", "outcome", "finished_at", "checks", "error"]
    return (f"SELECT {_cols(AuditRun, fields)} FROM {_t(AuditRun)} "
            f"WHERE version_id IN ({_in(range(n_versions))}) AND status IN (%s, %s) "
            f"AND kind IN ({_in(range(n_kinds))}) ORDER BY finished_at DESC")


def latest_runs_and_errors(*, version_ids: list, kinds: list[str]) -> tuple[dict, dict]:
    """({version_id: {kind: the latest succeeded AuditRun}}, {version_id: {kind: a run that
    could not run (status failed), newer than that one}}): an audit that ran and failed, and one
    that could not run, read differently. One statement, only the fields the gate reads."""
    runs: dict = {v: {} for v in version_ids}
    errors: dict = {v: {} for v in version_ids}
    if not kinds or not version_ids:
        return runs, errors
    sql = _runs_sql(len(version_ids), len(kinds))
    rows = _rows(sql, [*map(_uuid_param, version_ids), "succeeded", "failed", *kinds])
    for pk, vid, kind, status, outcome, finished, checks, error in rows:
        vid = _uuid(vid)
        if kind in runs[vid]:
            continue
        run = AuditRun(id=_uuid(pk), version_id=vid, kind=kind, status=status, outcome=outcome,
                       finished_at=_dt(finished), checks=_json(checks), error=error or "")
        if status == "succeeded":
            runs[vid][kind] = run
        else:
            errors[vid].setdefault(kind, run)
    return runs, errors


def latest_runs(*, version_ids: list, kinds: list[str]) -> dict:
    """{version_id: {kind: the latest succeeded AuditRun}}."""
    return latest_runs_and_errors(version_ids=version_ids, kinds=kinds)[0]


@_cached_sql
def _reports_sql(Report, n_versions: int) -> str:
    fields = ["id", "version", "report_number", "sha256", "created_at"]
    status = " AND status = 'signed'" if any(f.name == "status" for f in Report._meta.fields) else ""
    return (f"SELECT {_cols(Report, fields)} FROM {_t(Report)} WHERE version_id IN ({_in(range(n_versions))}) "
            f"AND sha256 <> '' AND superseded_by_id IS NULL{status} ORDER BY created_at DESC")


def current_reports(*, version_ids: list) -> dict | None:
    """{version_id: newest signed, unsuperseded Report}; None when reports are not installed."""
    try:
        Report = apps.get_model("reports", "Report")
    except LookupError:
        return None
    out = {}
    for pk, vid, number, sha, created in _rows(_reports_sql(Report, len(version_ids)),
                                               [_uuid_param(v) for v in version_ids]):
        out.setdefault(_uuid(vid), Report(id=_uuid(pk), version_id=_uuid(vid), report_number=number, sha256=sha,
                                          created_at=_dt(created)))
    return out


@_cached_sql
def _controls_sql(n_systems: int, n_refs: int) -> str:
    a, c, e = _t(ControlAssessment), _t(Control), _t(Evidence)
    same_scope = f"(e2.version_id = {e}.version_id OR (e2.version_id IS NULL AND {e}.version_id IS NULL))"
    systems = _in(range(n_systems))
    return (
        # A failed control, with each version whose latest evidence of a kind on it failed (the
        # version the evidence speaks for; none: the whole system).
        f"SELECT {a}.system_id, {e}.version_id, {c}.ref, {c}.framework, {c}.sort_key, {a}.status, {a}.notes "
        f"FROM {e} JOIN {a} ON {a}.id = {e}.assessment_id JOIN {c} ON {c}.id = {a}.control_id "
        f"WHERE {a}.system_id IN ({systems}) AND {a}.status = %s AND {e}.outcome = %s "
        f"AND NOT EXISTS (SELECT 1 FROM {e} e2 "
        f"WHERE e2.assessment_id = {e}.assessment_id AND e2.kind = {e}.kind AND e2.created_at > {e}.created_at "
        f"AND {same_scope}) "
        # A control failed by hand (no failing evidence behind it) concerns the whole system.
        f"UNION ALL SELECT {a}.system_id, NULL, {c}.ref, {c}.framework, {c}.sort_key, {a}.status, {a}.notes "
        f"FROM {a} JOIN {c} ON {c}.id = {a}.control_id WHERE {a}.system_id IN ({systems}) AND {a}.status = %s "
        f"AND NOT EXISTS (SELECT 1 FROM {e} e3 WHERE e3.assessment_id = {a}.id AND e3.outcome = %s) "
        # A control that defines an audit kind, marked not applicable: the requirement is waived.
        f"UNION ALL SELECT {a}.system_id, NULL, {c}.ref, {c}.framework, {c}.sort_key, {a}.status, {a}.notes "
        f"FROM {a} JOIN {c} ON {c}.id = {a}.control_id WHERE {a}.system_id IN ({systems}) AND {a}.status = %s "
        f"AND {c}.framework = %s AND {c}.ref IN ({_in(range(n_refs))}) "
        "ORDER BY 4, 5"
    )


@lru_cache(maxsize=1)
def _defining_refs() -> tuple[str, ...]:
    """The controls that define an audit kind: fixed by code, so worked out once, not per answer."""
    return tuple(sorted({kind.defining_control for kind in KINDS.values()}))


def control_facts(*, system_ids: list) -> dict:
    """{system_id: {"findings": [(version_id or None, control ref)], "not_applicable": {ref: reason}}}.
    One statement.

    Findings: a failed control blocks the versions whose latest evidence of a kind on it
    failed, and every version when it was failed by hand (or by evidence tied to no version):
    another version's failing audit is that version's finding, not this one's
    (`version_findings`). Not applicable: the controls that define an audit kind
    (AuditKind.defining_control, audits/runs/registry.py) marked not applicable, with the reason given."""
    out: dict = {pk: {"findings": [], "not_applicable": {}} for pk in system_ids}
    if not system_ids:
        return out
    refs = _defining_refs()
    params = [*system_ids, "failed", "fail", *system_ids, "failed", "fail", *system_ids, "not_applicable",
              Framework.AI_RMF.value, *refs]
    for system_id, vid, ref, _, _, status, notes in _rows(_controls_sql(len(system_ids), len(refs)), params):
        if status == "not_applicable":
            out[system_id]["not_applicable"][ref] = notes
        else:
            out[system_id]["findings"].append((_uuid(vid), ref))
    return out


def version_findings(findings: list, version_id) -> list[str]:
    """The control refs that block `version_id`: its own failed evidence and the system's."""
    refs: list[str] = []
    for vid, ref in findings:
        if (vid is None or vid == version_id) and ref not in refs:
            refs.append(ref)
    return refs


@_cached_sql
def _acceptances_sql(n_runs: int, n_envs: int) -> str:
    User = get_user_model()
    fields = ["audit_run", "environment", "role", "justification", "accepted_at", "expires_at"]
    return (f"SELECT {_cols(RiskAcceptance, fields)}, {_cols(User, ['username'])} FROM {_t(RiskAcceptance)} "
            f"JOIN {_t(User)} ON {_t(User)}.id = {_t(RiskAcceptance)}.accepted_by_id "
            f"WHERE audit_run_id IN ({_in(range(n_runs))}) AND environment IN ({_in(range(n_envs))})")


def risk_acceptances(*, runs: dict, environments: list[str]) -> dict:
    """{(run_id, env): RiskAcceptance} for the inconclusive runs among `runs` (as latest_runs
    returns them). One statement, and none when no run is inconclusive."""
    ids = [run.pk for by_kind in runs.values() for run in by_kind.values() if run.outcome == "inconclusive"]
    if not ids:
        return {}
    User = get_user_model()
    out = {}
    for run_id, env, role, text, accepted, expires, username in _rows(
            _acceptances_sql(len(ids), len(environments)), [*map(_uuid_param, ids), *environments]):
        out[(_uuid(run_id), env)] = RiskAcceptance(
            audit_run_id=_uuid(run_id), environment=env, role=role, justification=text, accepted_at=_dt(accepted),
            expires_at=_dt(expires), accepted_by=User(username=username))
    return out


REQUEST_FIELDS = ["id", "version", "environment", "status", "current_stage", "stages", "policy_snapshot",
                  "created_at", "submitted_at", "decided_at", "approved_at", "expires_at", "revoked_at",
                  "revoked_reason", "requested_by", "justification", "acknowledged_gaps"]


@_cached_sql
def _requests_sql(n_versions: int, n_envs: int) -> str:
    User = get_user_model()
    return (f"SELECT {_cols(ApprovalRequest, REQUEST_FIELDS)}, {_cols(User, ['username'])} FROM {_t(ApprovalRequest)} "
            f"JOIN {_t(User)} ON {_t(User)}.id = {_t(ApprovalRequest)}.requested_by_id "
            f"WHERE version_id IN ({_in(range(n_versions))}) AND environment IN ({_in(range(n_envs))}) "
            f"ORDER BY {_t(ApprovalRequest)}.created_at DESC")


@_cached_sql
def _decisions_sql(n_requests: int) -> str:
    User = get_user_model()
    fields = ["request", "stage", "role", "decision", "comment", "decided_at", "acknowledged_gaps", "user"]
    return (f"SELECT {_cols(ApprovalDecision, fields)}, {_cols(User, ['username', 'first_name', 'last_name'])} "
            f"FROM {_t(ApprovalDecision)} JOIN {_t(User)} ON {_t(User)}.id = {_t(ApprovalDecision)}.user_id "
            f"WHERE request_id IN ({_in(range(n_requests))}) ORDER BY decided_at, {_t(ApprovalDecision)}.id")


def approval_requests(*, version_ids: list, environments: list[str]) -> dict:
    """{(version_id, env): [ApprovalRequest newest first]}, each with `.gate_decisions` (in order). Two statements."""
    User = get_user_model()
    by_id, out = {}, {}
    sql = _requests_sql(len(version_ids), len(environments))
    for row in _rows(sql, [*map(_uuid_param, version_ids), *environments]):
        v = dict(zip(REQUEST_FIELDS, row[:-1]))
        req = ApprovalRequest(
            id=_uuid(v["id"]), version_id=_uuid(v["version"]), environment=v["environment"], status=v["status"],
            current_stage=v["current_stage"], stages=_json(v["stages"]), policy_snapshot=_json(v["policy_snapshot"]),
            created_at=_dt(v["created_at"]), submitted_at=_dt(v["submitted_at"]), decided_at=_dt(v["decided_at"]),
            approved_at=_dt(v["approved_at"]), expires_at=_dt(v["expires_at"]), revoked_at=_dt(v["revoked_at"]),
            revoked_reason=v["revoked_reason"], requested_by=User(id=v["requested_by"], username=row[-1]),
            justification=v["justification"], acknowledged_gaps=_json(v["acknowledged_gaps"]) or [],
        )
        req.gate_decisions = []
        by_id[req.pk] = req
        out.setdefault((req.version_id, req.environment), []).append(req)
    if by_id:
        for rid, stage, role, decision, comment, decided, gaps, uid, uname, first, last in _rows(
                _decisions_sql(len(by_id)), [_uuid_param(pk) for pk in by_id]):
            user = User(id=uid, username=uname, first_name=first, last_name=last)
            by_id[_uuid(rid)].gate_decisions.append(ApprovalDecision(
                request_id=_uuid(rid), stage=stage, role=role, decision=decision, comment=comment,
                decided_at=_dt(decided), user=user, acknowledged_gaps=_json(gaps) or []))
    return out


@_cached_sql
def _head_sql() -> str:
    return f"SELECT {_cols(AuditLogHead, ['seq', 'hash'])} FROM {_t(AuditLogHead)} WHERE id = %s"


def trail_head() -> dict | None:
    """{"seq", "hash"} of the newest audit-trail row, or None before the first. One statement."""
    rows = _rows(_head_sql(), [HEAD_PK])
    return {"seq": rows[0][0], "hash": rows[0][1]} if rows and rows[0][0] else None


@_cached_sql
def _states_sql(n_versions: int, n_envs: int) -> str:
    fields = ["id", "version", "environment", "decision", "first_allowed_at"]
    return (f"SELECT {_cols(GateState, fields)} FROM {_t(GateState)} "
            f"WHERE version_id IN ({_in(range(n_versions))}) AND environment IN ({_in(range(n_envs))})")


def gate_states(*, version_ids: list, environments: list[str]) -> dict:
    out = {}
    for pk, vid, env, decision, first in _rows(_states_sql(len(version_ids), len(environments)),
                                               [*map(_uuid_param, version_ids), *environments]):
        state = GateState(id=pk, version_id=_uuid(vid), environment=env, decision=decision,
                          first_allowed_at=_dt(first))
        state._state.adding = False
        out[(state.version_id, env)] = state
    return out
