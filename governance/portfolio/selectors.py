"""Read across domains for the pages: the portfolio, the system page, the inbox. Each function
reads in a fixed number of queries whatever the number of systems, versions or runs
(tests/portfolio/test_pages.py holds them to it)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from audits.drift.models import RetrainingRecommendation
from audits.drift.selectors import UNRESOLVED
from audits.runs.models import AuditRun, RunStatus
from audits.runs.registry import KINDS
from governance.approvals.models import (
    ApprovalDecision,
    ApprovalRequest,
    ApprovalStatus,
    RiskAcceptance,
)
from governance.approvals.selectors import approval_requests_list, approvals_awaiting
from governance.catalog.models import (
    AssessmentStatus,
    Control,
    ControlAssessment,
    Evidence,
    Framework,
)
from governance.core import glossary
from governance.core.roles import can, user_roles
from governance.gate.board import ENVIRONMENTS, GateBoard
from governance.gate.services import gate_evaluate_many, rollback_info
from governance.policies.models import Environment
from governance.registry.models import AISystem, ModelVersion

DONE = [AssessmentStatus.SATISFIED, AssessmentStatus.NOT_APPLICABLE]

TIER_RANK = {"high": 0, "medium": 1, "low": 2}
STAGE_RANK = {"design": 0, "development": 1, "validation": 2, "deployed": 3, "retired": 4}
PORTFOLIO_SORTS = {
    "name": "Name", "risk": "Risk (high first)", "stage": "Lifecycle stage", "coverage": "Coverage (low first)",
    "findings": "Most findings", "overdue": "Most overdue",
}
GATE_FILTERS = {"allowed": "Production: allow", "denied": "Production: deny", "none": "No version yet"}


def _latest_version_ids(systems) -> dict:
    return {s.pk: s.latest_version_id for s in systems if getattr(s, "latest_version_id", None)}


def _systems(*, search: str = "", risk_tier: str = "", stage: str = "", ids=None) -> list[AISystem]:
    """Systems with their owner's name and latest version id, and how many of their controls
    failed (open findings): two queries."""
    latest = ModelVersion.objects.filter(system=OuterRef("pk")).order_by("-created_at")
    # The owner's name as columns rather than select_related: no second model per row.
    qs = AISystem.objects.annotate(latest_version_id=Subquery(latest.values("pk")[:1]),
                                   latest_parent_id=Subquery(latest.values("parent_id")[:1]),
                                   owner_first=F("owner__first_name"),
                                   owner_last=F("owner__last_name"), owner_username=F("owner__username"))
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(slug__icontains=search) | Q(purpose__icontains=search))
    if risk_tier:
        qs = qs.filter(risk_tier=risk_tier)
    if stage:
        qs = qs.filter(lifecycle_stage=stage)
    systems = list(qs)
    failed = ControlAssessment.objects.filter(status=AssessmentStatus.FAILED)
    if ids is not None or search or risk_tier or stage:
        failed = failed.filter(system_id__in=[s.pk for s in systems])
    counts = dict(failed.values_list("system_id").annotate(n=Count("pk")).order_by())
    for s in systems:
        s.open_findings = counts.get(s.pk, 0)
        s.owner_name = f"{s.owner_first} {s.owner_last}".strip() or s.owner_username
    return systems


def _coverage(systems, *, everyone: bool = False) -> None:
    """Set `s.coverage` (per framework: total, done, failed, percent) on each system: two
    queries (the catalog's control ids, grouped assessment counts), for any number of systems.

    Grouped by (system, status), so SQLite walks the (system, status) index instead of sorting
    110 rows per system, with one filtered count per framework, told by control id (no join).
    """
    todo = [s for s in systems if not hasattr(s, "coverage")]
    if not todo:
        return
    by_framework: dict = defaultdict(list)
    for pk, framework in Control.objects.values_list("pk", "framework"):
        by_framework[framework].append(pk)
    frameworks = list(by_framework)
    counts: dict = defaultdict(lambda: defaultdict(int))
    rows = ControlAssessment.objects.values_list("system_id", "status").annotate(
        **{f"n{i}": Count("pk", filter=Q(control_id__in=by_framework[fw])) for i, fw in enumerate(frameworks)})
    if not everyone:
        rows = rows.filter(system_id__in=[s.pk for s in todo])
    for system_id, status, *per_framework in rows.order_by():
        for fw, n in zip(frameworks, per_framework):
            if n:
                counts[(system_id, fw)][status] += n
    evidence = _evidence_coverage(None if everyone else [s.pk for s in todo])
    for s in todo:
        s.coverage = {}
        for fw in Framework:
            c = counts.get((s.pk, fw.value), {})
            total = sum(c.values())
            done = sum(c.get(k, 0) for k in DONE)
            by = evidence.get((s.pk, fw.value), {})
            current = by.pop("current", 0)
            s.coverage[fw.value] = {
                "label": fw.label, "short": "AI RMF" if fw == Framework.AI_RMF else "ISO 42001",
                "total": total, "done": done, "failed": c.get(AssessmentStatus.FAILED, 0),
                "stale": c.get(AssessmentStatus.STALE, 0),
                "counts": dict(c), "percent": round(100 * done / total) if total else 0,
                "evidence": {"both": by.get("both", 0), "audit": by.get("audit", 0), "document": by.get("document", 0),
                             "none": total - sum(by.values())},
                "current": current, "current_percent": round(100 * current / total) if total else 0,
            }


def _evidence_coverage(system_ids) -> dict:
    """{(system_id, framework): {"both"|"audit"|"document": n, "current": n}}: which controls an
    audit or a document covers, and how many have current evidence, in one grouped query. The
    same rule as catalog/evidence.py `coverage_of` (the heatmap's), in SQL: a row of an audit or
    a document that nothing superseded, whose validity window is open."""
    live = (Evidence.objects.filter(assessment=OuterRef("pk"))
            .exclude(pk__in=Evidence.objects.filter(supersedes__isnull=False).values("supersedes")))
    sourced = Q(audit_run_id__isnull=False) | Q(document__isnull=False)
    rows = ControlAssessment.objects.annotate(
        by_audit=Exists(live.filter(audit_run_id__isnull=False)),
        by_document=Exists(live.filter(document__isnull=False)),
        fresh=Exists(live.filter(sourced).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=timezone.now()))),
    )
    if system_ids is not None:
        rows = rows.filter(system_id__in=system_ids)
    out: dict = defaultdict(lambda: defaultdict(int))
    for system_id, framework, audit, document, fresh, n in (
            rows.values_list("system_id", "control__framework", "by_audit", "by_document", "fresh")
            .annotate(n=Count("pk")).order_by()):
        key = "both" if audit and document else "audit" if audit else "document" if document else None
        if key:
            out[(system_id, framework)][key] += n
        if fresh:
            out[(system_id, framework)]["current"] += n
    return out


def _systems_with_coverage(*, search: str = "", risk_tier: str = "", stage: str = "", ids=None) -> list[AISystem]:
    systems = _systems(search=search, risk_tier=risk_tier, stage=stage, ids=ids)
    _coverage(systems, everyone=ids is None and not (search or risk_tier or stage))
    return systems


class PortfolioGates:
    """`{{ s.gates.items }}` for a template: computed when a row is shown, not before."""

    def __init__(self, board: GateBoard, system):
        self.board, self.system = board, system

    def items(self):
        return [(env, self.board.answer(self.system, env)) for env in ENVIRONMENTS]

    def __bool__(self):
        return self.system.pk in self.board.versions

    def get(self, env, default=None):
        return self.board.answer(self.system, env) if self else default


def _latest_runs(version_ids) -> dict:
    """{version_id: {kind: latest run (any status)}} as dicts: the chips of the portfolio and inbox."""
    latest: dict = defaultdict(dict)
    qs = (AuditRun.objects.filter(version_id__in=list(version_ids)).order_by("-created_at")
          .values("id", "version_id", "kind", "status", "outcome", "log"))
    for run in qs:
        latest[run["version_id"]].setdefault(run["kind"], run)
    return latest


def _chip(run: dict) -> dict:
    return {"kind": run["kind"], "state": glossary.run_state(run), "run": run}


# The worst of a version's latest results first: failed, then could not run, then undecided.
WORST = {"fail": 0, "error": 1, "inconclusive": 2}


def _open_requests(system_ids, now) -> list[dict]:
    """Live approvals and requests in review of these systems' versions (None: all systems),
    oldest version first: one query."""
    qs = ApprovalRequest.objects.filter(
        Q(status=ApprovalStatus.APPROVED, expires_at__gt=now)
        | Q(status__in=[ApprovalStatus.SUBMITTED, ApprovalStatus.IN_REVIEW]))
    if system_ids is not None:
        qs = qs.filter(version__system_id__in=system_ids)
    return list(qs.order_by("version__created_at").values("version_id", "version__system_id", "environment", "status"))


class Shipped:
    """The newest version approved (and unexpired) for an environment, and what the gate says of
    it now, worked out when its row is shown."""

    def __init__(self, board, system, version, env):
        self.board, self.system, self.version, self.environment = board, system, version, env

    @property
    def decision(self) -> str:
        return self.board.answer_for(self.system, self.version, self.environment)["decision"]


def _worst(candidates, runs) -> dict | None:
    """The worst latest result across `candidates` ([(version, why)]): what a new, unaudited
    version must not hide of the versions still shipped, in review, or its parent."""
    found = []
    for order, (version, why) in enumerate(candidates):
        for kind, run in sorted(runs.get(version.pk, {}).items()):
            chip = _chip(run)
            if chip["state"] in WORST:
                found.append((WORST[chip["state"]], order, {**chip, "version": version.version, "why": why}))
    return min(found, key=lambda f: f[:2])[2] if found else None


def portfolio(*, search: str = "", risk_tier: str = "", stage: str = "", gate: str = "", attention: bool = False,
              sort: str = "name", now=None) -> list[AISystem]:
    """Every AI system with coverage, latest audit chips, open findings, overdue reviews and the
    gate per environment; filtered and sorted. Constant query count."""
    now = now or timezone.now()
    systems = _systems(search=search, risk_tier=risk_tier, stage=stage)
    if sort == "coverage":  # otherwise coverage is read for the rows shown only (PortfolioRows.show)
        _coverage(systems, everyone=not (search or risk_tier or stage))
    version_ids = _latest_version_ids(systems)
    filtered = search or risk_tier or stage
    requests = _open_requests([s.pk for s in systems] if filtered else None, now)
    wanted = {*version_ids.values(), *(s.latest_parent_id for s in systems if s.latest_parent_id),
              *(r["version_id"] for r in requests)}
    versions = {v.pk: v for v in ModelVersion.objects.filter(pk__in=list(wanted))
                .only("id", "system_id", "version", "artifact_sha256", "created_at")}
    by_system = {sid: versions[vid] for sid, vid in version_ids.items() if vid in versions}
    board = GateBoard(systems=systems, versions=by_system, now=now, others=list(versions.values()))
    # Where an approval could allow, the answer needs the controls (findings, waivers): one read.
    board.focus([s for s in systems if board.live_approval(s, "production")])
    runs = _latest_runs(versions)
    shipped, in_review = {}, defaultdict(list)
    for r in requests:  # oldest version first: the newest approved one wins
        version = versions[r["version_id"]]
        if r["status"] == ApprovalStatus.APPROVED:
            shipped[(r["version__system_id"], r["environment"])] = version
        else:
            in_review[r["version__system_id"]].append((version, r["environment"]))
    warn = getattr(settings, "APPROVAL_EXPIRY_WARNING_DAYS", 14)
    for s in systems:
        s.latest_version = by_system.get(s.pk)
        s.gates = PortfolioGates(board, s)
        s.production = board.decision(s, "production")
        s.chips = [_chip(r) for _, r in sorted(runs.get(s.latest_version.pk, {}).items())] if s.latest_version else []
        s.shipped = [Shipped(board, s, shipped[(s.pk, env)], env) for env in ENVIRONMENTS if (s.pk, env) in shipped]
        s.in_review = [{"version": v.version, "environment": env} for v, env in in_review.get(s.pk, [])]
        candidates = [(x.version, f"approved for {x.environment}") for x in s.shipped]
        candidates += [(v, f"in review for {env}") for v, env in in_review.get(s.pk, [])]
        if s.latest_version:
            candidates.append((s.latest_version, "latest"))
        if s.latest_parent_id in versions:
            candidates.append((versions[s.latest_parent_id], "parent of the latest"))
        s.worst = _worst(candidates, runs)
        s.overdue = board.overdue(s, warn)
        s.needs_attention = bool(s.open_findings or any(i["level"] == "overdue" for i in s.overdue)
                                 or (s.worst and s.worst["state"] == "fail"))
    if gate == "allowed":
        systems = [s for s in systems if s.production == "allow"]
    elif gate == "denied":
        systems = [s for s in systems if s.production == "deny"]
    elif gate == "none":
        systems = [s for s in systems if s.latest_version is None]
    if attention:
        systems = [s for s in systems if s.needs_attention]
    keys = {
        "name": lambda s: s.name.lower(),
        "risk": lambda s: (TIER_RANK.get(s.risk_tier, 9), s.name.lower()),
        "stage": lambda s: (STAGE_RANK.get(s.lifecycle_stage, 9), s.name.lower()),
        "coverage": lambda s: (s.coverage["ai-rmf"]["percent"] + s.coverage["iso42001"]["percent"], s.name.lower()),
        "findings": lambda s: (-s.open_findings, s.name.lower()),
        "overdue": lambda s: (-len(s.overdue), s.name.lower()),
    }
    systems.sort(key=keys.get(sort, keys["name"]))
    return PortfolioRows(systems, board)


class PortfolioRows(list):
    """The portfolio's rows. What only a shown row needs (coverage bars, the gate's reasons and
    their failed controls) is read by `show()` for the rows of one page, in two queries."""

    def __init__(self, rows, board):
        super().__init__(rows)
        self.board = board

    def show(self, rows) -> None:
        rows = list(rows)
        _coverage(rows)
        self.board.focus(rows)


def portfolio_summary(systems) -> dict:
    prod = [s.production for s in systems]
    return {
        "systems": len(systems),
        "high_risk": sum(1 for s in systems if s.risk_tier == "high"),
        "open_findings": sum(s.open_findings for s in systems),
        "with_findings": sum(1 for s in systems if s.open_findings),
        "overdue": sum(1 for s in systems for i in s.overdue if i["level"] == "overdue"),
        "allowed": prod.count("allow"),
        "denied": prod.count("deny"),
    }


def system_audit_history(*, system: AISystem) -> dict:
    """{kind: [{"at", "version", "outcome", "checks", "results"}]} of succeeded runs, oldest
    first: two queries (results, which can be large, only for the kinds that need them)."""
    from_results = [k.name for k in KINDS.values() if k.history_points]
    history: dict = defaultdict(list)
    base = (AuditRun.objects.filter(system=system, status=RunStatus.SUCCEEDED, finished_at__isnull=False)
            .select_related("version").order_by("finished_at"))
    fields = ["id", "kind", "finished_at", "outcome", "checks", "version__version"]
    runs = list(base.exclude(kind__in=from_results).only(*fields))
    runs += list(base.filter(kind__in=from_results).only(*fields, "results"))
    for run in sorted(runs, key=lambda r: r.finished_at):
        history[run.kind].append({"id": run.pk, "at": run.finished_at, "version": run.version.version,
                                  "outcome": run.outcome, "checks": run.checks or [],
                                  "results": run.results if run.kind in from_results else {}})
    return dict(history)


def _gate_answers(requests) -> dict:
    """{request pk: the gate's answer now} for approval requests: what each version misses of its
    policy, for the person about to decide (one batch of the gate's reads per system)."""
    by_system: dict = defaultdict(list)
    for r in requests:
        by_system[r.version.system_id].append(r)
    answers = {}
    for rows in by_system.values():
        system = rows[0].version.system
        versions = list({r.version_id: r.version for r in rows}.values())
        envs = sorted({r.environment for r in rows})
        found = gate_evaluate_many(system=system, versions=versions, environments=envs)
        answers.update({r.pk: found[(r.version_id, r.environment)] for r in rows})
    return answers


def inbox(*, user) -> dict:
    """Everything that waits for `user`: approvals to decide (with the gate's answer and the
    evidence that matters to their role), their own requests, failed audits and open findings on
    their systems, retraining recommendations to act on, risk acceptances about to end, and the
    controls assigned to them. A fixed number of queries, plus the gate's reads per system awaiting."""
    roles = user_roles(user)
    awaiting = approvals_awaiting(user=user)
    version_ids = {r.version_id for r in awaiting}
    runs = _latest_runs(version_ids) if version_ids else {}
    system_ids = {r.version.system_id for r in awaiting}
    coverage = {s.pk: s for s in _systems_with_coverage(ids=system_ids)} if system_ids else {}
    gates = _gate_answers(awaiting)
    for r in awaiting:
        r.runs = runs.get(r.version_id, {})
        r.system_row = coverage.get(r.version.system_id)
        r.prior = [d for d in r.decisions.all()]
        r.gate = gates[r.pk]
    mine = list(
        ApprovalRequest.objects.filter(requested_by=user).select_related("version__system")
        .prefetch_related(Prefetch("decisions", queryset=ApprovalDecision.objects.select_related("user")))
        .order_by("-created_at")[:20]
    )
    failed = list(
        AuditRun.objects.filter(system__owner=user).filter(Q(status="failed") | Q(outcome="fail"))
        .select_related("system", "version").order_by("-created_at")[:10]
    )
    findings = list(ControlAssessment.objects.filter(system__owner=user, status=AssessmentStatus.FAILED)
                    .select_related("system", "control").order_by("system__name", "control__sort_key")[:50])
    assigned = list(ControlAssessment.objects.filter(owner=user).exclude(
        status__in=[AssessmentStatus.SATISFIED, AssessmentStatus.NOT_APPLICABLE])
        .select_related("system", "control").order_by("system__name", "control__sort_key")[:50])
    may_dismiss = can(user, "approval.revoke")  # independent reviewers dismiss or approve retraining
    recommendations = RetrainingRecommendation.objects.filter(status__in=UNRESOLVED).select_related(
        "version__system").order_by("-created_at")
    if not may_dismiss:
        recommendations = recommendations.filter(version__system__owner=user)
    horizon = timezone.now() + timedelta(days=settings.APPROVAL_EXPIRY_WARNING_DAYS)
    ending = list(RiskAcceptance.objects.filter(expires_at__gt=timezone.now(), expires_at__lte=horizon).filter(
        Q(accepted_by=user) | Q(audit_run__version__system__owner=user))
        .select_related("audit_run__version__system", "accepted_by").order_by("expires_at")[:20])
    return {"awaiting": awaiting, "mine": mine, "failed_runs": failed, "roles": roles, "findings": findings,
            "assigned": assigned, "recommendations": list(recommendations[:20]), "ending_acceptances": ending}


def system_approval_timeline(*, system: AISystem, limit: int = 40) -> list[dict]:
    """Every approval event of the system's versions, newest first: requested, each decision,
    approved, rejected, revoked, expired. Two queries."""
    requests = (ApprovalRequest.objects.filter(version__system=system).select_related("version", "requested_by")
                .prefetch_related(Prefetch("decisions", queryset=ApprovalDecision.objects.select_related("user"))))
    events = []
    for r in requests:
        base = {"request": r, "version": r.version.version, "environment": r.environment}
        events.append({**base, "at": r.submitted_at or r.created_at, "what": "requested", "chip": "info",
                       "who": r.requested_by, "text": r.justification})
        for d in r.decisions.all():
            events.append({**base, "at": d.decided_at, "what": d.decision, "chip": "pass" if d.decision == "approve"
                           else "fail", "who": d.user, "role": d.role, "stage": d.stage, "text": d.comment})
        if r.status == "approved" and r.approved_at:
            events.append({**base, "at": r.approved_at, "what": "approved", "chip": "pass",
                           "text": f"valid until {r.expires_at:%Y-%m-%d}" if r.expires_at else ""})
        if r.revoked_at:
            events.append({**base, "at": r.revoked_at, "what": "revoked", "chip": "fail", "text": r.revoked_reason})
        if r.status == "expired" and r.expires_at:
            events.append({**base, "at": r.expires_at, "what": "expired", "chip": "not_started",
                           "text": "The policy's approval period ended."})
    events.sort(key=lambda e: e["at"], reverse=True)
    return events[:limit]


def system_approvals_panel(*, system, versions: list, user) -> dict:
    """Per version: the latest approval request and the gate's answer in each environment,
    in a constant number of queries; whether the user may request approval (the owner's form)."""
    envs = Environment.values
    answers = gate_evaluate_many(system=system, versions=versions, environments=envs)
    latest = {}
    for req in approval_requests_list(system_slug=system.slug):
        latest.setdefault((req.version_id, req.environment), req)
    newest_first = sorted(versions, key=lambda v: v.created_at, reverse=True)
    for v in versions:
        for env in envs:
            answer = answers[(v.pk, env)]
            if answer["decision"] == "deny" and answer["was_allowed"]:
                # As the gate API says it: the newest other version allowed there now, and
                # whether it was reviewed on the production batch that breached this one.
                target = next((t for t in newest_first if t.pk != v.pk and answers[(t.pk, env)]["decision"] == "allow"),
                              None)
                answer["rollback"] = rollback_info(system, target, env, breached=v) if target else None
    rows = [
        {"version": v, "envs": [{"env": env, "gate": answers[(v.pk, env)], "request": latest.get((v.pk, env))}
                                for env in envs]}
        for v in versions
    ]
    return {"rows": rows, "environments": Environment.choices, "can_request": can(user, "approval.request", system),
            "can_review": can(user, "audit.request", system)}


def role_kinds(role: str) -> list[str]:
    """The audit kinds a deciding role looks at first (each kind names its reviewers)."""
    return [k.name for k in KINDS.values() if role in k.reviewers]
