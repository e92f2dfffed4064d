"""A Prometheus collector that reads the run metrics at scrape time (selectors.py)."""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from audits.runs.models import RunStatus
from governance.broker import QUEUES
from governance.metrics import selectors


class AuditRunCollector:
    def collect(self):
        queued = GaugeMetricFamily("governance_audit_runs_queued", "Audit runs waiting for a worker, by queue",
                                   labels=["queue"])
        by_queue = selectors.runs_queued_by_queue()
        for queue in sorted(set(QUEUES) | set(by_queue)):
            queued.add_metric([queue], by_queue.get(queue, 0))
        yield queued

        runs = GaugeMetricFamily("governance_audit_runs", "Audit runs by kind and state", labels=["kind", "status"])
        counts = selectors.runs_by_kind_and_status()
        for kind in sorted({k for k, _ in counts}):
            for status in RunStatus.values:
                runs.add_metric([kind, status], counts.get((kind, status), 0))
        yield runs

        duration = HistogramMetricFamily("governance_audit_run_duration_seconds",
                                         "Start to finish of finished audit runs, by kind", labels=["kind"])
        for kind, h in sorted(selectors.run_duration_histogram().items()):
            buckets = [(str(float(b)), n) for b, n in h["buckets"]] + [("+Inf", h["count"])]
            duration.add_metric([kind], buckets, h["sum"])
        yield duration

        recoveries = CounterMetricFamily("governance_sweeper_recoveries",
                                         "Runs the sweeper re-queued after their worker stopped heartbeating",
                                         labels=["kind"])
        for kind, n in sorted(selectors.sweeper_recoveries_by_kind().items()):
            recoveries.add_metric([kind], n)
        yield recoveries
