"""Sweep the webhook outbox every SWEEP_INTERVAL_SECONDS (django-celery-beat's database scheduler)."""

from django.conf import settings
from django.db import migrations


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=settings.SWEEP_INTERVAL_SECONDS, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="Sweep the webhook outbox", defaults={"task": "governance.sweep_webhooks", "interval": every,
                                                  "enabled": True})


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="Sweep the webhook outbox").delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(schedule, unschedule)]
