"""Benchmark: the explainability audit on the demo's credit model, through the worker's code path.

Not a test (pytest does not collect bench_*.py). Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_explainability.py
    .venv/bin/python tests/benchmarks/bench_explainability.py --repeats 5

Setup (not timed): a throwaway SQLite database and media folder in a temporary VAR_DIR and
the demo data exactly as `make demo` creates it (the German-credit MLP, 30 epochs, version
1.0.0 with its 70/30 split).

Timed, --repeats times (default 3), median reported: `audit_run_create` + `audit_run_execute`
of an explainability run with the kind's default settings (30 permutation repeats, 32
Integrated-Gradients steps, 99 random deletion orders up to 5 features, 3 randomized models,
200 bootstrap resamples, 1,000 for the proxy AUCs, 5 local explanations): loading the artifact
and data from storage, the probe, the policy checks, storing results and evidence. Wall-clock
(perf_counter) and CPU (process_time) are both printed, with the load average: on a shared
machine the CPU time is the steadier figure. Target: under 60 s on 2 CPU cores.
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def setup_django(var_dir: Path):
    os.environ.update({"VAR_DIR": str(var_dir), "DEBUG": "1", "SECRET_KEY": "bench-only",
                       "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend", "AUDIT_DEVICE": "cpu",
                       "DJANGO_SETTINGS_MODULE": "governance.settings", "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-explain-") as tmp:
        setup_django(Path(tmp))
        from audits.runs.models import AuditRun
        from audits.runs.services import audit_run_create, audit_run_execute
        from governance.demo.setup import demo_setup
        from governance.registry.models import ModelVersion

        print("setting up the demo data (not timed) ...", flush=True)
        demo_setup(log=lambda *_: None)
        version = ModelVersion.objects.select_related("system").get(system__slug="credit-scoring", version="1.0.0")

        walls, cpus, run = [], [], None
        for _ in range(args.repeats):
            w, c = time.perf_counter(), time.process_time()
            run = audit_run_create(actor=version.created_by, version=version, kind="explainability")
            status = audit_run_execute(run_id=run.pk)
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
            run = AuditRun.objects.get(pk=run.pk)
            assert status == "succeeded", run.error

        r = run.results
        import torch

        print(f"\nMachine: {os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}, Python "
              f"{platform.python_version()}, torch {torch.__version__}; load average "
              f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"Rows {r['n']}, features {len(r['features'])}, settings {r['params']}")
        print("\n| repeats | wall, median (min) | CPU, median | outcome |\n|---|---|---|---|")
        print(f"| {args.repeats} | {statistics.median(walls):.1f} s ({min(walls):.1f} s) | "
              f"{statistics.median(cpus):.1f} s | {run.outcome} |")
        print("\n| method | top 3 | deletion gap (interval) | random orders at least as damaging | "
              "randomization similarity (interval) | verdict |\n|---|---|---|---|---|---|")
        for m in r["methods"].values():
            d, z = m["deletion"], m["randomization"] or {}
            ci = z.get("ci")
            print(f"| {m['label']} | {', '.join(m['order'][:3])} | {d['gap']:.3f} ({d['ci'][0]:.3f} to "
                  f"{d['ci'][1]:.3f}) | {d['beaten_by']:.0%} | {z.get('similarity'):.3f}"
                  + (f" ({ci[0]:.3f} to {ci[1]:.3f})" if ci else "") + f" | {m['verdict']} |")
        findings = [f"{p['feature']} for {p['attribute']} ({p['outcome']})" for p in r["proxy_findings"]]
        print(f"\nProxy findings: {', '.join(findings) or 'none'}; checks: "
              + ", ".join(f"{c['metric']} [{c['feature']}] {c['outcome']}" for c in run.checks))


if __name__ == "__main__":
    main()
