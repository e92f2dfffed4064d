"""The gate for many systems at once (the portfolio), in a constant number of queries."""

from __future__ import annotations

from governance.gate import reads
from governance.gate import services as gate
from governance.policies.models import Policy
from governance.policies.services import policy_for

ENVIRONMENTS = ("staging", "production")


def _policies(tiers) -> dict:
    """{(tier, environment): Policy}; one query (plus one per missing default, never more than six)."""
    found = {(p.risk_tier, p.environment): p for p in Policy.objects.all()}
    for tier in tiers:
        for env in ENVIRONMENTS:
            if (tier, env) not in found:
                found[(tier, env)] = policy_for(risk_tier=tier, environment=env)
    return found


class GateBoard:
    """The deploy gate for many systems' latest versions at once, in a constant number of queries.

    The decision is the gate's own (`gate_decide` over its `Facts`, read by its batched
    readers in governance/gate/reads.py); the board gathers the facts for all systems in one go,
    where gate_evaluate_many gathers them for one system, so the portfolio and the gate API
    cannot disagree. One of the gate's rules lets `decision()` answer "deny" without building
    the reasons - no allow without an approved, unexpired request for the environment - so
    1,000 systems stay cheap; `answer()`, with the reasons, runs for the rows a page shows
    and for allow candidates (after `focus()` read their failed controls).
    """

    def __init__(self, *, systems, versions: dict, now, others=()):
        # The gate's own batched readers (by version ids, across systems): the same rows, read
        # the same way, as the gate API's answer. `others`: more versions (an older one still
        # approved, say) that `answer_for` may be asked about, read in the same queries.
        self.now, self.versions = now, versions
        self.systems = {s.pk: s for s in systems if s.pk in versions}
        self.policies = _policies({s.risk_tier for s in self.systems.values()})
        kinds = sorted({k for p in self.policies.values() for k in (p.audit_requirements or {})})
        ids = list({v.pk for v in [*versions.values(), *others]})
        envs = list(ENVIRONMENTS)
        self.runs = reads.latest_runs(version_ids=ids, kinds=kinds)
        needs_report = any(p.require_signed_report for p in self.policies.values())
        self.reports = reads.current_reports(version_ids=ids) if needs_report and ids else {}
        self.requests = reads.approval_requests(version_ids=ids, environments=envs) if ids else {}
        self.states = reads.gate_states(version_ids=ids, environments=envs) if ids else {}
        self.acceptances = reads.risk_acceptances(runs=self.runs, environments=envs)
        self.incidents = gate.incidents_if_asked(self.policies.values(), ids) if ids else {}
        self.controls: dict = {}  # system id -> gate_reads.control_facts' answer, loaded by focus()
        self._answers: dict = {}

    def focus(self, systems) -> None:
        """Load the open findings and waived requirements of these systems, in one query: the
        answers need them, and only the rows a page shows (and allow candidates) are answered."""
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
        return self.answer_for(system, self.versions[system.pk], env)

    def answer_for(self, system, version, env) -> dict:
        """The gate's full answer for one of the system's versions given to the board."""
        key = (version.pk, env)
        if key not in self._answers:
            self.focus([system])  # normally done already, for the whole page at once
            facts = gate.Facts(
                policies={e: self.policy(system, e) for e in ENVIRONMENTS}, runs=self.runs, reports=self.reports,
                **gate._controls(self.controls[system.pk]), requests=self.requests, states=self.states,
                acceptances=self.acceptances, incidents=self.incidents,
            )
            self._answers[key] = gate.gate_decide(system, version, env, facts, self.now)
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
