"""What every form in the app shares: one sentence from a form's errors, for a flash message
or a 4xx body, naming the field as the API does ("notes: ...")."""

from __future__ import annotations


def form_error(form) -> str:
    parts = []
    for field, errors in form.errors.items():
        text = " ".join(str(e) for e in errors)
        parts.append(text if field == "__all__" else f"{field}: {text}")
    return " ".join(parts)
