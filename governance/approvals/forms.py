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
