"""The drift panel's forms (templates/drift/_panel.html). They parse and bound what is posted;
the drift services decide what is valid, with the same messages as the API."""

from __future__ import annotations

from django import forms

from governance.registry.models import Dataset, ModelVersion

NO_VERSION = "choose one of this system's versions."
NO_BATCH = "no such dataset of this system."


class _ForSystem(forms.Form):
    """Every drift form names one of the system's versions."""

    version = forms.UUIDField(error_messages={"required": NO_VERSION, "invalid": NO_VERSION})

    def __init__(self, *args, system, **kwargs):
        super().__init__(*args, **kwargs)
        self.system = system

    def clean_version(self) -> ModelVersion:
        version = (ModelVersion.objects.select_related("system", "eval_dataset", "train_dataset")
                   .filter(system=self.system, pk=self.cleaned_data["version"]).first())
        if version is None:
            raise forms.ValidationError(NO_VERSION)
        return version


class BatchUploadForm(_ForSystem):
    file = forms.FileField(required=False)
    name = forms.CharField(required=False, max_length=200)
    label_column = forms.CharField(required=False, max_length=200)
    review = forms.BooleanField(required=False)


class ReviewForm(_ForSystem):
    # A rollback target is reviewed on the batch that breached the version it replaces; none:
    # the latest. An unknown one is refused, not replaced.
    batch = forms.UUIDField(required=False, error_messages={"invalid": NO_BATCH})

    def clean_batch(self) -> Dataset | None:
        pk = self.cleaned_data["batch"]
        if pk is None:
            return None
        batch = Dataset.objects.filter(system=self.system, pk=pk).first()
        if batch is None:
            raise forms.ValidationError(NO_BATCH)
        return batch


class ScheduleForm(_ForSystem):
    crontab = forms.CharField(required=False, max_length=100)
    custom_crontab = forms.CharField(required=False, max_length=100)
    enabled = forms.BooleanField(required=False)

    def expression(self) -> str:
        data = self.cleaned_data
        return data["custom_crontab"] if data["crontab"] == "custom" else data["crontab"]


class ResolveForm(forms.Form):
    status = forms.CharField(required=False, max_length=32)
    note = forms.CharField(required=False, max_length=5000)
