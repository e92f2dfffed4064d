"""One retry rule for every task: passing errors retry with exponential backoff, and after
the last retry the work is failed with the reason instead of being left half-done."""

from __future__ import annotations

MAX_RETRIES = 5


def retry_or_give_up(task, exc: Exception, *, give_up) -> str:
    """Call from a bound task's `except`: raises Celery's Retry, or calls give_up(message)."""
    if task.request.retries >= MAX_RETRIES:
        give_up(f"Gave up after {MAX_RETRIES} retries: {exc}")
        return "failed"
    raise task.retry(exc=exc, countdown=min(5 * 2**task.request.retries, 300)) from exc
