"""What /metrics reports about audit runs, read from the database: the database is the truth
about runs (the broker only carries the signal), and every web process sees the same numbers
whichever worker or beat process changed them."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum

from audits.runs.models import AuditRun, RunStatus

# Seconds; an audit takes from a second (data quality on a small table) to hours (DP retraining).
DURATION_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600)


def runs_by_kind_and_status() -> dict[tuple[str, str], int]:
    rows = AuditRun.objects.values("kind", "status").annotate(n=Count("pk")).order_by()
    return {(r["kind"], r["status"]): r["n"] for r in rows}


def runs_queued_by_queue() -> dict[str, int]:
    rows = AuditRun.objects.filter(status=RunStatus.QUEUED).values("queue").annotate(n=Count("pk")).order_by()
    return {r["queue"]: r["n"] for r in rows}


def run_duration_histogram() -> dict[str, dict]:
    """Per kind: cumulative counts of finished runs at or under each bucket, their count and
    summed seconds -- one grouped query, not one row per run."""
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    finished = AuditRun.objects.filter(
        status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED], started_at__isnull=False, finished_at__isnull=False
    ).annotate(duration=duration)
    buckets = {f"le_{i}": Count("pk", filter=Q(duration__lte=timedelta(seconds=b))) for i, b in enumerate(DURATION_BUCKETS)}
    rows = finished.values("kind").annotate(count=Count("pk"), total=Sum("duration"), **buckets).order_by()
    return {
        r["kind"]: {
            "buckets": [(b, r[f"le_{i}"]) for i, b in enumerate(DURATION_BUCKETS)],
            "count": r["count"],
            "sum": r["total"].total_seconds() if r["total"] else 0.0,
        }
        for r in rows
    }


def sweeper_recoveries_by_kind() -> dict[str, int]:
    """Each time the sweeper hands a run whose worker stopped heartbeating back to the queue it
    adds one to the run's attempts; the sum is the number of recoveries."""
    rows = AuditRun.objects.values("kind").annotate(n=Sum("attempts")).order_by()
    return {r["kind"]: r["n"] or 0 for r in rows}
