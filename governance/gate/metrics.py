"""The gate's answers as Prometheus metrics, observed where the answer is given. They live in
this process's registry (or PROMETHEUS_MULTIPROC_DIR's files under gunicorn); /metrics serves
them (governance/metrics/)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

GATE_DECISIONS = Counter(
    "governance_gate_decisions", "Gate answers given, by environment and decision",
    ["environment", "decision"],
)
GATE_LATENCY = Histogram(
    "governance_gate_decision_seconds", "Time to compute and sign one gate answer",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
