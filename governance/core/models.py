"""What the platform remembers about itself: the heartbeats of its processes, and the
answers it gave to requests that carried an Idempotency-Key."""

from __future__ import annotations

from django.db import models


class ServiceHeartbeat(models.Model):
    """One row per process that must be alive: "beat" (written on each sweep) and
    "worker:<name>" (written by each worker every few seconds). /healthz/ reads them."""

    name = models.CharField(max_length=200, primary_key=True)
    host = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class IdempotencyKey(models.Model):
    """The first answer to a write that carried `Idempotency-Key`, so a client's retry with
    the same key gets it again instead of creating the work twice."""

    owner = models.CharField(max_length=80, help_text="user:<id> or token:<id>: whose key it is")
    scope = models.CharField(max_length=300, help_text="The method and path the key was used on")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of the request's body and files")
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "scope", "key"], name="idempotency_key_once")]

    def __str__(self):
        return f"{self.key} ({self.scope})"
