"""Guard the trail's head row and TRUNCATE, as the trail's rows are guarded (0002).

Without this, `TRUNCATE trail_auditlogentry` plus a head reset to (0, genesis) verified as
"intact: 0 rows". Now:

PostgreSQL: the head row takes only the two updates `trail_append` makes (seq + 1 with the hash
unchanged, then the hash of the row just written at that seq); any other UPDATE, and every
DELETE, is refused. A BEFORE TRUNCATE statement trigger refuses TRUNCATE on the trail and the
head, unless the session set `governance.trail_truncate = 'allowed'` (the test settings do it,
because Django flushes PostgreSQL test databases with TRUNCATE). A table owner can still drop
triggers; anchors kept outside the database (gate attestations, `--anchor`) then find the cut.

SQLite: the head takes only the same two updates. SQLite has no TRUNCATE, and DELETE stays
possible on both tables because Django flushes SQLite test databases with DELETE: there, a
deleted trail and head are found only through an anchor.
"""

from django.db import migrations

LEGIT = ("(NEW.id = OLD.id AND NEW.seq = OLD.seq + 1 AND NEW.hash = OLD.hash) OR "
         "(NEW.id = OLD.id AND NEW.seq = OLD.seq AND EXISTS "
         "(SELECT 1 FROM trail_auditlogentry e WHERE e.seq = NEW.seq AND e.hash = NEW.hash))")

PG_FORWARD = [f"""
CREATE OR REPLACE FUNCTION trail_head_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the audit-trail head only advances: DELETE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT ({LEGIT}) THEN
        RAISE EXCEPTION 'the audit-trail head only advances: UPDATE from row % to row % refused', OLD.seq, NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
""", """
CREATE TRIGGER trail_head_guard BEFORE UPDATE OR DELETE ON trail_auditloghead
    FOR EACH ROW EXECUTE FUNCTION trail_head_guard()
""", """
CREATE OR REPLACE FUNCTION trail_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('governance.trail_truncate', true), '') <> 'allowed' THEN
        RAISE EXCEPTION 'the audit trail is append-only: TRUNCATE of % refused', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
""", """
CREATE TRIGGER trail_entry_no_truncate BEFORE TRUNCATE ON trail_auditlogentry
    FOR EACH STATEMENT EXECUTE FUNCTION trail_no_truncate()
""", """
CREATE TRIGGER trail_head_no_truncate BEFORE TRUNCATE ON trail_auditloghead
    FOR EACH STATEMENT EXECUTE FUNCTION trail_no_truncate()
"""]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS trail_head_no_truncate ON trail_auditloghead",
    "DROP TRIGGER IF EXISTS trail_entry_no_truncate ON trail_auditlogentry",
    "DROP FUNCTION IF EXISTS trail_no_truncate()",
    "DROP TRIGGER IF EXISTS trail_head_guard ON trail_auditloghead",
    "DROP FUNCTION IF EXISTS trail_head_guard()",
]
SQLITE_FORWARD = f"""
CREATE TRIGGER IF NOT EXISTS trail_head_only_advances
BEFORE UPDATE ON trail_auditloghead WHEN NOT ({LEGIT})
BEGIN
    SELECT RAISE(ABORT, 'the audit-trail head only advances: UPDATE refused');
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS trail_head_only_advances;"


def guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for sql in PG_FORWARD:
            schema_editor.execute(sql, params=None)  # no placeholders: the % in the messages stays
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
    dependencies = [("trail", "0002_append_only_guard")]
    operations = [migrations.RunPython(guard, unguard)]
