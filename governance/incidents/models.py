"""Incidents (MANAGE 4.1, MANAGE 4.3, A.8.4), their timeline and reporting clocks, and what
people outside send in: problem reports and appeals of a decision (MEASURE 3.3, A.3.3).

An incident walks open -> investigating -> mitigated -> closed (TRANSITIONS); every step is an
IncidentEvent (append-only) and a trail row. A serious incident has one ReportingDeadline per
jurisdiction (governance/incidents/clocks.py) and one DeadlineReminder per reminder offset,
each sent once (claimed with a conditional UPDATE). A PublicReport keeps only the hash of the
reference its sender was shown once, so the database cannot be read back into references.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.db import models

from governance.core.exceptions import ApplicationError

APPEND_ONLY = "Timeline events are append-only: add a new event instead."


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class SeriousCategory(models.TextChoices):
    """Regulation (EU) 2024/1689, Article 73: the category decides the reporting period."""

    DEATH = "death", "The death of a person (Art. 73(4))"
    WIDESPREAD = "widespread", ("A widespread infringement, or a serious and irreversible disruption of "
                                "critical infrastructure (Art. 73(3))")
    OTHER = "other", "Another serious incident (Art. 73(2))"


class IncidentStatus(models.TextChoices):
    OPEN = "open", "Open"
    INVESTIGATING = "investigating", "Investigating"
    MITIGATED = "mitigated", "Mitigated"
    CLOSED = "closed", "Closed"


S = IncidentStatus
# The only moves: back from mitigated to investigating when the fix did not hold; closed is final.
TRANSITIONS: dict[str, set[str]] = {
    S.OPEN: {S.INVESTIGATING},
    S.INVESTIGATING: {S.MITIGATED},
    S.MITIGATED: {S.INVESTIGATING, S.CLOSED},
    S.CLOSED: set(),
}


class CorrectiveAction(models.TextChoices):
    ROLLBACK = "rollback", "Rollback to an earlier version"
    RETRAINING = "retraining", "Retraining"
    WAIVER = "waiver", "Waiver (risk accepted in writing)"
    DECOMMISSION = "decommission", "Decommission"


class IncidentSource(models.TextChoices):
    DRIFT = "drift_breach", "Drift breach"
    AUDIT = "audit", "Failed audit"
    MANUAL = "manual", "Opened by hand"
    REPORT = "report", "Report from outside"


class Incident(models.Model):
    system = models.ForeignKey("registry.AISystem", on_delete=models.PROTECT, related_name="incidents")
    versions = models.ManyToManyField("registry.ModelVersion", blank=True, related_name="incidents")
    environments = models.JSONField(default=list, blank=True, help_text='e.g. ["production"]')
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=10000)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.MEDIUM)
    serious = models.BooleanField(default=False, help_text="A serious incident in the sense of Art. 3(49)")
    serious_category = models.CharField(max_length=16, choices=SeriousCategory.choices, blank=True)
    status = models.CharField(max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="incidents_owned")
    root_cause = models.TextField(blank=True, max_length=10000)
    corrective_action = models.CharField(max_length=16, choices=CorrectiveAction.choices, blank=True)
    corrective_notes = models.TextField(blank=True, max_length=10000)
    source = models.CharField(max_length=16, choices=IncidentSource.choices, default=IncidentSource.MANUAL)
    # Once per run: a redelivered breach or the same run's audit_finished finds this incident.
    audit_run = models.OneToOneField("runs.AuditRun", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="incident")
    occurred_at = models.DateTimeField(null=True, blank=True)
    aware_at = models.DateTimeField(help_text="When the provider became aware: the reporting clock starts here")
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.CharField(max_length=200)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]

    @property
    def reference(self) -> str:
        return f"INC-{self.pk:05d}" if self.pk else "INC-new"

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.CLOSED

    def __str__(self):
        return f"{self.reference} {self.title}"


class IncidentEvent(models.Model):
    """One step of an incident's timeline. Never edited (`save` refuses an update)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    kind = models.CharField(max_length=32)
    text = models.TextField(max_length=10000)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ApplicationError(APPEND_ONLY)
        super().save(*args, **kwargs)


class ReportingDeadline(models.Model):
    """When the serious incident must be reported in one jurisdiction (clocks.py)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="deadlines")
    jurisdiction = models.CharField(max_length=32)
    category = models.CharField(max_length=16, choices=SeriousCategory.choices)
    days = models.PositiveIntegerField()
    legal_basis = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    due_at = models.DateTimeField()
    reported_at = models.DateTimeField(null=True, blank=True)
    reported_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [models.UniqueConstraint(fields=["incident", "jurisdiction"], name="deadline_per_jurisdiction")]


class DeadlineReminder(models.Model):
    """One reminder before a deadline; `sent_at` is set by the one sender that claimed it."""

    deadline = models.ForeignKey(ReportingDeadline, on_delete=models.CASCADE, related_name="reminders")
    hours_before = models.PositiveIntegerField()
    send_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["send_at"]
        constraints = [models.UniqueConstraint(fields=["deadline", "hours_before"], name="reminder_once")]


class ReportKind(models.TextChoices):
    PROBLEM = "problem", "Report a problem"
    APPEAL = "appeal", "Appeal a decision"


class ReportStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    IN_REVIEW = "in_review", "In review"
    ANSWERED = "answered", "Answered"


class AppealOutcome(models.TextChoices):
    UPHELD = "upheld", "Decision upheld"
    OVERTURNED = "overturned", "Decision overturned"


TEXT_MIN, TEXT_MAX = 20, 4000


class PublicReport(models.Model):
    """A problem report or an appeal from someone outside, with no account."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    system = models.ForeignKey("registry.AISystem", on_delete=models.PROTECT, related_name="public_reports")
    version = models.ForeignKey("registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="public_reports")
    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    decision_reference = models.CharField(max_length=100, blank=True)
    sensitive_attribute = models.CharField(max_length=64, blank=True)
    sensitive_group = models.CharField(max_length=40, blank=True)
    text = models.TextField(validators=[MinLengthValidator(TEXT_MIN), MaxLengthValidator(TEXT_MAX)])
    reference_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default=ReportStatus.RECEIVED)
    answer = models.TextField(blank=True, max_length=TEXT_MAX)
    outcome = models.CharField(max_length=16, choices=AppealOutcome.choices, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.CharField(max_length=200, blank=True)
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
