"""The webhook outbox: one row per (event, receiver), written before anything is sent.

The row is the truth; the broker message only says "deliver it". A broker that is down when
the event is told leaves the row pending, and the sweeper sends it later."""

from __future__ import annotations

import uuid

from django.db import models


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Gave up"


class WebhookDelivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=2000)
    event = models.CharField(max_length=64, db_index=True)
    payload = models.TextField(help_text="The JSON body, exactly as it is signed and posted")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING,
                              db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the sweeper sends it (again) if it is still pending: soon for one never sent, later for
    # one sent or waiting for its retry's countdown.
    resend_after = models.DateTimeField(db_index=True)
    # A worker posting it holds it until then, so two messages for one row post it once.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The receiver's last HTTP status")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.event} to {self.url} ({self.status})"
