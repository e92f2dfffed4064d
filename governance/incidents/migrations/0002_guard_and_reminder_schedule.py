"""The timeline is append-only in the database too; beat sends the deadline reminders every 15 minutes."""

from django.db import migrations

from governance.core.dbguards import append_only

NAME = "Send incident deadline reminders"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=NAME, defaults={"task": "governance.incidents_remind", "interval": every, "enabled": True})


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [
        append_only("incidents_incidentevent", message="incident timeline events are append-only"),
        migrations.RunPython(schedule, unschedule),
    ]
