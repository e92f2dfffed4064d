"""Forms of the public intake and of the incident pages. They parse; the services decide."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from governance.incidents.models import (
    TEXT_MAX,
    AppealOutcome,
    CorrectiveAction,
    IncidentStatus,
    ReportKind,
    SeriousCategory,
    Severity,
)
from governance.policies.models import Environment


class PublicReportForm(forms.Form):
    kind = forms.ChoiceField(choices=ReportKind.choices, widget=forms.RadioSelect, label="What would you like to do?")
    decision_reference = forms.CharField(
        required=False, max_length=100, label="Reference of the decision",
        help_text="As printed on the letter or screen that told you the decision (needed for an appeal).")
    version = forms.CharField(required=False, max_length=64, label="Model version (if you know it)")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=TEXT_MAX,
                           label="What happened", help_text=f"Up to {TEXT_MAX} characters.")
    sensitive_attribute = forms.ChoiceField(
        required=False, label="Optional: a characteristic you think the decision may have turned on")
    sensitive_group = forms.CharField(required=False, max_length=40, label="Optional: your group for it",
                                      help_text="For example 'female' or '25-34'. Used only to count appeals per group.")
    stamp = forms.CharField(widget=forms.HiddenInput)
    # The honeypot: hidden from people (CSS and aria-hidden), filled in by bots.
    website = forms.CharField(required=False, label="Leave this field empty",
                              widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    def __init__(self, *args, attributes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sensitive_attribute"].choices = [("", "(none)"), *((a, a) for a in attributes)]


class FollowForm(forms.Form):
    reference = forms.CharField(max_length=64, label="Your reference")


class IncidentForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=10000)
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.MEDIUM)
    versions = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    environments = forms.MultipleChoiceField(required=False, choices=Environment.choices,
                                             widget=forms.CheckboxSelectMultiple)
    serious = forms.BooleanField(required=False, label="Serious incident (Art. 3(49) of the EU AI Act)")
    serious_category = forms.ChoiceField(required=False, choices=[("", "(not serious)"), *SeriousCategory.choices],
                                         label="Article 73 category")
    occurred_at = forms.DateTimeField(required=False, label="Occurred at (UTC)", help_text="YYYY-MM-DD HH:MM")

    def __init__(self, *args, system, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["versions"].choices = [(str(v.pk), v.version) for v in system.versions.order_by("-created_at")]


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=IncidentStatus.choices, label="New status")
    note = forms.CharField(required=False, max_length=2000)


class DetailsForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True).order_by("username"))
    severity = forms.ChoiceField(choices=Severity.choices)
    root_cause = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)
    corrective_action = forms.ChoiceField(required=False, choices=[("", "(none yet)"), *CorrectiveAction.choices])
    corrective_notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)


class SeriousForm(forms.Form):
    serious = forms.TypedChoiceField(choices=[("1", "Serious"), ("0", "Not serious")], coerce=lambda v: v == "1")
    category = forms.ChoiceField(required=False, choices=[("", "(none)"), *SeriousCategory.choices])
    reason = forms.CharField(required=False, max_length=2000)


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=10000)


class AnswerForm(forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_MAX)
    outcome = forms.ChoiceField(required=False, choices=[("", "(a problem report)"), *AppealOutcome.choices])
