"""The report pages' forms: which version to report on, and a PDF to verify."""

from __future__ import annotations

from django import forms

from governance.registry.models import ModelVersion

NO_VERSION = "choose a registered model version."


class ReportRequestForm(forms.Form):
    version = forms.UUIDField(error_messages={"required": NO_VERSION, "invalid": NO_VERSION})

    def clean_version(self) -> ModelVersion:
        version = ModelVersion.objects.select_related("system").filter(pk=self.cleaned_data["version"]).first()
        if version is None:
            raise forms.ValidationError(NO_VERSION)
        return version


class VerifyForm(forms.Form):
    # Optional here: report_verify names a missing file in the same words as the API.
    file = forms.FileField(required=False)
