"""Policies may deny a version with an open serious incident; on for the high-risk tier, as the default says."""

from django.db import migrations, models


def high_tier_on(apps, schema_editor):
    apps.get_model("policies", "Policy").objects.filter(risk_tier="high").update(deny_open_serious_incidents=True)


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]
    operations = [
        migrations.AddField(
            model_name="policy", name="deny_open_serious_incidents",
            field=models.BooleanField(default=False, help_text="Deny a version while a serious incident about it is "
                                                               "open (default on for high risk)")),
        migrations.RunPython(high_tier_on, migrations.RunPython.noop),
    ]
