"""The audit trail's database guard and its head row.

PostgreSQL: a trigger refuses UPDATE and DELETE on audit-trail rows, whoever asks (TRUNCATE,
a table owner's deliberate act, stays possible: test databases are flushed with it).
SQLite: a trigger refuses UPDATE; DELETE stays possible there because Django flushes SQLite
test databases with DELETE. The model refuses both everywhere. (SQLite drops a table's
triggers when a later migration rebuilds the table: such a migration must recreate it.)
"""

from django.db import migrations

PG_FORWARD = ["""
CREATE OR REPLACE FUNCTION trail_auditlog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit-trail rows are append-only: % refused on row %', TG_OP, OLD.seq
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""", """
CREATE TRIGGER trail_auditlog_append_only
    BEFORE UPDATE OR DELETE ON trail_auditlogentry
    FOR EACH ROW EXECUTE FUNCTION trail_auditlog_append_only()
"""]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS trail_auditlog_append_only ON trail_auditlogentry",
    "DROP FUNCTION IF EXISTS trail_auditlog_append_only()",
]
SQLITE_FORWARD = """
CREATE TRIGGER IF NOT EXISTS trail_auditlog_no_update
BEFORE UPDATE ON trail_auditlogentry
BEGIN
    SELECT RAISE(ABORT, 'audit-trail rows are append-only: UPDATE refused');
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS trail_auditlog_no_update;"
GENESIS_HASH = "0" * 64


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
    apps.get_model("trail", "AuditLogHead").objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})


class Migration(migrations.Migration):
    dependencies = [("trail", "0001_initial")]
    operations = [
        migrations.RunPython(guard, unguard),
        migrations.RunPython(head, migrations.RunPython.noop),
    ]
