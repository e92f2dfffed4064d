"""The report's template context, read from the database and nothing else.

Everything the PDF says comes from stored rows: the registry (system, version, datasets),
the succeeded audit runs of the version (their stored results, checks, seeds, package
versions, device and worker host), the control assessments with their evidence, the policy
and the approval decisions so far. Nothing is recomputed here, so a report rebuilt from the
same rows says the same thing. The number of queries does not grow with the data.
"""

from __future__ import annotations

import platform
import socket
from collections import OrderedDict
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

from django.conf import settings

from audits.exports.model_card import headline_metrics
from audits.reports.sections import report_sections
from audits.runs.models import AuditRun, RunStatus
from audits.runs.registry import KINDS
from governance.approvals.models import (
    ApprovalDecision,
    ApprovalRequest,
    RiskAcceptance,
)
from governance.catalog.models import AssessmentStatus, ControlAssessment, Framework
from governance.catalog.selectors import EVIDENCE, scoped, system_documents
from governance.core import glossary
from governance.core.charts import coverage_bars
from governance.core.roles import Role, role_label
from governance.policies.services import policy_for

GENERIC_SECTION = "reports/sections/_generic.html"
# The full per-control table travels inside the PDF as this associated file (attachments.py).
COVERAGE_CSV_NAME = "control-coverage.csv"
STATUS_ORDER = [s.value for s in (AssessmentStatus.SATISFIED, AssessmentStatus.STALE, AssessmentStatus.FAILED, AssessmentStatus.IN_PROGRESS,
                                  AssessmentStatus.NOT_STARTED, AssessmentStatus.NOT_APPLICABLE)]
STATUS_LABELS = dict(AssessmentStatus.choices)
ATTENTION_STATUSES = {s.value for s in (AssessmentStatus.FAILED, AssessmentStatus.STALE, AssessmentStatus.IN_PROGRESS)}
OPERATOR_TEXT = {"<=": "at most", ">=": "at least", "max": "at most", "min": "at least"}
# The generic section lists at most this many numbers; the rest stay in the stored results.
MAX_GENERIC_METRICS = 40
REPORT_PACKAGES = ["Django", "typst", "pyHanko", "cryptography"]

OUTCOME_MEANING = {
    "pass": "The result meets the policy limit even at the unfavourable end of its confidence interval.",
    "fail": "The result misses the policy limit even at the favourable end of its confidence interval.",
    "inconclusive": "The confidence interval straddles the policy limit: the data cannot tell whether it is met.",
}

# Report-only terms; the metric definitions come from governance/core/glossary.py, the same words
# the pages and the wizard use.
_REPORT_TERMS = [
    ("Confidence interval (95%)", "A range that would contain the true value in 95 of 100 repetitions of the "
     "measurement on new data of the same kind. Wide intervals mean the data are too few to be precise."),
    ("Bootstrap", "Estimating uncertainty by recomputing a figure on many resamples of the evaluation data, "
     "drawn with replacement."),
    ("Slice / group", "The rows of the evaluation data that share a value of a sensitive feature (for example "
     "sex = female), or a combination of values (an intersection)."),
    ("Insufficient data", "A slice with fewer rows than the audit's minimum; its numbers are shown but it is left "
     "out of the disparity figures, because they would be unreliable."),
    ("Inconclusive", "A policy check whose confidence interval lies on both sides of the threshold: more data "
     "are needed to decide it."),
    ("Control", "One NIST AI RMF 1.0 subcategory or one ISO/IEC 42001:2023 Annex A control."),
    ("Evidence", "A record, usually produced by an audit, attached to the controls it speaks to; a control's "
     "status follows from the latest evidence of each kind."),
    ("SHA-256", "A cryptographic fingerprint of a file: any change to the file changes it."),
    ("PAdES certification signature", "The digital signature on this PDF (ETSI EN 319 142). It covers the whole "
     "file and allows no later changes, so any alteration is detected by a verifier."),
    ("PDF/A-3b", "The archival PDF profile (ISO 19005-3) this report uses: fonts embedded, no external content."),
]
_METRIC_TERMS = [
    "selection_rate", "tpr", "fpr", "demographic_parity_difference", "demographic_parity_ratio",
    "equalized_odds_difference", "ece", "psi", "robust_accuracy", "attack_success_rate", "membership_auc",
    "tpr_at_low_fpr", "epsilon", "deletion_gap", "randomization_similarity", "proxy_auc",
]


def _glossary() -> list[tuple[str, str]]:
    # Read when a report renders: the audit kinds register their metrics when Django starts.
    return _REPORT_TERMS + [(glossary.term(k).label, glossary.term(k).measures) for k in _METRIC_TERMS]


LIMITATIONS = [
    "Every figure describes this model version on the evaluation data listed under Provenance. It does not "
    "establish performance or fairness on other populations, or after the input data drift.",
    "Policy checks are decided on the confidence interval, not the point estimate: a check passes only when the "
    "whole interval is on the right side of the threshold, and is inconclusive when the interval straddles it.",
    "Slices below the audit's minimum size are reported as insufficient data and are left out of the disparity "
    "figures; a model may still behave differently for them.",
    "Statistical parity measures describe outcomes, not causes; they are not a legal determination of "
    "discrimination. The four-fifths rule is a rule of thumb, not a statistical test.",
    "Only the audits listed in this report were run. Risks that no listed audit measures are not assessed here; "
    "the control coverage section shows which controls still lack evidence.",
    "The report is rendered from the results stored when it was generated. Later audits, approvals or control "
    "changes appear only in a later report, which supersedes this one.",
]


def _display_name(user) -> str:
    if user is None:
        return "the system"
    return user.get_full_name() or user.username


def _versions(names) -> dict:
    out = {}
    for name in names:
        try:
            out[name] = package_version(name)
        except PackageNotFoundError:
            pass
    return out


def _threshold_text(spec: dict) -> str:
    if not isinstance(spec, dict) or len(spec) != 1:
        return str(spec)
    (op, value), = spec.items()
    return f"{OPERATOR_TEXT.get(op, op)} {value:g}" if isinstance(value, (int, float)) else f"{op} {value}"


def _policy(system) -> dict:
    policy = policy_for(risk_tier=system.risk_tier)
    requirements = []
    for kind, req in (policy.audit_requirements or {}).items():
        label = KINDS[kind].label if kind in KINDS else kind.replace("_", " ").title()
        thresholds = [{"metric": glossary.term(m).label, "limit": _threshold_text(spec)}
                      for m, spec in (req.get("thresholds") or {}).items()]
        requirements.append({"kind": kind, "label": label, "max_age_days": req.get("max_age_days"),
                             "thresholds": thresholds})
    stages = [", ".join(role_label(r) for r in stage) for stage in policy.approval_stages]
    return {"name": policy.name, "requirements": requirements, "stages": stages,
            "require_signed_report": policy.require_signed_report, "environment": policy.environment}


def model_inputs(version) -> list[str] | None:
    """The columns the version itself reads (its spec's input encoding), or None when the artifact
    does not declare them. A retrained version may read fewer columns than its data hold."""
    spec_input = (version.spec or {}).get("input") or {}
    if spec_input.get("kind") != "tabular":
        return None
    return list(spec_input.get("numeric") or []) + list(spec_input.get("categorical") or [])


def _datasets(version) -> list[dict]:
    inputs = model_inputs(version)
    out = []
    for used_as, ds in (("Training", version.train_dataset), ("Evaluation", version.eval_dataset)):
        if ds is None:
            continue
        schema = ds.schema or {}
        out.append({"used_as": used_as, "name": ds.name, "role": ds.get_role_display(), "sha256": ds.sha256,
                    "n_rows": ds.n_rows, "format": ds.file_format, "size_bytes": ds.size_bytes,
                    "label": schema.get("label"), "features": schema.get("features") or [],
                    "sensitive": schema.get("sensitive") or [], "registered": ds.created_at,
                    "model_inputs": inputs,
                    "not_read": [f for f in schema.get("features") or [] if inputs is not None and f not in inputs]})
    return out


def _section_template(kind: str) -> str:
    """The kind's own report section (its folder's template), else the generic one."""
    spec = KINDS.get(kind)
    return (spec.report_template if spec else None) or GENERIC_SECTION


def _check_rows(run, label: str) -> list[dict]:
    rows = []
    for check in run.checks or []:
        metric = check.get("metric", "")
        outcome = check.get("outcome", "")
        limit = (f"{OPERATOR_TEXT.get(check.get('operator'), check.get('operator', ''))} {check['threshold']:g}"
                 if isinstance(check.get("threshold"), (int, float)) else "")
        if check.get("judged_at"):  # the setting the policy judged it at: "at least 0.6 at ε = 0.1 (policy)"
            limit = f"{limit} {glossary.setting_text(check['judged_at'])}".strip()
        rows.append({
            "audit": label, "kind": run.kind, "metric": glossary.term(metric).label,
            "feature": check.get("feature", ""), "value": check.get("value"), "ci": check.get("ci"),
            "limit": limit, "outcome": outcome, "outcome_label": glossary.check_outcome_label(check),
            "explanation": check.get("explanation") or OUTCOME_MEANING.get(outcome, ""),
        })
    return rows


# Parts of stored results that are not headline numbers: settings (shown under Method) and drawings.
NOT_METRICS = {"params", "figures", "checks"}
FINDING_CHIPS = {"pass": "pass", "ok": "pass", "warn": "inconclusive", "warning": "inconclusive", "fail": "fail"}


def _findings(results: dict) -> list[dict]:
    """A probe's own list of named checks (data quality: missing values, leakage, ...), if it has one."""
    items = results.get("checks")
    if not isinstance(items, list) or not all(isinstance(c, dict) and "name" in c and "status" in c for c in items):
        return []
    return [{"name": str(c["name"]).replace("_", " ").capitalize(), "status": c["status"],
             "chip": FINDING_CHIPS.get(c["status"], "info"), "count": c.get("count"),
             "explanation": c.get("explanation", "")} for c in items]


def _audits(version) -> list[dict]:
    """The latest succeeded run of each kind, in registry order, with how many it supersedes."""
    runs = list(AuditRun.objects.filter(version=version, status=RunStatus.SUCCEEDED)
                .select_related("created_by").order_by("-finished_at", "-created_at"))
    latest: OrderedDict[str, AuditRun] = OrderedDict()
    earlier: dict[str, int] = {}
    for run in runs:
        if run.kind in latest:
            earlier[run.kind] = earlier.get(run.kind, 0) + 1
        else:
            latest[run.kind] = run
    order = list(KINDS)
    kinds = sorted(latest, key=lambda k: (order.index(k) if k in order else len(order), k))
    sections = []
    for number, kind in enumerate(kinds, start=1):
        run = latest[kind]
        spec = KINDS.get(kind)
        label = spec.label if spec else kind.replace("_", " ").title()
        results = run.results or {}
        metrics = headline_metrics({k: v for k, v in results.items() if k not in NOT_METRICS})
        sections.append({
            "number": number, "kind": kind, "label": label, "anchor": f"audit-{kind}",
            "description": spec.description if spec else "", "run": run, "results": results,
            "checks": _check_rows(run, label), "figures": KINDS[kind].figures_for(results) if kind in KINDS else [],
            "template": _section_template(kind), "earlier_runs": earlier.get(kind, 0), "findings": _findings(results),
            "requested_by": _display_name(run.created_by),
            "page": spec.page_context(results) if spec and spec.page_context else {},  # the kind's words
            "metrics": metrics[:MAX_GENERIC_METRICS],
            "more_metrics": max(0, len(metrics) - MAX_GENERIC_METRICS),
        })
    return sections


def _summary(sections: list[dict], policy: dict) -> dict:
    checks = [row for s in sections for row in s["checks"]]
    counts = {o: sum(1 for c in checks if c["outcome"] == o) for o in ("pass", "fail", "inconclusive")}
    ran = {s["kind"] for s in sections}
    missing = [r["label"] for r in policy["requirements"] if r["kind"] not in ran]
    # An audit can fail without a failing threshold check (a drift breach, a data-quality failure).
    failed_audits = [s["label"].lower() for s in sections
                     if s["run"].outcome == "fail" and not any(c["outcome"] == "fail" for c in s["checks"])]
    if counts["fail"] or failed_audits:
        reasons = ([f"{counts['fail']} of {len(checks)} threshold checks failed"] if counts["fail"] else []) + (
            [f"the {' and the '.join(failed_audits)} failed"] if failed_audits else [])
        verdict, headline = "fail", (
            f"This model version does not meet its policy: {', and '.join(reasons)}. "
            "It should not be deployed until the failures are fixed, or an exception is approved and documented.")
    elif counts["inconclusive"] or missing:
        verdict, headline = "inconclusive", (
            "No threshold check failed, but the evidence is not yet sufficient to show that this model version "
            "meets its policy" + (f": {counts['inconclusive']} checks are inconclusive" if counts["inconclusive"] else "")
            + (f"; required audits not yet run: {', '.join(missing)}" if missing else "") + ".")
    elif checks:
        verdict, headline = "pass", (
            f"This model version meets every threshold of its policy ({len(checks)} checks), "
            "even at the unfavourable end of each confidence interval.")
    else:
        verdict, headline = "inconclusive", "No audit with policy thresholds has finished for this version yet."
    return {"verdict": verdict, "headline": headline, "counts": counts, "total": len(checks), "checks": checks,
            "missing": missing, "audits": [{"label": s["label"], "outcome": s["run"].outcome, "summary": s["run"].log,
                                            "outcome_label": glossary.outcome_label(s["run"].outcome, s["kind"]),
                                            "anchor": s["anchor"]} for s in sections]}


def _evidence_register(assessments) -> tuple[list[dict], dict]:
    """One register entry per distinct piece of evidence (an audit writes one row per control),
    from the evidence the report's scope shows (`shown_evidence`, catalog.selectors.scoped)."""
    register: OrderedDict[tuple, dict] = OrderedDict()
    refs: dict = {}
    all_evidence = sorted((ev for a in assessments for ev in a.shown_evidence), key=lambda e: (e.created_at, str(e.pk)))
    for ev in all_evidence:
        key = (ev.kind, ev.audit_run_id, ev.document_id, ev.summary, ev.outcome, ev.version_id)
        entry = register.get(key)
        if entry is None:
            entry = register[key] = {
                "ref": f"EV-{len(register) + 1:02d}", "kind": ev.kind, "outcome": ev.outcome, "summary": ev.summary,
                "created_at": ev.created_at, "run_id": ev.audit_run_id, "controls": [],
                "scope": f"version {ev.version.version}" if ev.version_id else "system-wide",
                "correction": ev.correction_reason,
            }
        entry["controls"].append(ev.assessment_id)
        refs[ev.pk] = entry["ref"]
    return list(register.values()), refs


def _coverage(system, version) -> dict:
    """The controls as they stand for `version`: its own evidence and the system-wide evidence,
    never another version's results (catalog.selectors.scoped)."""
    assessments = [scoped(a, version) for a in
                   ControlAssessment.objects.filter(system=system).select_related("control")
                   .prefetch_related(EVIDENCE).order_by("control__framework", "control__sort_key")]
    register, refs = _evidence_register(assessments)
    by_id = {a.pk: a.control.ref for a in assessments}
    for entry in register:
        entry["controls"] = sorted(set(by_id[c] for c in entry["controls"]), key=list(by_id.values()).index)
    frameworks = []
    for fw in Framework:
        groups: OrderedDict[str, dict] = OrderedDict()
        controls = []
        for a in (a for a in assessments if a.control.framework == fw):
            c = a.control
            group = groups.setdefault(c.group_ref, {"ref": c.group_ref, "title": c.group_title,
                                                    "counts": dict.fromkeys(STATUS_ORDER, 0)})
            group["counts"][a.shown_status] += 1
            controls.append({
                "ref": c.ref, "text": c.title or c.text, "group": c.group_ref, "group_title": c.group_title,
                "status": a.shown_status,
                "status_label": STATUS_LABELS.get(a.shown_status, a.shown_status), "notes": a.notes,
                "evidence": list(dict.fromkeys(refs[ev.pk] for ev in a.shown_evidence)),
            })
        rows = [{"label": g["ref"], "title": g["title"], "counts": g["counts"], "total": sum(g["counts"].values())}
                for g in groups.values()]
        totals = {s: sum(r["counts"][s] for r in rows) for s in STATUS_ORDER}
        axis = "function" if fw == Framework.AI_RMF else "objective"
        frameworks.append({
            "key": fw.value, "label": fw.label, "axis": axis, "rows": rows, "totals": totals,
            "total": sum(totals.values()), "controls": controls, **_condensed(controls),
            "chart": coverage_bars([{"label": r["label"], "counts": r["counts"]} for r in rows],
                                    title=f"{fw.label}: control status by {axis}"),
        })
    return {"frameworks": frameworks, "register": register, "statuses": [(s, STATUS_LABELS[s]) for s in STATUS_ORDER],
            "attachment": COVERAGE_CSV_NAME}


def _condensed(controls: list[dict]) -> dict:
    """What the body shows of a framework's controls; the attached CSV has every row in full.

    In full: the controls a reader must act on (failed, stale, in progress) and any control
    with a note (a waiver, why it does not apply), with their text and evidence. The others
    by reference only, grouped by status: satisfied ones with their evidence references,
    not started ones with none to show.
    """
    attention = [c for c in controls if c["status"] in ATTENTION_STATUSES or c["notes"]]
    shown = {c["ref"] for c in attention}
    listed = [{"status": s, "label": STATUS_LABELS[s], "controls": group}
              for s in STATUS_ORDER if (group := [c for c in controls if c["status"] == s and c["ref"] not in shown])]
    return {"attention": attention, "listed": listed}


def _documents(system) -> list[dict]:
    """The system's current documents and attestations (what replaced versions are superseded
    by), with their sha256, so a reader can check the copy they were given."""
    return [{"title": d.title, "kind": d.get_kind_display(), "filename": d.filename, "sha256": d.sha256,
             "content_type": d.content_type, "size_bytes": d.size_bytes, "effective_on": d.effective_on,
             "review_by": d.review_by, "expired": d.expired, "owner": _display_name(d.owner),
             "controls": [ref for _, ref in d.refs], "id": d.pk} for d in system_documents(system=system)]


def _approvals(version) -> dict:
    """Approval decisions so far, and the inconclusive results accepted in writing."""
    requests = list(ApprovalRequest.objects.filter(version=version).select_related("requested_by")
                    .order_by("created_at"))
    decisions = list(ApprovalDecision.objects.filter(request__version=version)
                     .select_related("request", "user").order_by("decided_at"))
    roles = dict(Role.choices)
    return {
        "available": True,
        # With the justification, and what the version missed of its policy when it was
        # requested or approved regardless (acknowledged in writing, governance/approvals/services.py).
        "requests": [{"environment": r.environment, "status": r.status, "created_at": r.created_at,
                      "name": _display_name(r.requested_by), "justification": r.justification,
                      "acknowledged_gaps": r.acknowledged_gaps or []} for r in requests],
        "decisions": [{"role": roles.get(d.role, d.role), "name": _display_name(d.user), "decision": d.decision,
                       "stage": d.stage, "environment": d.request.environment, "comment": d.comment,
                       "decided_at": d.decided_at, "acknowledged_gaps": d.acknowledged_gaps or []}
                      for d in decisions],
        # Inconclusive audits a named person accepted in writing (governance/approvals/risk.py).
        "accepted_risks": [{"kind": a.audit_run.kind, "run": a.audit_run_id, "environment": a.environment,
                            "role": roles.get(a.role, a.role), "name": _display_name(a.accepted_by),
                            "justification": a.justification, "accepted_at": a.accepted_at,
                            "expires_at": a.expires_at}
                           for a in RiskAcceptance.objects.filter(audit_run__version=version)
                           .select_related("audit_run", "accepted_by").order_by("accepted_at")],
    }


def _provenance(version, sections, datasets) -> dict:
    return {
        "artifact": {"sha256": version.artifact_sha256, "format": version.artifact_format,
                     "architecture": (version.spec or {}).get("architecture", ""),
                     "parent": version.parent.version if version.parent else "", "lineage": version.lineage or {}},
        "datasets": datasets,
        "runs": [{"label": s["label"], "id": s["run"].pk, "seeds": s["run"].seeds, "params": s["run"].params,
                  "packages": s["run"].package_versions, "device": s["run"].device,
                  "worker_host": s["run"].worker_host, "queue": s["run"].queue, "started_at": s["run"].started_at,
                  "finished_at": s["run"].finished_at, "attempts": s["run"].attempts} for s in sections],
        "generator": {"host": socket.gethostname(), "python": platform.python_version(),
                      "packages": _versions(REPORT_PACKAGES)},
    }


def report_context(*, report, generated_at) -> dict:
    """The template context of ``report`` (a Report with system, version and created_by loaded)."""
    system, version = report.system, report.version
    policy = _policy(system)
    sections = _audits(version)
    datasets = _datasets(version)
    return {
        "report": report,
        "report_number": report.report_number,
        "generated_at": generated_at,
        "organisation": settings.REPORT_ORGANISATION,
        "requested_by": _display_name(report.created_by),
        "system": system,
        "version": version,
        "policy": policy,
        "summary": _summary(sections, policy),
        "audits": sections,
        "coverage": _coverage(system, version),
        "documents": _documents(system),
        "approvals": _approvals(version),
        "provenance": _provenance(version, sections, datasets),
        "method": [{"label": s["label"], "description": s["description"], "params": s["run"].params}
                   for s in sections],
        "limitations": LIMITATIONS,
        "glossary": _glossary(),
        "sections": report_sections(report),  # registered by the apps above (audits/reports/sections.py)
    }
