"""Policies: what a system of a risk tier needs before it may ship to an environment."""

from __future__ import annotations

from django.db import models

from governance.registry.models import RiskTier


class Environment(models.TextChoices):
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"


class Policy(models.Model):
    """What an AI system of a risk tier needs before it may ship to an environment.

    audit_requirements = {"fairness": {"thresholds": {...}, "max_age_days": 90}, ...}
    """

    name = models.CharField(max_length=200)
    risk_tier = models.CharField(max_length=16, choices=RiskTier.choices)
    environment = models.CharField(max_length=32, default="production")
    audit_requirements = models.JSONField(default=dict)
    require_signed_report = models.BooleanField(default=False)
    approval_stages = models.JSONField(default=list, help_text='e.g. [["risk_officer"], ["executive_approver"]]')
    approval_valid_days = models.IntegerField(default=180)
    # MANAGE 4.1 / Art. 73: a version with an open serious incident (governance/incidents/) does not ship.
    deny_open_serious_incidents = models.BooleanField(
        default=False, help_text="Deny a version while a serious incident about it is open (default on for high risk)")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "policies"
        constraints = [models.UniqueConstraint(fields=["risk_tier", "environment"], name="policy_unique_tier_env")]

    def __str__(self):
        return self.name
