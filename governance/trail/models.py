"""The hash-chained audit trail.

Rows are appended by `governance.trail.services.trail_append` only; each one stores the hash of the
row before it (see governance/trail/hashchain.py), so an edited, deleted or reordered row breaks
the chain from that row on. The app never updates or deletes a row: `save()` refuses an
existing row, `delete()` refuses always, and so do the queryset's `update()` and
`delete()`. The database guards it too: a trigger refuses UPDATE and DELETE on PostgreSQL,
and UPDATE on SQLite (see the migration).
"""

from __future__ import annotations

from django.db import models

__all__ = ["AuditLogEntry", "AuditLogHead", "AppendOnlyError"]

APPEND_ONLY = "Audit-trail rows are append-only: they are never updated or deleted."


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(APPEND_ONLY)

    def delete(self):
        raise AppendOnlyError(APPEND_ONLY)


class AuditLogEntry(models.Model):
    seq = models.PositiveBigIntegerField(unique=True)
    # The exact string that was hashed (hashchain.iso_timestamp); `created_at` is the same
    # instant as a datetime, for filtering and ordering only.
    timestamp = models.CharField(max_length=40)
    created_at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=200, help_text='"user:<username>", "pipeline:<name>", "worker:<host>" or "system"')
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=100, help_text='"app_label.model"')
    object_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        verbose_name = "audit-trail entry"
        verbose_name_plural = "audit trail"
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id} by {self.actor}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(APPEND_ONLY)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(APPEND_ONLY)

    def as_row(self) -> dict:
        """The fields hashchain.verify_chain reads, plus the hash: one JSONL export line."""
        return {
            "seq": self.seq, "prev_hash": self.prev_hash, "timestamp": self.timestamp, "actor": self.actor,
            "action": self.action, "object_type": self.object_type, "object_id": self.object_id,
            "payload": self.payload, "hash": self.hash,
        }


class AuditLogHead(models.Model):
    """One row (pk=1): the newest seq and hash. Appends lock it first, which serialises them;
    verification compares it with the last row, so cutting off the newest rows shows."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "audit-trail head"
