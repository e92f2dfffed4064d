"""The control page's form: a status, notes and the control's owner on one system."""

from __future__ import annotations

from django import forms

from governance.catalog.models import AssessmentStatus
from governance.catalog.selectors import owner_choices


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()


class AssessmentForm(forms.Form):
    status = forms.ChoiceField(choices=AssessmentStatus.choices)
    notes = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}),
                            strip=True, help_text="Why; for example why it does not apply.")
    owner = OwnerChoiceField(queryset=owner_choices(), required=False, empty_label="Nobody yet",
                             help_text="Answers for this control on this system; it shows in their inbox.")
