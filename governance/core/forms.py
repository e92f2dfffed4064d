"""What every form in the app shares: one sentence from a form's errors, for a flash message
or a 4xx body, naming the field as the API does ("notes: ..."), or by its label where it has one."""

from __future__ import annotations


def form_error(form) -> str:
    parts = []
    for field, errors in form.errors.items():
        text = " ".join(str(e) for e in errors)
        name = form.fields[field].label or field if field in form.fields else field
        parts.append(text if field == "__all__" else f"{name}: {text}")
    return " ".join(parts)


def typed(form) -> dict:
    """The page's inputs as text: what was typed when the form is bound (to show it again with
    the error), else the initial values. The pages render their own inputs from this."""
    if form.is_bound:
        return {name: str(form.data.get(name, "")).strip() for name in form.fields}
    return {name: str(form.initial.get(name, field.initial if field.initial is not None else ""))
            for name, field in form.fields.items()}


def first_field(form) -> str | None:
    """The first field with an error, for the page to mark it (aria-invalid)."""
    return next((name for name in form.errors if name != "__all__"), None)
