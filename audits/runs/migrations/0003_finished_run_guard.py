"""A finished audit run (its results, checks and outcome) is never changed or deleted; a new run
supersedes it (governance/core/dbguards.py). Running and queued runs still move on."""

from django.db import migrations

from governance.core.dbguards import append_only


class Migration(migrations.Migration):
    dependencies = [("runs", "0002_sweeper_schedule")]
    operations = [append_only("runs_auditrun", when="OLD.status IN ('succeeded', 'failed')",
                              message="finished audit runs are append-only")]
