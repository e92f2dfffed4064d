"""The DP retraining page's form: the parameters as text, bounded; dp_params_clean (the same
check as the API's) turns them into numbers and names a wrong one."""

from __future__ import annotations

from django import forms

FIELDS = ("target_epsilon", "delta", "max_grad_norm", "epochs", "batch_size", "accountant", "new_version")


class DPRetrainingForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in FIELDS:
            self.fields[name] = forms.CharField(required=False, max_length=64)

    def values(self) -> dict:
        """What was typed, stripped, for the check and for showing again."""
        if self.is_bound and self.is_valid():
            return {name: self.cleaned_data[name] for name in FIELDS}
        return {name: str(self.data.get(name, "")).strip() for name in FIELDS}
