"""The approval forms of the pages: a decision on a request (the API has its serializers)."""

from __future__ import annotations

from django import forms

from governance.core.roles import Role


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    comment = forms.CharField(required=False, max_length=5000)
    role = forms.ChoiceField(required=False, choices=[("", "")] + list(Role.choices))
    # Ticked when the approver has read what the version misses of its policy.
    acknowledge = forms.BooleanField(required=False)


class RequestForm(forms.Form):
    """A request for approval from the system page (the wizard has its own step)."""

    version = forms.UUIDField(error_messages={"required": "choose one of this system's versions.",
                                              "invalid": "choose one of this system's versions."})
    environment = forms.CharField(required=False, max_length=32)
    justification = forms.CharField(required=False, max_length=5000)
    acknowledge = forms.BooleanField(required=False)


class RevokeForm(forms.Form):
    reason = forms.CharField(required=False, max_length=5000)


BAD_DATE = "enter a date as YYYY-MM-DD, or leave it empty for the policy's maximum."


class AcceptRiskForm(forms.Form):
    run = forms.UUIDField()
    justification = forms.CharField(required=False, max_length=5000)
    expires_at = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label="accept until",
                                 error_messages={"invalid": BAD_DATE})
    role = forms.ChoiceField(required=False, choices=[("", "")] + list(Role.choices))
