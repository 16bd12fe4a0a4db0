"""Helpers that tie service refusals back to the form fields they concern."""
from __future__ import annotations

from residency.core.errors import ServiceError


def apply_field_errors(form, error: ServiceError) -> None:
    """Show each field error of a service refusal under its field; the rest above the form."""
    unplaced = []
    for name, messages in error.field_errors.items():
        if name in form:
            form[name].errors = list(form[name].errors) + [str(m) for m in messages]
        else:
            unplaced.extend(str(m) for m in messages)
    if unplaced or not error.field_errors:
        for message in unplaced or [str(error.message)]:
            if message not in form.form_errors:
                form.form_errors.append(message)
