"""Evidence is append-only in the database too: a correction is a new row (governance/core/dbguards.py)."""

from django.db import migrations

from governance.core.dbguards import append_only


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_evidence_per_version")]
    operations = [append_only("catalog_evidence", message="evidence rows are append-only")]
