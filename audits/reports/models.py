"""Signed reports.

A report row is created first (status "generating"); the worker renders the PDF from stored
results, signs it and stores file, sha256 and signer fingerprint in one update. From then on
the row is a record a regulator may rely on: it is never edited (only `superseded_by` may be
set, once, when a newer report of the same version is signed) and never deleted. The model
refuses both, and so does the database (a trigger, audits/reports/migrations/0002_signed_report_guard.py).
The foreign keys use PROTECT for the same reason: deleting a system or version does not
silently take its signed reports with it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from governance.core.exceptions import ConflictError

__all__ = ["Report", "ReportStatus", "SIGNED_REPORT_IMMUTABLE", "REPORT_NOT_DELETABLE"]

SIGNED_REPORT_IMMUTABLE = (
    "Report {number} is signed and cannot be changed; generate a new report to supersede it."
)
ALREADY_SUPERSEDED = "Report {number} is already superseded by another report."
REPORT_NOT_DELETABLE = "Report {number} is part of the audit record and cannot be deleted."


class ReportStatus(models.TextChoices):
    GENERATING = "generating", "Generating"
    SIGNED = "signed", "Signed"
    FAILED = "failed", "Failed"


class Report(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report_number = models.CharField(max_length=20, unique=True, help_text="e.g. R-2026-0007")
    system = models.ForeignKey("registry.AISystem", on_delete=models.PROTECT, related_name="reports")
    version = models.ForeignKey("registry.ModelVersion", on_delete=models.PROTECT, related_name="reports")
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default=ReportStatus.GENERATING,
                              db_index=True)
    file = models.FileField(upload_to="reports/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True, help_text="Of the signed file")
    signer_fingerprint = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the signer certificate")
    signer_subject = models.CharField(max_length=300, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # The broker is a signal only: a report whose message could not be sent has no enqueued_at,
    # and the sweeper sends it; a build whose worker stopped beating is taken back (attempts).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    signed_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="supersedes")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["version", "status"])]

    def __str__(self):
        return f"{self.report_number} ({self.status})"

    @property
    def is_current(self) -> bool:
        return self.status == ReportStatus.SIGNED and self.superseded_by_id is None

    def save(self, *args, **kwargs):
        if not self._state.adding:
            self._guard_signed_row(kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def _guard_signed_row(self, update_fields) -> None:
        """A signed row may change in one way only: superseded_by, from empty to set."""
        stored = type(self).objects.filter(pk=self.pk).first()
        if stored is None or stored.status != ReportStatus.SIGNED:
            return
        names = set(update_fields) if update_fields is not None else {
            f.attname for f in self._meta.concrete_fields if not f.primary_key}
        changed = {
            f.attname for f in self._meta.concrete_fields
            if f.attname in names and getattr(self, f.attname) != getattr(stored, f.attname)
        }
        if changed - {"superseded_by_id"}:
            raise ConflictError(SIGNED_REPORT_IMMUTABLE.format(number=stored.report_number),
                                extra={"fields": sorted(changed - {"superseded_by_id"})})
        if "superseded_by_id" in changed and stored.superseded_by_id is not None:
            raise ConflictError(ALREADY_SUPERSEDED.format(number=stored.report_number))

    def delete(self, *args, **kwargs):
        raise ConflictError(REPORT_NOT_DELETABLE.format(number=self.report_number))
