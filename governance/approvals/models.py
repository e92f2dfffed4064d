"""Approval requests, the decisions on them, and written acceptances of inconclusive results."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from governance.policies.models import Environment


class ApprovalStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


# A version has at most one of these per environment at a time (a partial unique index).
OPEN_STATUSES = [ApprovalStatus.DRAFT, ApprovalStatus.SUBMITTED, ApprovalStatus.IN_REVIEW, ApprovalStatus.APPROVED]


class ApprovalRequest(models.Model):
    """A request to ship one model version to one environment.

    `stages` is the policy's approval stages as they were at submission, e.g.
    [["risk_officer"], ["executive_approver"]]: stages are decided in order; every role
    listed in a stage must approve (each by a different person) before the next opens.
    `current_stage` is 1-based (0 while a draft).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey("registry.ModelVersion", on_delete=models.CASCADE, related_name="approval_requests")
    environment = models.CharField(max_length=16, choices=Environment.choices)
    policy = models.ForeignKey("policies.Policy", on_delete=models.PROTECT, related_name="approval_requests")
    stages = models.JSONField(default=list, blank=True, help_text="The policy's approval stages, snapshotted at submission")
    policy_snapshot = models.JSONField(default=dict, blank=True, help_text="The policy as it was at submission")
    status = models.CharField(max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.DRAFT, db_index=True)
    current_stage = models.PositiveSmallIntegerField(default=0)
    justification = models.TextField(blank=True)
    # What the version missed of its policy when it was requested (the gate's reasons, the approval
    # aside), which the requester acknowledged in writing; empty when it met its policy.
    acknowledged_gaps = models.JSONField(default=list, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    expiry_notice_sent_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "environment"], condition=Q(status__in=OPEN_STATUSES),
                name="approval_one_open_per_version_env",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self):
        return f"{self.version} -> {self.environment} ({self.status})"

    @property
    def stage_count(self) -> int:
        return len(self.stages or [])

    @property
    def is_pending(self) -> bool:
        return self.status in {ApprovalStatus.SUBMITTED, ApprovalStatus.IN_REVIEW}


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class ApprovalDecision(models.Model):
    """One sign-off (or refusal) by one person in one role at one stage. Never edited."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="decisions")
    stage = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=32)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approval_decisions")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = models.TextField(blank=True)
    acknowledged_gaps = models.JSONField(default=list, blank=True, help_text="What the version missed of its "
                                         "policy when this person approved it, acknowledged in writing")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            # The database, not only the service, keeps one role from being signed twice.
            models.UniqueConstraint(fields=["request", "stage", "role"], name="decision_one_per_stage_role"),
            models.UniqueConstraint(fields=["request", "user"], name="decision_one_per_person"),
        ]

    def __str__(self):
        return f"{self.user} {self.decision} as {self.role} (stage {self.stage})"


class RiskAcceptance(models.Model):
    """A named person accepts one inconclusive audit result for one environment, in writing,
    until a date: risk treatment by acceptance (NIST AI RMF MANAGE 1.3, ISO/IEC 42001 6.1.3).

    Inconclusive means the audit could show neither that the policy is met nor that it is
    missed (an interval straddles a threshold, typically on a small evaluation set). A failed
    check is never accepted. The acceptance is of that run: a newer run of the kind needs its
    own. Never edited (governance/approvals/risk.py, `risk_accept`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    audit_run = models.ForeignKey("runs.AuditRun", on_delete=models.PROTECT, related_name="risk_acceptances")
    environment = models.CharField(max_length=16, choices=Environment.choices)
    role = models.CharField(max_length=32, help_text="The role the person accepted in")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    justification = models.TextField()
    accepted_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [models.UniqueConstraint(fields=["audit_run", "environment"], name="risk_acceptance_unique")]

    def __str__(self):
        return f"{self.accepted_by} accepted {self.audit_run_id} for {self.environment} until {self.expires_at:%Y-%m-%d}"
