"""Benchmark: server render time of the portfolio and a system page at scale.

Not a test (pytest does not collect bench_*.py). Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_pages.py
    .venv/bin/python tests/benchmarks/bench_pages.py --systems 200 --repeats 5

Scale (defaults): 1,000 AI systems, 5 versions each (5,000; each version's parent is the one
before, so lineage trees are 5 deep), one control assessment per control of both frameworks
per system (110 each: 110,000 rows) with statuses spread over all five values, evidence on
the fairness controls, one finished fairness audit on each latest version (a third of them
failing, some older than the policy allows), and approval requests on a fifth of the systems
(approved, in review, rejected). Rows are bulk-created straight into a fresh SQLite database
(setup speed); the pages then read them through the normal selectors, views and templates.

Timed: Django's test client GET of the page (URL resolution, session, middleware, the view's
queries, template rendering), median of --repeats after one warm-up. Query counts are
reported too; tests/portfolio/test_pages.py asserts that the portfolio's does not grow.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
VAR = Path(tempfile.mkdtemp(prefix="bench-pages-"))
os.environ["VAR_DIR"] = str(VAR)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.test_settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

STATUSES = ["satisfied", "in_progress", "not_started", "not_applicable", "failed"]
CHECKS = [
    {"metric": "demographic_parity_difference", "feature": "sex", "value": 0.04, "ci": [0.01, 0.07],
     "threshold": 0.1, "operator": "<=", "outcome": "pass", "explanation": "..."},
    {"metric": "demographic_parity_ratio", "feature": "sex", "value": 0.93, "ci": [0.88, 0.97],
     "threshold": 0.8, "operator": ">=", "outcome": "pass", "explanation": "..."},
    {"metric": "equalized_odds_difference", "feature": "sex", "value": 0.08, "ci": [0.03, 0.15],
     "threshold": 0.2, "operator": "<=", "outcome": "pass", "explanation": "..."},
]


def build(n_systems: int, n_versions: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from audits.runs.models import AuditRun
    from governance.catalog.loader import catalog_load
    from governance.demo.setup import roles_ensure
    from governance.registry.models import AISystem, ModelVersion
    from governance.approvals.models import ApprovalDecision, ApprovalRequest
    from governance.catalog.models import Control, ControlAssessment, Evidence
    from governance.policies.models import Policy
    from governance.policies.services import policies_ensure_defaults

    call_command("migrate", verbosity=0)
    catalog_load()
    roles_ensure()
    policies_ensure_defaults()
    User = get_user_model()
    owner = User.objects.create_user("olivia", password="x")
    owner.groups.add(Group.objects.get(name="model_owner"))
    officer = User.objects.create_user("carla", password="x")
    officer.groups.add(Group.objects.get(name="compliance_officer"))
    risk = User.objects.create_user("rachel", password="x")
    risk.groups.add(Group.objects.get(name="risk_officer"))
    controls = list(Control.objects.order_by("framework", "sort_key"))
    fairness_refs = {"MEASURE 2.11", "MEASURE 2.2", "A.5.4", "A.7.4"}
    now = timezone.now()
    tiers, stages = ["low", "medium", "high"], ["design", "development", "validation", "deployed"]
    with transaction.atomic():
        systems = AISystem.objects.bulk_create([
            AISystem(name=f"System {i:04d}", slug=f"sys-{i:04d}", owner=owner, purpose=f"Purpose {i}",
                     risk_tier=tiers[i % 3], lifecycle_stage=stages[i % 4]) for i in range(n_systems)])
        versions, latest = [], {}
        for s in systems:
            parent = None
            for j in range(n_versions):
                v = ModelVersion(system=s, version=f"1.{j}.0", artifact=f"artifacts/{s.slug}-{j}.safetensors",
                                 artifact_sha256=f"{s.pk:032d}{j:032d}", artifact_format="safetensors",
                                 parent=parent, created_by=owner)
                versions.append(v)
                parent = v
            latest[s.pk] = parent
        # UUID keys exist before saving, and parents come first in the list: one pass does it
        ModelVersion.objects.bulk_create(versions, batch_size=2000)
        assessments = [
            ControlAssessment(system=s, control=c, status=STATUSES[(i + k) % 5] if c.ref not in fairness_refs
                              else ("failed" if i % 3 == 0 else "satisfied"))
            for i, s in enumerate(systems) for k, c in enumerate(controls)]
        ControlAssessment.objects.bulk_create(assessments, batch_size=5000)
        runs = []
        for i, s in enumerate(systems):
            at = now - timedelta(days=(200 if i % 7 == 0 else 10))
            runs.append(AuditRun(system=s, version=latest[s.pk], kind="fairness", status="succeeded", progress=100,
                                 outcome="fail" if i % 3 == 0 else "pass", checks=CHECKS, log="Fairness summary.",
                                 started_at=at, finished_at=at))
        AuditRun.objects.bulk_create(runs, batch_size=2000)
        by_system = {r.system_id: r for r in runs}
        fair = ControlAssessment.objects.filter(control__ref__in=fairness_refs).only("id", "system_id")
        Evidence.objects.bulk_create([
            Evidence(assessment=a, audit_run_id=by_system[a.system_id].pk, kind="fairness",
                     outcome=by_system[a.system_id].outcome, summary="Fairness summary.")
            for a in fair], batch_size=5000)
        policies = {(p.risk_tier, p.environment): p for p in Policy.objects.all()}
        requests = []
        for i, s in enumerate(systems):
            if i % 5:
                continue
            status = ["approved", "in_review", "rejected"][i % 3]
            policy = policies[(s.risk_tier, "production")]
            requests.append(ApprovalRequest(
                version=latest[s.pk], environment="production", policy=policy, stages=policy.approval_stages,
                policy_snapshot={"name": policy.name, "approval_valid_days": 180}, status=status, current_stage=1,
                requested_by=owner, submitted_at=now, approved_at=now if status == "approved" else None,
                decided_at=now if status != "in_review" else None,
                expires_at=now + timedelta(days=10 if i % 2 else 170) if status == "approved" else None))
        ApprovalRequest.objects.bulk_create(requests)
        ApprovalDecision.objects.bulk_create([
            ApprovalDecision(request=r, stage=1, role="risk_officer", user=risk,
                             decision="approve" if r.status == "approved" else "reject", comment="ok")
            for r in requests if r.status != "in_review"])
    return {"systems": AISystem.objects.count(), "versions": ModelVersion.objects.count(),
            "assessments": ControlAssessment.objects.count(), "runs": AuditRun.objects.count(),
            "evidence": Evidence.objects.count(), "approvals": ApprovalRequest.objects.count(),
            "officer": officer, "slug": systems[len(systems) // 2].slug}


def timed(client, url: str, repeats: int) -> dict:
    response = client.get(url)  # warm-up (template loading, caches)
    assert response.status_code == 200, (url, response.status_code)
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    # execute_wrapper, not CaptureQueriesContext: with CONN_MAX_AGE=0 each request reconnects,
    # which empties the connection's query log before it could be read.
    with connection.execute_wrapper(count):
        client.get(url)
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(url)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {"url": url, "median_ms": statistics.median(times) * 1000, "min_ms": min(times) * 1000,
            "max_ms": max(times) * 1000, "cpu_ms": statistics.median(cpu) * 1000, "queries": len(queries),
            "bytes": len(response.content)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=5, help="versions per system")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    setup_test_environment()
    start = time.perf_counter()
    data = build(args.systems, args.versions)
    setup_s = time.perf_counter() - start
    client = Client()
    client.force_login(data.pop("officer"))
    slug = data.pop("slug")
    results = [
        ("Portfolio, first page (gate decision, open findings, overdue reviews and audit chips of all systems; "
         "coverage bars and the gate's reasons for the 50 rows shown)",
         timed(client, "/systems/", args.repeats)),
        ("Portfolio, sorted by open findings", timed(client, "/systems/?sort=findings", args.repeats)),
        ("Portfolio, sorted by coverage (every system's coverage computed)",
         timed(client, "/systems/?sort=coverage", args.repeats)),
        ("Portfolio, all rows on one page (print view)", timed(client, "/systems/?size=all", max(3, args.repeats // 3))),
        (f"System page ({slug}: 5 versions, heatmap of 110 controls, evidence, charts, panels)",
         timed(client, f"/systems/{slug}/", args.repeats)),
    ]
    import django as dj

    print("## Dashboard pages\n")
    print(f"Command: `.venv/bin/python tests/benchmarks/bench_pages.py` (Django {dj.get_version()}, SQLite "
          f"{connection.Database.sqlite_version}, Python {platform.python_version()}). Data: "
          + ", ".join(f"{v:,} {k}" for k, v in data.items())
          + f", bulk-created in {setup_s:.0f} s. Median of {args.repeats} GETs through Django's test client "
          "after one warm-up (URL resolution, session, middleware, queries, template rendering).\n")
    print("| page | median (wall) | min | max | median CPU | queries | HTML | target |")
    print("|---|---|---|---|---|---|---|---|")
    for label, r in results:
        target = "< 300 ms" if "all rows" not in label else "—"
        print(f"| {label} | **{r['median_ms']:.0f} ms** | {r['min_ms']:.0f} ms | {r['max_ms']:.0f} ms | "
              f"{r['cpu_ms']:.0f} ms | {r['queries']} | {r['bytes'] / 1024:.0f} KiB | {target} |")
    print(f"\nLoad average during the run: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores); "
          "CPU is this process's own time (SQLite runs in-process), which other work on the machine "
          "inflates less than wall time.")


if __name__ == "__main__":
    main()
