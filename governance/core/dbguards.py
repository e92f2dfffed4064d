"""Database guards for records the platform never edits: a trigger refuses what the
application already refuses, whoever asks (a script, a shell, the admin, raw SQL).

PostgreSQL: UPDATE and DELETE are refused (TRUNCATE, a table owner's deliberate act, stays
possible: test databases are flushed with it). SQLite: UPDATE is refused; DELETE stays
possible there because Django flushes SQLite test databases with DELETE. (SQLite drops a
table's triggers when a later migration rebuilds the table: such a migration must add the
guard again.) A guard alone can be switched off by someone with the rights to; the trail's
seals (governance/trail/seals.py) then still name the record that changed.

Used by the migrations of the apps that own the tables, as `append_only("catalog_evidence")`.
"""

from __future__ import annotations

from django.db import migrations


def _sql(table: str, when: str | None, message: str) -> tuple[list[str], list[str], str, str]:
    name = f"{table}_append_only"
    condition = when or "TRUE"
    pg_forward = [f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    IF {condition} THEN
        RAISE EXCEPTION '{message}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
""", f"""
CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {name}()
"""]
    pg_backward = [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"]
    sqlite_forward = (f"CREATE TRIGGER IF NOT EXISTS {name}_no_update BEFORE UPDATE ON {table} "
                      + (f"WHEN {when} " if when else "")
                      + f"BEGIN SELECT RAISE(ABORT, '{message}: UPDATE refused'); END;")
    sqlite_backward = f"DROP TRIGGER IF EXISTS {name}_no_update;"
    return pg_forward, pg_backward, sqlite_forward, sqlite_backward


def append_only(table: str, *, when: str | None = None, message: str | None = None) -> migrations.RunPython:
    """A migration operation that guards `table`; `when` limits it to some rows (an SQL condition
    on OLD, e.g. "OLD.status IN ('succeeded', 'failed')")."""
    pg_forward, pg_backward, sqlite_forward, sqlite_backward = _sql(
        table, when, message or f"{table} rows are append-only")

    def forward(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            for statement in pg_forward:
                schema_editor.execute(statement, params=None)  # no placeholders: the % stays
        elif vendor == "sqlite":
            schema_editor.execute(sqlite_forward)

    def backward(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            for statement in pg_backward:
                schema_editor.execute(statement, params=None)
        elif vendor == "sqlite":
            schema_editor.execute(sqlite_backward)

    return migrations.RunPython(forward, backward)
