"""Benchmark: the deploy gate under gunicorn vs MLflow's model-registry REST endpoint.

Not a test (pytest does not collect bench_*.py). Both servers run on 127.0.0.1 with the same
number of worker processes, on SQLite, side by side in one run; a bounded load generator
(a fixed number of requests from a few client processes, one new connection per request for
both, since gunicorn's sync workers close each connection) measures requests/s and p50/p99.

    python3.11 -m venv .venv-bench-mlflow
    .venv-bench-mlflow/bin/pip install mlflow==3.17.2
    .venv/bin/python tests/benchmarks/bench_gate.py                 # 3000 requests per target
    .venv/bin/python tests/benchmarks/bench_gate.py --requests 500  # quicker
    .venv/bin/python tests/benchmarks/bench_gate.py --workers 4 --concurrency 4

Defaults: 2 worker processes per server and 2 client processes (one per core of the
2-core machines here), requests split into 10 alternating rounds so that load from other
work on the machine hits both servers alike. Exit status 0 when the targets are met
(>= 2x MLflow's requests/s, gate p99 < 25 ms, no errors), 1 otherwise.

What is served:
- ours: GET /api/v1/gate/<system>/<version>/?environment=production with a gate:read pipeline
  token: token lookup, version lookup, policy, latest audits, findings, approvals with their
  decisions, the last answer (8 queries), then an Ed25519-signed in-toto/DSSE attestation.
  The version meets its policy, so the answer is a signed "allow"; its audits carry evidence,
  and an older version's failed audit leaves a failed control that the findings read must
  attribute to that version.
- MLflow: GET /api/2.0/mlflow/model-versions/get?name=<model>&version=1 on `mlflow server`
  (uvicorn, SQLite backend store), a plain registry read with no signature.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
MLFLOW = ROOT / ".venv-bench-mlflow" / "bin" / "mlflow"

SEED = r"""
import django, os, sys
django.setup()
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from audits.runs.models import AuditRun
from governance.registry import services
from governance.approvals.services import approval_decide, approval_request_create
from governance.demo.setup import roles_ensure
from governance.catalog.evidence import evidence_record
from governance.registry.models import ModelVersion
from governance.policies.services import policies_ensure_defaults
from governance.registry.tokens import pipeline_token_create
roles_ensure(); policies_ensure_defaults()
User = get_user_model()
owner = User.objects.create_user("owner"); owner.groups.add(Group.objects.get(name="model_owner"))
risk = User.objects.create_user("risk"); risk.groups.add(Group.objects.get(name="risk_officer"))
system = services.system_create(actor=owner, name="Triage", slug="triage", purpose="bench", risk_tier="medium")
version = ModelVersion.objects.create(system=system, version="1.0.0", artifact="artifacts/x.safetensors",
    artifact_sha256="a" * 64, artifact_format="safetensors", created_by=owner)
checks = [{"metric": m, "feature": "sex", "operator": op, "threshold": t, "outcome": "pass", "explanation": "ok"}
          for m, op, t in [("demographic_parity_difference", "<=", 0.1), ("demographic_parity_ratio", ">=", 0.8),
                           ("equalized_odds_difference", "<=", 0.2)]]
done = timezone.now() - timedelta(days=1)
for i in reversed(range(3)):
    run = AuditRun.objects.create(system=system, version=version, kind="fairness", status="succeeded", outcome="pass",
                                  checks=checks, started_at=done, finished_at=done - timedelta(days=i), progress=100)
    evidence_record(system=system, kind="fairness", outcome="pass", summary="bench", audit_run=run)
# An older version whose audit failed later: its finding is read (and set aside) on every answer.
old = ModelVersion.objects.create(system=system, version="0.9.0", artifact="artifacts/y.safetensors",
    artifact_sha256="b" * 64, artifact_format="safetensors", created_by=owner)
failed = AuditRun.objects.create(system=system, version=old, kind="fairness", status="succeeded", outcome="fail",
                                 checks=checks, started_at=done, finished_at=done, progress=100)
evidence_record(system=system, kind="fairness", outcome="fail", summary="bench", audit_run=failed)
req = approval_request_create(actor=owner, version=version, environment="production")
approval_decide(actor=risk, request=req, decision="approve", comment="bench")
_, key = pipeline_token_create(name="bench", scopes=["gate:read"], systems=[system])
print(key)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, *, timeout: float = 120, headers=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    raise SystemExit(f"server at {url} did not come up in {timeout}s")


def start(cmd, env, log_path):
    log = open(log_path, "wb")
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc) -> None:
    if proc and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def gate_server(tmp: Path, workers: int, procs: list):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="governance.settings", DEBUG="0", SECRET_KEY="bench-only-secret",
               ALLOWED_HOSTS="127.0.0.1", VAR_DIR=str(tmp / "gov"), DB_CONN_MAX_AGE="60", LOG_LEVEL="WARNING",
               PYTHONPATH=str(ROOT))
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    env["GATE_SIGNING_KEY"] = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    (tmp / "gov").mkdir()
    subprocess.run([str(PYTHON), "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    token = subprocess.run([str(PYTHON), "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True,
                           text=True).stdout.strip().splitlines()[-1]
    port = free_port()
    proc = start([str(GUNICORN), "governance.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
                  "--worker-class", "sync", "--log-level", "warning"], dict(env), tmp / "gunicorn.log")
    procs.append(proc)
    path = "/api/v1/gate/triage/1.0.0/?environment=production"
    headers = {"Authorization": f"Token {token}"}
    wait_http(f"http://127.0.0.1:{port}{path}", headers=headers)
    with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)) as r:
        body = json.loads(r.read())
    assert body["decision"] == "allow", body["reasons"]
    return proc, port, path, headers


def mlflow_server(tmp: Path, workers: int, procs: list):
    if not MLFLOW.exists():
        raise SystemExit(f"{MLFLOW} is missing: create .venv-bench-mlflow (see the docstring)")
    port = free_port()
    env = dict(os.environ, MLFLOW_TRACKING_URI="", PYTHONWARNINGS="ignore")
    proc = start([str(MLFLOW), "server", "--backend-store-uri", f"sqlite:///{tmp / 'mlflow.db'}",
                  "--default-artifact-root", str(tmp / "mlruns"), "--host", "127.0.0.1", "--port", str(port),
                  "--workers", str(workers)], env, tmp / "mlflow.log")
    procs.append(proc)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/health", timeout=180)

    def post(path, payload):
        req = urllib.request.Request(base + path, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"MLflow refused {path}: {exc.read().decode()[:500]}") from None

    post("/api/2.0/mlflow/registered-models/create", {"name": "triage"})
    post("/api/2.0/mlflow/model-versions/create", {"name": "triage", "source": "s3://models/triage/1"})  # a name only
    path = "/api/2.0/mlflow/model-versions/get?name=triage&version=1"
    wait_http(base + path)
    return proc, port, path, {}


def client(args):
    port, path, headers, n = args
    latencies = []
    errors = 0
    for _ in range(n):
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", path, headers={**headers, "Connection": "close"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors += 1
        except OSError:
            errors += 1
        finally:
            conn.close()
        latencies.append(time.perf_counter() - started)
    return latencies, errors


def load(pool, port, path, headers, *, requests: int, concurrency: int) -> tuple[list[float], int, float]:
    per = [requests // concurrency + (1 if i < requests % concurrency else 0) for i in range(concurrency)]
    started = time.perf_counter()
    results = pool.map(client, [(port, path, headers, n) for n in per])
    wall = time.perf_counter() - started
    return [x for lat, _ in results for x in lat], sum(e for _, e in results), wall


def summary(latencies: list[float], errors: int, wall: float) -> dict:
    q = statistics.quantiles(sorted(latencies), n=100, method="inclusive")
    return {"requests": len(latencies), "errors": errors, "seconds": round(wall, 3),
            "rps": round(len(latencies) / wall, 1), "p50_ms": round(q[49] * 1000, 2), "p99_ms": round(q[98] * 1000, 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per target, over all rounds")
    parser.add_argument("--concurrency", type=int, default=2, help="client processes (one per core here)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes, both servers (one per core)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds the requests are split into")
    args = parser.parse_args(argv)
    load_before = tuple(round(x, 1) for x in os.getloadavg())
    tmp = Path(tempfile.mkdtemp(prefix="bench-gate-"))
    procs = []
    try:
        gate = gate_server(tmp, args.workers, procs)
        mlflow = mlflow_server(tmp, args.workers, procs)
        targets = {"gate": gate, "mlflow": mlflow}
        totals = {name: ([], 0, 0.0) for name in targets}
        with multiprocessing.Pool(args.concurrency) as pool:
            for _, port, path, headers in targets.values():  # warm-up: imports, caches, connections
                pool.map(client, [(port, path, headers, 20)] * args.concurrency)
            # Short alternating rounds: load from anything else on the machine hits both alike.
            for _ in range(args.rounds):
                for name, (_, port, path, headers) in targets.items():
                    lat, err, wall = load(pool, port, path, headers, requests=args.requests // args.rounds,
                                          concurrency=args.concurrency)
                    totals[name] = (totals[name][0] + lat, totals[name][1] + err, totals[name][2] + wall)
        result = {name: summary(*total) for name, total in totals.items()}
    finally:
        for proc in procs:
            stop(proc)
    ratio = result["gate"]["rps"] / result["mlflow"]["rps"]
    print(json.dumps({"result": result, "ratio": round(ratio, 2), "loadavg_after": os.getloadavg()}, indent=2))
    print()
    print(f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
          f"{args.workers} server workers each, {args.concurrency} client processes, {args.requests} requests "
          f"per target in {args.rounds} alternating rounds; load average before {load_before}.")
    print()
    print("| target | requests/s | p50 (ms) | p99 (ms) | errors |")
    print("|---|---:|---:|---:|---:|")
    for name, label in (("gate", "gate, signed allow (gunicorn sync)"),
                        ("mlflow", "MLflow 3.17.2 model-versions/get (uvicorn)")):
        r = result[name]
        print(f"| {label} | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | {r['errors']} |")
    print(f"\nThroughput ratio gate / MLflow: {ratio:.2f}x (target >= 2x); gate p99 {result['gate']['p99_ms']} ms "
          "(target < 25 ms).")
    shutil.rmtree(tmp, ignore_errors=True)
    ok = ratio >= 2 and result["gate"]["p99_ms"] < 25 and not result["gate"]["errors"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
