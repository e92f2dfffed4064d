"""The database keeps signed reports as they were signed, as the model already does.

A signed row may change in one way only: `superseded_by`, from empty to set, when a newer
report of the same version is signed. PostgreSQL: a trigger refuses any other UPDATE of a
signed row, and its DELETE (TRUNCATE, a table owner's deliberate act, stays possible: test
databases are flushed with it). SQLite: a trigger refuses the UPDATE; DELETE stays possible
there because Django flushes SQLite test databases with DELETE. (SQLite drops a table's
triggers when a later migration rebuilds the table: such a migration must recreate it.)
"""

from django.db import migrations

PG_FORWARD = ["""
CREATE OR REPLACE FUNCTION reports_report_signed_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'signed' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'signed report % cannot be deleted', OLD.report_number
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(NEW) - 'superseded_by_id') IS DISTINCT FROM (to_jsonb(OLD) - 'superseded_by_id')
       OR (OLD.superseded_by_id IS NOT NULL AND NEW.superseded_by_id IS DISTINCT FROM OLD.superseded_by_id) THEN
        RAISE EXCEPTION 'signed report % cannot be changed (it can only be superseded, once)', OLD.report_number
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
""", """
CREATE TRIGGER reports_report_signed_guard
    BEFORE UPDATE OR DELETE ON reports_report
    FOR EACH ROW EXECUTE FUNCTION reports_report_signed_guard()
"""]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS reports_report_signed_guard ON reports_report",
    "DROP FUNCTION IF EXISTS reports_report_signed_guard()",
]
# Every column but the primary key and superseded_by_id, as of this migration.
COLUMNS = ["report_number", "system_id", "version_id", "status", "file", "sha256", "signer_fingerprint",
           "signer_subject", "page_count", "size_bytes", "error", "created_by_id", "created_at", "started_at",
           "signed_at"]
SQLITE_FORWARD = f"""
CREATE TRIGGER IF NOT EXISTS reports_report_signed_no_update
BEFORE UPDATE ON reports_report
WHEN OLD.status = 'signed' AND (
    {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in COLUMNS)}
    OR (OLD.superseded_by_id IS NOT NULL AND NEW.superseded_by_id IS NOT OLD.superseded_by_id))
BEGIN
    SELECT RAISE(ABORT, 'a signed report cannot be changed (it can only be superseded, once)');
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS reports_report_signed_no_update;"


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
            schema_editor.execute(sql, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):

    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(guard, unguard)]
