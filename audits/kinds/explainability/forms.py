"""The "explain a case" form on an explainability run's page: one input per feature the model
reads, typed as the evaluation data is (a number, a whole number, or one of its categories),
prefilled with the typical row. The runner checks the case again (case_frame), as it does for
the API."""

from __future__ import annotations

from django import forms

MAX_CHOICES = 200


class CaseForm(forms.Form):
    case = forms.CharField(label="Case name", max_length=80, required=False,
                           help_text="How you refer to it, e.g. an appeal's reference.")

    def __init__(self, *args, fields: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        for spec in fields:
            name, typical = spec["name"], spec.get("typical")
            if spec["kind"] == "whole":
                field = forms.IntegerField(min_value=-10**15, max_value=10**15)
            elif spec["kind"] == "number":
                field = forms.FloatField(min_value=-1e300, max_value=1e300)
            else:
                field = forms.ChoiceField(choices=[(c, c) for c in spec["choices"][:MAX_CHOICES]])
            field.label, field.initial = name, typical
            self.fields[f"f_{name}"] = field
        self.features = [spec["name"] for spec in fields]

    def case_params(self) -> dict:
        """The case as the audit's `cases` parameter takes it."""
        data = {name: self.cleaned_data[f"f_{name}"] for name in self.features}
        if self.cleaned_data.get("case"):
            data["case"] = self.cleaned_data["case"]
        return data
