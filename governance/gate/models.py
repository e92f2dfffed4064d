"""The gate's memory: its last answer per version and environment."""

from __future__ import annotations

from django.db import models

from governance.policies.models import Environment


class GateState(models.Model):
    """The gate's last answer for one version and environment, so that a change of answer is
    logged once, and so that "denied after having been allowed" can name a rollback."""

    version = models.ForeignKey("registry.ModelVersion", on_delete=models.CASCADE, related_name="gate_states")
    environment = models.CharField(max_length=16, choices=Environment.choices)
    decision = models.CharField(max_length=8)
    reasons = models.JSONField(default=list)
    changed_at = models.DateTimeField()
    first_allowed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "environment"], name="gate_state_unique")]
