"""Sweep every SWEEP_INTERVAL_SECONDS (default 30 s, was 60): with the 45 s heartbeat timeout a
dead worker's run is taken back within 75 s."""

from django.conf import settings
from django.db import migrations


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=settings.SWEEP_INTERVAL_SECONDS, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="Sweep stale audit runs", defaults={"task": "audits.sweep_stale_runs", "interval": every, "enabled": True}
    )


class Migration(migrations.Migration):
    dependencies = [("runs", "0004_run_status_label"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
