"""Audit runs. The AuditRun row is the truth; the broker message only says "look at it"."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    # The audit could not run (an error): not the same as a failed check, which is an outcome.
    FAILED = "failed", "Could not run"


class AuditRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    system = models.ForeignKey("registry.AISystem", on_delete=models.CASCADE, related_name="audit_runs")
    version = models.ForeignKey("registry.ModelVersion", on_delete=models.CASCADE, related_name="audit_runs")
    kind = models.CharField(max_length=32, db_index=True)
    queue = models.CharField(max_length=16, default="cpu")
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=200, blank=True, help_text="What the worker is doing now")
    log = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, blank=True, help_text="pass / fail / inconclusive against the policy")
    results = models.JSONField(default=dict, blank=True)
    checks = models.JSONField(default=list, blank=True, help_text="Policy threshold checks")
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    seeds = models.JSONField(default=dict, blank=True)
    package_versions = models.JSONField(default=dict, blank=True)
    device = models.CharField(max_length=64, blank=True)
    worker_host = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} on {self.version} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {RunStatus.SUCCEEDED, RunStatus.FAILED}

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
