"""The audit-trail page's filters."""

from __future__ import annotations

from django import forms


class TrailFilterForm(forms.Form):
    system = forms.CharField(required=False, max_length=80)
    actor = forms.CharField(required=False, max_length=200, help_text='Part of it: "carla", "pipeline:", "worker".')
    action = forms.CharField(required=False, max_length=64, help_text='The start: "approval." or "gate.".')
    since = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label="from")
    until = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label="to")

    def filters(self) -> dict:
        """The valid filters; one that is not (a malformed date) is left out and named in errors."""
        self.is_valid()
        return {name: self.cleaned_data[name] for name in self.fields
                if name in self.cleaned_data and self.cleaned_data[name] not in ("", None)}
