from django import forms
from django.contrib import admin

from governance.core.roles import DECIDING_ROLES, can
from governance.policies.defaults import PARAMS_CHECKS
from governance.policies.models import Policy


class PolicyForm(forms.ModelForm):
    """The JSON fields are checked here, so a typo in the admin cannot silently open the gate."""

    class Meta:
        model = Policy
        fields = "__all__"
        help_texts = {
            "audit_requirements": 'e.g. {"fairness": {"thresholds": {"demographic_parity_difference": {"max": 0.1}}, '
                                  '"max_age_days": 90}, "explainability": {"params": {"n_bootstrap": 2000}}}: '
                                  "params set the parameters that decide the verdict; a request may ask for more "
                                  "thoroughness, never less (docs/audit-parameters.md)",
            "approval_stages": 'Stages in order; every role of a stage signs. e.g. [["risk_officer", "security_reviewer"], '
                               '["executive_approver"]]',
        }

    def clean_audit_requirements(self):
        value = self.cleaned_data["audit_requirements"]
        if not isinstance(value, dict):
            raise forms.ValidationError("A JSON object: audit kind -> {thresholds, max_age_days}.")
        for kind, spec in value.items():
            params_key, params_check = PARAMS_CHECKS.get(kind, ("params", None))
            if not isinstance(spec, dict) or set(spec) - {"thresholds", "max_age_days", params_key}:
                raise forms.ValidationError(f"{kind}: use only the keys thresholds, max_age_days and {params_key}.")
            problem = params_check(spec[params_key]) if params_check and params_key in spec else None
            if problem:
                raise forms.ValidationError(f"{kind}: {problem}")
            age = spec.get("max_age_days")
            if age is not None and (not isinstance(age, int) or isinstance(age, bool) or age < 1):
                raise forms.ValidationError(f"{kind}: max_age_days must be a whole number of days >= 1.")
            for metric, limit in (spec.get("thresholds") or {}).items():
                ok = isinstance(limit, dict) and len(limit) == 1 and set(limit) <= {"max", "min"}
                number = next(iter(limit.values())) if ok else None
                if not ok or isinstance(number, bool) or not isinstance(number, (int, float)):
                    raise forms.ValidationError(f'{kind}.{metric}: use {{"max": number}} or {{"min": number}}.')
        return value

    def clean_approval_stages(self):
        value = self.cleaned_data["approval_stages"]
        allowed = sorted(r.value for r in DECIDING_ROLES)
        if not isinstance(value, list) or not value:
            raise forms.ValidationError("A non-empty list of stages, each a list of roles.")
        for stage in value:
            if not isinstance(stage, list) or not stage or len(set(stage)) != len(stage) or set(stage) - set(allowed):
                raise forms.ValidationError(f"Each stage is a list of distinct roles among: {', '.join(allowed)}.")
        return value


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    form = PolicyForm
    list_display = ["name", "risk_tier", "environment", "require_signed_report", "approval_valid_days", "updated_at"]
    list_filter = ["risk_tier", "environment"]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and can(request.user, "policy.edit")
