"""Reports carry when their message was sent, their build's heartbeat and how often a dead
worker's build was taken back; the sweeper runs every SWEEP_INTERVAL_SECONDS."""

from importlib import import_module

from django.conf import settings
from django.db import migrations, models


def regard(apps, schema_editor):
    # SQLite rebuilds the table to add a NOT NULL column, dropping its triggers: put the guard back.
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(import_module("audits.reports.migrations.0002_signed_report_guard").SQLITE_FORWARD)


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=settings.SWEEP_INTERVAL_SECONDS, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="Sweep stale reports", defaults={"task": "audits.sweep_stale_reports", "interval": every, "enabled": True}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="Sweep stale reports").delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_signed_report_guard"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [
        migrations.AddField("report", "enqueued_at", models.DateTimeField(blank=True, null=True)),
        migrations.AddField("report", "heartbeat_at", models.DateTimeField(blank=True, null=True)),
        migrations.AddField("report", "attempts", models.PositiveSmallIntegerField(default=0)),
        migrations.RunPython(regard, migrations.RunPython.noop),
        migrations.RunPython(schedule, unschedule),
    ]
