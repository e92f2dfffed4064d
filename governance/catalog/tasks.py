"""The catalog's periodic work: only orchestration (catalog/freshness.py does the work)."""

from __future__ import annotations

from celery import shared_task

from governance.catalog.freshness import assessments_mark_stale


@shared_task(name="catalog.mark_stale_controls")
def mark_stale_controls() -> dict:
    return {"stale": len(assessments_mark_stale())}
