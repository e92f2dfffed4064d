"""Approval decisions and risk acceptances are never changed or deleted (governance/core/dbguards.py)."""

from django.db import migrations

from governance.core.dbguards import append_only


class Migration(migrations.Migration):
    dependencies = [("approvals", "0003_acknowledged_gaps")]
    operations = [
        append_only("approvals_approvaldecision", message="approval decisions are append-only"),
        append_only("approvals_riskacceptance", message="risk acceptances are append-only"),
    ]
