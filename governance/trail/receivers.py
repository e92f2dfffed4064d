"""Every change made in the admin is written to the trail: the admin is a way around the
services' rules, so what it does must at least be on the record."""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_save
from django.dispatch import receiver

from governance.trail.services import trail_append

ACTIONS = {ADDITION: "admin.added", CHANGE: "admin.changed", DELETION: "admin.deleted"}


@receiver(post_save, sender=LogEntry)
def trail_admin_change(sender, *, instance: LogEntry, created: bool, **kwargs):
    if not created:
        return
    model = instance.content_type.model_class() if instance.content_type_id else None
    trail_append(actor=instance.user, action=ACTIONS.get(instance.action_flag, "admin.changed"), obj=instance, payload={
        "model": model._meta.label_lower if model else None, "object_id": str(instance.object_id),
        "object": instance.object_repr, "change": instance.get_change_message(),
    })
