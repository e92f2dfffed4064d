"""The catalog reacts to the registry: a new system gets one assessment per control, and its
registry entry becomes the first evidence."""

from __future__ import annotations

from django.dispatch import receiver

from governance.catalog.evidence import evidence_record
from governance.catalog.loader import assessments_ensure
from governance.registry.signals import system_registered


@receiver(system_registered)
def assess_new_system(sender, *, system, **kwargs):
    assessments_ensure(system=system)
    evidence_record(
        system=system, kind="registry", outcome="info",
        summary=f"Registered as {system.get_risk_tier_display()} risk; purpose and intended use documented.",
    )
