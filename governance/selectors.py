"""Read-side queries. Each page or endpoint calls one selector; query counts stay constant."""

from __future__ import annotations

from collections import OrderedDict, defaultdict

import pandas as pd
from django.db.models import Count, Prefetch, Q

from governance.datafiles import read_table
from governance.models import (
    AISystem,
    AssessmentStatus,
    Control,
    ControlAssessment,
    Dataset,
    Evidence,
    Framework,
    ModelVersion,
)
from training.artifacts import ModelHandle, load_model

DONE = [AssessmentStatus.SATISFIED, AssessmentStatus.NOT_APPLICABLE]


def dataset_frame(dataset: Dataset) -> pd.DataFrame:
    with dataset.file.open("rb") as fh:
        return read_table(fh.read(), dataset.file_format)


def version_model(version: ModelVersion) -> ModelHandle:
    with version.artifact.open("rb") as fh:
        return load_model(fh.read(), spec=version.spec or None)


def system_assessments_grouped(*, system: AISystem) -> dict:
    """{framework: OrderedDict(group_ref -> {"title", "assessments": [...]})} with evidence prefetched."""
    assessments = (
        ControlAssessment.objects.filter(system=system)
        .select_related("control", "owner")
        .prefetch_related(Prefetch("evidence", queryset=Evidence.objects.select_related("audit_run")))
        .order_by("control__framework", "control__sort_key")
    )
    grouped: dict[str, OrderedDict] = {fw.value: OrderedDict() for fw in Framework}
    for a in assessments:
        groups = grouped[a.control.framework]
        group = groups.setdefault(
            a.control.group_ref, {"ref": a.control.group_ref, "title": a.control.group_title, "assessments": [], "counts": defaultdict(int)}
        )
        group["assessments"].append(a)
        group["counts"][a.status] += 1
    for groups in grouped.values():
        for group in groups.values():
            group["counts"] = dict(group["counts"])
    return grouped


def control_detail(*, framework: str, ref: str) -> Control:
    return (
        Control.objects.prefetch_related("iso_links__iso", "ai_rmf_links__ai_rmf")
        .get(framework=framework, ref=ref)
    )


def control_partners(control: Control) -> list[Control]:
    if control.framework == Framework.AI_RMF:
        return [link.iso for link in control.iso_links.all()]
    return [link.ai_rmf for link in control.ai_rmf_links.all()]


def system_versions(*, system: AISystem):
    return system.versions.select_related("parent", "created_by", "train_dataset", "eval_dataset").order_by("-created_at")


# --- Pages: the portfolio, the system page, the inbox ---------------------------------------
# Each function below reads in a fixed number of queries whatever the number of systems,
# versions or runs (tests/governance/test_pages.py holds them to it).

ENVIRONMENTS = ("staging", "production")
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
    from django.db.models import F, OuterRef, Subquery

    latest = ModelVersion.objects.filter(system=OuterRef("pk")).order_by("-created_at").values("pk")[:1]
    # The owner's name as columns rather than select_related: no second model per row.
    qs = AISystem.objects.annotate(latest_version_id=Subquery(latest), owner_first=F("owner__first_name"),
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
    for s in todo:
        s.coverage = {}
        for fw in Framework:
            c = counts.get((s.pk, fw.value), {})
            total = sum(c.values())
            done = sum(c.get(k, 0) for k in DONE)
            s.coverage[fw.value] = {
                "label": fw.label, "short": "AI RMF" if fw == Framework.AI_RMF else "ISO 42001",
                "total": total, "done": done, "failed": c.get(AssessmentStatus.FAILED, 0),
                "counts": dict(c), "percent": round(100 * done / total) if total else 0,
            }


def _systems_with_coverage(*, search: str = "", risk_tier: str = "", stage: str = "", ids=None) -> list[AISystem]:
    systems = _systems(search=search, risk_tier=risk_tier, stage=stage, ids=ids)
    _coverage(systems, everyone=ids is None and not (search or risk_tier or stage))
    return systems


def _policies(tiers) -> dict:
    """{(tier, environment): Policy}; one query (plus one per missing default, never more than six)."""
    from governance.models import Policy
    from governance.policies import policy_for

    found = {(p.risk_tier, p.environment): p for p in Policy.objects.all()}
    for tier in tiers:
        for env in ENVIRONMENTS:
            if (tier, env) not in found:
                found[(tier, env)] = policy_for(risk_tier=tier, environment=env)
    return found


class GateBoard:
    """The deploy gate for many systems' latest versions at once, in a constant number of queries.

    The decision is governance.gate's own (`gate_decide` over its `Facts`, read by its batched
    readers in governance.gate_reads); the board gathers the facts for all systems in one go,
    where gate_evaluate_many gathers them for one system, so the portfolio and the gate API
    cannot disagree. One of the gate's rules lets `decision()` answer "deny" without building
    the reasons - no allow without an approved, unexpired request for the environment - so
    1,000 systems stay cheap; `answer()`, with the reasons, runs for the rows a page shows
    and for allow candidates (after `focus()` read their failed controls).
    """

    def __init__(self, *, systems, versions: dict, now):
        # The gate's own batched readers (by version ids, across systems): the same rows, read
        # the same way, as the gate API's answer.
        from governance import gate_reads as reads

        self.now, self.versions = now, versions
        self.systems = {s.pk: s for s in systems if s.pk in versions}
        self.policies = _policies({s.risk_tier for s in self.systems.values()})
        kinds = sorted({k for p in self.policies.values() for k in (p.audit_requirements or {})})
        ids = [v.pk for v in versions.values()]
        envs = list(ENVIRONMENTS)
        self.runs = reads.latest_runs(version_ids=ids, kinds=kinds)
        needs_report = any(p.require_signed_report for p in self.policies.values())
        self.reports = reads.current_reports(version_ids=ids) if needs_report and ids else {}
        self.requests = reads.approval_requests(version_ids=ids, environments=envs) if ids else {}
        self.states = reads.gate_states(version_ids=ids, environments=envs) if ids else {}
        self.acceptances = reads.risk_acceptances(runs=self.runs, environments=envs)
        self.controls: dict = {}  # system id -> gate_reads.control_facts' answer, loaded by focus()
        self._answers: dict = {}

    def focus(self, systems) -> None:
        """Load the open findings and waived requirements of these systems, in one query: the
        answers need them, and only the rows a page shows (and allow candidates) are answered."""
        from governance import gate_reads as reads

        wanted = [s.pk for s in systems if s.pk in self.systems and s.pk not in self.controls]
        if wanted:
            self.controls.update(reads.control_facts(system_ids=wanted))

    def policy(self, system, env):
        return self.policies[(system.risk_tier, env)]

    def latest_request(self, system, env):
        version = self.versions.get(system.pk)
        found = self.requests.get((version.pk, env)) if version else None
        return found[0] if found else None

    def answer(self, system, env) -> dict:
        """The gate's full answer (decision and reasons) for the system's latest version."""
        from governance import gate

        key = (system.pk, env)
        if key not in self._answers:
            self.focus([system])  # normally done already, for the whole page at once
            facts = gate.Facts(
                policies={e: self.policy(system, e) for e in ENVIRONMENTS}, runs=self.runs, reports=self.reports,
                **gate._controls(self.controls[system.pk]), requests=self.requests, states=self.states,
                acceptances=self.acceptances,
            )
            self._answers[key] = gate.gate_decide(system, self.versions[system.pk], env, facts, self.now)
        return self._answers[key]

    def decision(self, system, env) -> str | None:
        if system.pk not in self.versions:
            return None
        if not self.live_approval(system, env):
            return "deny"  # no live approval: the gate cannot allow, whatever else holds
        return self.answer(system, env)["decision"]

    def live_approval(self, system, env) -> bool:
        req = self.latest_request(system, env)
        return bool(req and req.status == "approved" and req.expires_at and req.expires_at > self.now)

    def overdue(self, system, warn_days: int) -> list[dict]:
        """Reviews past (or near) their date: required audits older than the policy's
        max_age_days, and approvals that expired or expire soon."""
        items, seen = [], set()
        version = self.versions.get(system.pk)
        if version is None:
            return items
        for env in ENVIRONMENTS:
            for kind, spec in sorted((self.policy(system, env).audit_requirements or {}).items()):
                run = self.runs.get(version.pk, {}).get(kind)
                max_age = (spec or {}).get("max_age_days")
                if run is None or max_age is None or kind in seen or run.finished_at is None:
                    continue
                age = (self.now - run.finished_at).total_seconds() / 86400
                label = kind.replace("_", " ")
                if age > max_age:
                    seen.add(kind)
                    items.append({"level": "overdue", "text": f"{label} audit is {int(age)} days old (policy: {max_age})"})
                elif max_age - age <= warn_days:
                    seen.add(kind)
                    items.append({"level": "due", "text": f"{label} audit due in {max(0, int(max_age - age))} days"})
            req = self.latest_request(system, env)
            if req is not None and req.expires_at and req.status in ("approved", "expired"):
                if req.expires_at <= self.now:
                    items.append({"level": "overdue", "text": f"{env} approval expired {req.expires_at:%Y-%m-%d}"})
                elif (req.expires_at - self.now).days < warn_days:
                    items.append({"level": "due", "text": f"{env} approval expires {req.expires_at:%Y-%m-%d}"})
        return items


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


def portfolio_gates(*, systems, versions: dict, now=None) -> dict:
    """{system_id: {env: gate answer}} for each system's latest version (constant queries)."""
    from django.utils import timezone

    board = GateBoard(systems=systems, versions=versions, now=now or timezone.now())
    board.focus(systems)
    return {pk: {env: board.answer(s, env) for env in ENVIRONMENTS} for pk, s in board.systems.items()}


def _latest_runs(version_ids) -> dict:
    """{version_id: {kind: latest run (any status)}} as dicts: the chips of the portfolio and inbox."""
    from audits.models import AuditRun

    latest: dict = defaultdict(dict)
    qs = (AuditRun.objects.filter(version_id__in=list(version_ids)).order_by("-created_at")
          .values("id", "version_id", "kind", "status", "outcome", "log"))
    for run in qs:
        latest[run["version_id"]].setdefault(run["kind"], run)
    return latest


def _chip(run: dict) -> dict:
    if run["status"] == "succeeded":
        state = run["outcome"] or "info"
    elif run["status"] == "failed":
        state = "error"
    else:
        state = run["status"]
    return {"kind": run["kind"], "state": state, "run": run}


def portfolio(*, search: str = "", risk_tier: str = "", stage: str = "", gate: str = "", attention: bool = False,
              sort: str = "name", now=None) -> list[AISystem]:
    """Every AI system with coverage, latest audit chips, open findings, overdue reviews and the
    gate per environment; filtered and sorted. Constant query count."""
    from django.conf import settings
    from django.utils import timezone

    now = now or timezone.now()
    systems = _systems(search=search, risk_tier=risk_tier, stage=stage)
    if sort == "coverage":  # otherwise coverage is read for the rows shown only (PortfolioRows.show)
        _coverage(systems, everyone=not (search or risk_tier or stage))
    version_ids = _latest_version_ids(systems)
    versions = {v.pk: v for v in ModelVersion.objects.filter(pk__in=list(version_ids.values()))
                .only("id", "system_id", "version", "artifact_sha256", "created_at")}
    by_system = {sid: versions[vid] for sid, vid in version_ids.items() if vid in versions}
    board = GateBoard(systems=systems, versions=by_system, now=now)
    # Where an approval could allow, the answer needs the controls (findings, waivers): one read.
    board.focus([s for s in systems if board.live_approval(s, "production")])
    runs = _latest_runs(versions)
    warn = getattr(settings, "APPROVAL_EXPIRY_WARNING_DAYS", 14)
    for s in systems:
        s.latest_version = by_system.get(s.pk)
        s.gates = PortfolioGates(board, s)
        s.production = board.decision(s, "production")
        s.chips = [_chip(r) for _, r in sorted(runs.get(s.latest_version.pk, {}).items())] if s.latest_version else []
        s.overdue = board.overdue(s, warn)
        s.needs_attention = bool(s.open_findings or any(i["level"] == "overdue" for i in s.overdue))
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


def controls_heatmap(grouped: dict) -> list[dict]:
    """The system's assessments as a heatmap: framework -> group (AI RMF function or ISO
    objective) -> row (AI RMF category or ISO sub-objective) -> cells. No query: it reshapes
    what system_assessments_grouped loaded."""
    out = []
    for fw in Framework:
        groups = []
        for ref, g in grouped.get(fw.value, {}).items():
            rows: OrderedDict = OrderedDict()
            for a in g["assessments"]:
                key = a.control.category_ref or ""
                row = rows.setdefault(key, {"ref": key, "title": a.control.category_title if key else "", "cells": []})
                row["cells"].append(a)
            groups.append({"ref": ref, "title": g["title"], "rows": list(rows.values()), "counts": g["counts"],
                           "total": len(g["assessments"])})
        out.append({"framework": fw.value, "label": fw.label, "groups": groups})
    return out


def version_lineage(versions) -> list[dict]:
    """Versions as a tree (parent -> children), newest roots first: [{"version", "depth", "children"}]."""
    versions = list(versions)
    known = {v.pk for v in versions}
    children: dict = defaultdict(list)
    roots = []
    for v in sorted(versions, key=lambda v: v.created_at):
        if v.parent_id in known:
            children[v.parent_id].append(v)
        else:
            roots.append(v)

    def node(v, depth):
        return {"version": v, "depth": depth, "children": [node(c, depth + 1) for c in children.get(v.pk, [])]}

    return [node(v, 0) for v in reversed(roots)]


# Kinds whose history is read from their stored results rather than their policy checks
# (a drift review records PSI per feature, not threshold checks).
HISTORY_FROM_RESULTS = ("drift",)


def system_audit_history(*, system: AISystem) -> dict:
    """{kind: [{"at", "version", "outcome", "checks", "results"}]} of succeeded runs, oldest
    first: two queries (results, which can be large, only for the kinds that need them)."""
    from audits.models import AuditRun, RunStatus

    history: dict = defaultdict(list)
    base = (AuditRun.objects.filter(system=system, status=RunStatus.SUCCEEDED, finished_at__isnull=False)
            .select_related("version").order_by("finished_at"))
    fields = ["id", "kind", "finished_at", "outcome", "checks", "version__version"]
    runs = list(base.exclude(kind__in=HISTORY_FROM_RESULTS).only(*fields))
    runs += list(base.filter(kind__in=HISTORY_FROM_RESULTS).only(*fields, "results"))
    for run in sorted(runs, key=lambda r: r.finished_at):
        history[run.kind].append({"id": run.pk, "at": run.finished_at, "version": run.version.version,
                                  "outcome": run.outcome, "checks": run.checks or [],
                                  "results": run.results if run.kind in HISTORY_FROM_RESULTS else {}})
    return dict(history)


def assessment_detail(*, system: AISystem, framework: str, ref: str) -> ControlAssessment:
    return (
        ControlAssessment.objects.filter(system=system, control__framework=framework, control__ref=ref)
        .select_related("control", "owner", "system")
        .prefetch_related(Prefetch("evidence", queryset=Evidence.objects.select_related("audit_run")),
                          "control__iso_links__iso", "control__ai_rmf_links__ai_rmf")
        .get()
    )


def partner_assessments(*, system: AISystem, control: Control) -> list[ControlAssessment]:
    """The crosswalk partners of `control`, as assessed on `system`."""
    partners = control_partners(control)
    return list(ControlAssessment.objects.filter(system=system, control__in=partners).select_related("control")
                .order_by("control__framework", "control__sort_key"))


# Which audit kinds each approving role looks at first (DESIGN: who signs off what).
ROLE_KINDS = {
    "security_reviewer": ["robustness", "poisoning", "privacy"],
    "risk_officer": ["fairness", "data_quality", "drift"],
    "compliance_officer": ["fairness", "data_quality", "drift", "robustness", "poisoning", "privacy"],
    "executive_approver": [],  # the executive sees the summary, every kind at a glance
}


def inbox(*, user) -> dict:
    """What waits for `user`: approvals to decide (with the evidence that matters to their role),
    their own requests, and failed audits on their systems. Constant query count."""
    from audits.models import AuditRun
    from governance.approvals import approvals_awaiting
    from governance.models import ApprovalDecision, ApprovalRequest
    from governance.roles import user_roles

    roles = user_roles(user)
    awaiting = approvals_awaiting(user=user)
    version_ids = {r.version_id for r in awaiting}
    runs = _latest_runs(version_ids) if version_ids else {}
    system_ids = {r.version.system_id for r in awaiting}
    coverage = {s.pk: s for s in _systems_with_coverage(ids=system_ids)} if system_ids else {}
    for r in awaiting:
        r.runs = runs.get(r.version_id, {})
        r.system_row = coverage.get(r.version.system_id)
        r.prior = [d for d in r.decisions.all()]
    mine = list(
        ApprovalRequest.objects.filter(requested_by=user).select_related("version__system")
        .prefetch_related(Prefetch("decisions", queryset=ApprovalDecision.objects.select_related("user")))
        .order_by("-created_at")[:20]
    )
    failed = list(
        AuditRun.objects.filter(system__owner=user).filter(Q(status="failed") | Q(outcome="fail"))
        .select_related("system", "version").order_by("-created_at")[:10]
    )
    return {"awaiting": awaiting, "mine": mine, "failed_runs": failed, "roles": roles}


def system_approval_timeline(*, system: AISystem, limit: int = 40) -> list[dict]:
    """Every approval event of the system's versions, newest first: requested, each decision,
    approved, rejected, revoked, expired. Two queries."""
    from governance.models import ApprovalDecision, ApprovalRequest

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
