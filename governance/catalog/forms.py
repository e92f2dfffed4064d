"""The control page's form: a status, notes and the control's owner on one system."""

from __future__ import annotations

from django import forms

from governance.catalog.models import AssessmentStatus, ControlAssessment, DocumentKind, EvidenceDocument
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


class DocumentForm(forms.Form):
    """Attach a document or a written attestation to a control (and, by the crosswalk, its
    partners in the other framework). The file's type is checked by its content in the
    service (catalog/sniff.py); the form only parses."""

    kind = forms.ChoiceField(choices=DocumentKind.choices, initial=DocumentKind.DOCUMENT, widget=forms.RadioSelect)
    title = forms.CharField(max_length=200, help_text="For example 'AI policy v3'.")
    file = forms.FileField(required=False, help_text="PDF, DOCX, Markdown or plain text; never opened in the browser, only downloaded.")
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=20000,
                           help_text="A written attestation: who attests what, and on what grounds.")
    effective_on = forms.DateField(label="Effective from", widget=forms.DateInput(attrs={"type": "date"}))
    review_by = forms.DateField(label="Review by", widget=forms.DateInput(attrs={"type": "date"}),
                                help_text="After this day the evidence expires and the control goes stale.")
    owner = OwnerChoiceField(queryset=owner_choices(), help_text="Keeps the document current.")
    partners = forms.ModelMultipleChoiceField(queryset=ControlAssessment.objects.none(), required=False,
                                              widget=forms.CheckboxSelectMultiple,
                                              label="Also attach to the crosswalk partners")
    replaces = forms.ModelChoiceField(queryset=EvidenceDocument.objects.none(), required=False,
                                      label="Replaces", empty_label="Nothing: a new document",
                                      help_text="A new version supersedes the old one on every control it covered.")

    def __init__(self, *args, partners=(), documents=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partners"].queryset = ControlAssessment.objects.filter(pk__in=[p.pk for p in partners])
        self.fields["partners"].label_from_instance = lambda a: f"{a.control.ref} {a.control.title}".strip()
        if documents is not None:
            self.fields["replaces"].queryset = documents
