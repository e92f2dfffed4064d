"""The audit trail's database guard, its head row, and the approval-expiry schedule.

PostgreSQL: a trigger refuses UPDATE and DELETE on audit-trail rows, whoever asks (TRUNCATE,
a table owner's deliberate act, stays possible: test databases are flushed with it).
SQLite: a trigger refuses UPDATE; DELETE stays possible there because Django flushes SQLite
test databases with DELETE. The model refuses both everywhere. (SQLite drops a table's
triggers when a later migration rebuilds the table: such a migration must recreate it.)
"""

from django.db import migrations

PG_FORWARD = ["""
CREATE OR REPLACE FUNCTION governance_auditlog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit-trail rows are append-only: % refused on row %', TG_OP, OLD.seq
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""", """
CREATE TRIGGER governance_auditlog_append_only
    BEFORE UPDATE OR DELETE ON governance_auditlogentry
    FOR EACH ROW EXECUTE FUNCTION governance_auditlog_append_only()
"""]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS governance_auditlog_append_only ON governance_auditlogentry",
    "DROP FUNCTION IF EXISTS governance_auditlog_append_only()",
]
SQLITE_FORWARD = """
CREATE TRIGGER IF NOT EXISTS governance_auditlog_no_update
BEFORE UPDATE ON governance_auditlogentry
BEGIN
    SELECT RAISE(ABORT, 'audit-trail rows are append-only: UPDATE refused');
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS governance_auditlog_no_update;"
GENESIS_HASH = "0" * 64
SWEEP_NAME = "Expire approvals and send expiry notices"


def guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for sql in PG_FORWARD:
            schema_editor.execute(sql, params=None)  # no placeholders: the % in the message stays
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def unguard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for sql in PG_BACKWARD:
            schema_editor.execute(sql, params=None)  # no placeholders: the % in the message stays
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


def head(apps, schema_editor):
    apps.get_model("governance", "AuditLogHead").objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = IntervalSchedule.objects.get_or_create(every=3600, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=SWEEP_NAME, defaults={"task": "governance.approvals_sweep", "interval": hourly, "enabled": True}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SWEEP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0002_approvals_gate_trail"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [
        migrations.RunPython(guard, unguard),
        migrations.RunPython(head, migrations.RunPython.noop),
        migrations.RunPython(schedule, unschedule),
    ]
