"""The run pages' forms: the list's filters and a request for one audit."""

from __future__ import annotations

from django import forms

from audits.runs.models import RunStatus
from audits.runs.registry import KINDS


class RunFilterForm(forms.Form):
    """Unknown values are ignored rather than refused: a stale bookmark still shows runs."""

    status = forms.ChoiceField(required=False, choices=[("", "Any status")] + list(RunStatus.choices))
    kind = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Any audit")] + [(k, v.label) for k, v in KINDS.items()]


class RunRequestForm(forms.Form):
    # Any text up to the bound: the runs service names an unknown kind as the API does.
    kind = forms.CharField(required=False, max_length=64)
