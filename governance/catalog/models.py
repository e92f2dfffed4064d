"""The controls catalog (NIST AI RMF 1.0, ISO/IEC 42001 Annex A), each system's assessment of
each control, and the evidence that moves an assessment."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from governance.catalog.controls import Framework
from governance.registry.models import AISystem


class Control(models.Model):
    """One AI RMF subcategory or one ISO/IEC 42001 Annex A control.

    `group` is the AI RMF function or the ISO objective; `category` the AI RMF category or
    the ISO sub-objective (A.6.1/A.6.2), where there is one.
    """

    framework = models.CharField(max_length=16, choices=Framework.choices)
    ref = models.CharField(max_length=32, help_text="e.g. 'MEASURE 2.11' or 'A.5.4'")
    title = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True, help_text="Official text (AI RMF only; ISO text is copyrighted)")
    group_ref = models.CharField(max_length=32)
    group_title = models.CharField(max_length=300)
    group_description = models.TextField(blank=True)
    category_ref = models.CharField(max_length=32, blank=True)
    category_title = models.TextField(blank=True)
    iso_clauses = models.JSONField(default=list, blank=True, help_text="Main-body ISO clauses (crosswalk)")
    sort_key = models.CharField(max_length=64, db_index=True)
    partners = models.ManyToManyField("self", through="CrosswalkLink", symmetrical=False, related_name="+")

    class Meta:
        ordering = ["framework", "sort_key"]
        constraints = [models.UniqueConstraint(fields=["framework", "ref"], name="control_unique_ref")]

    def __str__(self):
        return f"{self.ref} {self.title or self.text[:60]}"


class CrosswalkLink(models.Model):
    """AI RMF subcategory -> ISO/IEC 42001 Annex A control, from the published crosswalk."""

    ai_rmf = models.ForeignKey(Control, on_delete=models.CASCADE, related_name="iso_links")
    iso = models.ForeignKey(Control, on_delete=models.CASCADE, related_name="ai_rmf_links")
    notes = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ai_rmf", "iso"], name="crosswalk_unique_pair")]


class AssessmentStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    SATISFIED = "satisfied", "Satisfied"
    # Satisfied once, but a piece of its evidence passed its validity window (an audit older
    # than the policy allows, a document past its review-by date): not satisfied any more.
    STALE = "stale", "Stale (evidence expired)"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    FAILED = "failed", "Failed"


class ControlAssessment(models.Model):
    system = models.ForeignKey(AISystem, on_delete=models.CASCADE, related_name="assessments")
    control = models.ForeignKey(Control, on_delete=models.PROTECT, related_name="assessments")
    status = models.CharField(max_length=16, choices=AssessmentStatus.choices, default=AssessmentStatus.NOT_STARTED)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["system", "control"], name="assessment_unique")]
        indexes = [models.Index(fields=["system", "status"])]

    def __str__(self):
        return f"{self.system.slug} {self.control.ref}: {self.status}"


class EvidenceOutcome(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    INCONCLUSIVE = "inconclusive", "Inconclusive"
    INFO = "info", "Information"


class Evidence(models.Model):
    """One piece of evidence on one assessment, usually produced by an audit run.

    It speaks for one model version (`version`), or for the system as a whole (`version` empty:
    the registry entry, a waiver, the trail). Never edited or deleted (the database refuses it):
    a correction is a new row that `supersedes` the old one, with a reason and an actor."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(ControlAssessment, on_delete=models.PROTECT, related_name="evidence")
    version = models.ForeignKey("registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="evidence", help_text="The version it speaks for; empty: system-wide")
    # The audit run that produced it, by id: runs sit above the catalog, so the catalog never
    # points at their table; a finished run is never deleted.
    audit_run_id = models.UUIDField(null=True, blank=True, db_index=True)
    supersedes = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   help_text="The evidence this row corrects")
    correction_reason = models.TextField(blank=True)
    recorded_by = models.CharField(max_length=200, blank=True, help_text='The trail\'s actor: "worker", "user:carla"')
    kind = models.CharField(max_length=32)
    summary = models.TextField()
    outcome = models.CharField(max_length=16, choices=EvidenceOutcome.choices)
    link = models.CharField(max_length=500, blank=True)
    # The document or attestation this row attaches to its control (catalog/documents.py).
    document = models.ForeignKey("EvidenceDocument", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="evidence")
    # The end of its validity window (an audit: finished + the policy's max age; a document:
    # the end of its review-by day); empty: it does not expire (catalog/freshness.py).
    valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "evidence"


class DocumentKind(models.TextChoices):
    DOCUMENT = "document", "Document"
    ATTESTATION = "attestation", "Written attestation"


class EvidenceDocument(models.Model):
    """A policy, procedure or record (PDF, DOCX, Markdown, plain text), or a written
    attestation, that speaks for one or more controls of a system until its review-by date.

    Never edited or deleted (the database refuses it): a new version is a new row that
    `supersedes` this one. The file is stored under its sha256 and only ever served as a
    download (catalog/views.py `document_download`), never rendered."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    system = models.ForeignKey(AISystem, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to="documents/", blank=True)
    filename = models.CharField(max_length=200, blank=True, help_text="The name it was uploaded with")
    content_type = models.CharField(max_length=100, blank=True, help_text="Found from its content, not its name")
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, help_text="Of the file's bytes, or of the attestation's UTF-8 text")
    text = models.TextField(blank=True, help_text="The attestation's words")
    effective_on = models.DateField()
    review_by = models.DateField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    supersedes = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   help_text="The document this one replaces")
    recorded_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title
