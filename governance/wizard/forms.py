"""The wizard's forms. They parse and bound what each step posts; the registry's, runs' and
approvals' services still decide what is valid, with the same messages as the API, so most
fields are optional here and the service names what is missing."""

from __future__ import annotations

from django import forms

from governance.policies.models import Environment
from governance.registry.models import LifecycleStage, RiskTier

TEXT = 5000


class SystemForm(forms.Form):
    name = forms.CharField(required=False, max_length=200)
    slug = forms.CharField(required=False, max_length=80)
    purpose = forms.CharField(required=False, max_length=TEXT)
    intended_use = forms.CharField(required=False, max_length=TEXT)
    risk_tier = forms.ChoiceField(choices=RiskTier.choices, initial=RiskTier.MEDIUM)
    lifecycle_stage = forms.ChoiceField(choices=LifecycleStage.choices, initial=LifecycleStage.DEVELOPMENT)


class DataForm(forms.Form):
    label = forms.CharField(required=False, max_length=200)
    sensitive = forms.CharField(required=False, max_length=TEXT, help_text="Column names, separated by commas.")
    categorical = forms.CharField(required=False, max_length=TEXT, help_text="Column names, separated by commas.")
    eval_file = forms.FileField(required=False)
    train_file = forms.FileField(required=False)

    def names(self, field: str) -> list[str]:
        return [part.strip() for part in self.cleaned_data[field].split(",") if part.strip()]


class VersionForm(forms.Form):
    version = forms.CharField(required=False, max_length=64)
    notes = forms.CharField(required=False, max_length=TEXT)
    eval_dataset = forms.CharField(required=False, max_length=64)
    train_dataset = forms.CharField(required=False, max_length=64)
    artifact = forms.FileField(required=False)
    spec = forms.FileField(required=False)


class AuditsForm(forms.Form):
    kinds = forms.MultipleChoiceField(error_messages={"required": "tick at least one audit."})

    def __init__(self, *args, kinds: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kinds"].choices = [(k, k) for k in kinds]


class ApprovalRequestForm(forms.Form):
    environment = forms.ChoiceField(choices=Environment.choices, initial=Environment.PRODUCTION)
    justification = forms.CharField(required=False, max_length=TEXT)
    # Ticked when the owner has read what the version misses of its policy.
    acknowledge = forms.BooleanField(required=False)
