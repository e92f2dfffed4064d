"""Drift review schedules and retraining recommendations.

Production batches themselves are `governance.Dataset` rows with role "production"; a
review is an `AuditRun` of kind "drift". These two models hold what is specific to watching
a deployed model: when reviews run, and what a breach asked the owners to do.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

__all__ = ["DriftSchedule", "RecommendationStatus", "RetrainingRecommendation"]


class DriftSchedule(models.Model):
    """One schedule per AI system: review the latest production batch of `version`.

    The beat process reads the `PeriodicTask` (django-celery-beat's DatabaseScheduler);
    this row says which system and version it is for and who set it. Deleting the
    periodic task in the admin deletes the schedule with it.
    """

    system = models.OneToOneField("registry.AISystem", on_delete=models.CASCADE, related_name="drift_schedule")
    version = models.ForeignKey("registry.ModelVersion", on_delete=models.CASCADE, related_name="drift_schedules")
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", on_delete=models.CASCADE, related_name="drift_schedule"
    )
    crontab = models.CharField(max_length=120, help_text="minute hour day-of-month month day-of-week")
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"drift review of {self.version} ({self.crontab}{'' if self.enabled else ', paused'})"


class RecommendationStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted (retraining planned)"
    DISMISSED = "dismissed", "Dismissed"
    DONE = "done", "Done (retrained)"


class RetrainingRecommendation(models.Model):
    """A drift breach asks for the version to be retrained (for example with DP retraining).

    Recorded once per breaching review; the retraining and gate features act on the open
    ones (`audits.drift.services.retraining_recommendation_open`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="retraining_recommendations"
    )
    audit_run = models.OneToOneField(
        "runs.AuditRun", on_delete=models.PROTECT, related_name="retraining_recommendation"
    )
    batch = models.ForeignKey(
        "registry.Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    breaches = models.JSONField(default=list, blank=True, help_text="The review's breach sentences")
    status = models.CharField(
        max_length=16, choices=RecommendationStatus.choices, default=RecommendationStatus.OPEN, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    new_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The retrained version, once there is one",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"retrain {self.version} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in {RecommendationStatus.OPEN, RecommendationStatus.ACCEPTED}
