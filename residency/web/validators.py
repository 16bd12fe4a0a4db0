"""Form validators shared by every area."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from residency.core.i18n import lazy_gettext as _l
from wtforms.validators import StopValidation, ValidationError

from residency.core import limits


class EmailAddress:
    """An e-mail address in plain words; the demo's ``.test`` domains are allowed outside production."""

    def __init__(self, message=None):
        self.message = message or _l("Enter an e-mail address like name@example.com.")

    def __call__(self, form, field):
        if not field.data:
            return
        try:
            validate_email(field.data.strip(), check_deliverability=False,
                           test_environment=current_app.config.get("ENV_NAME") != "production")
        except EmailNotValidError:
            raise ValidationError(self.message)


# ------------------------------------------------------------------ bounds (see residency.core.limits)


class PlainText:
    """No control characters: none on one line, only tab and line breaks in a multi-line text.

    It stops the field's other checks: a NUL byte must never reach a service, a query or a mail header."""

    field_flags = {}

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, form, field):
        data = field.data
        values = data if isinstance(data, (list, tuple)) else [data]
        if any(isinstance(v, str) and limits.has_control_characters(v, self.multiline) for v in values):
            raise StopValidation(str(limits.control_message(self.multiline)))


class MaxLength:
    """At most ``maximum`` characters, a line break counting as one (as the browser counts it)."""

    def __init__(self, maximum: int):
        self.maximum = maximum
        self.field_flags = {"maxlength": maximum}

    def __call__(self, form, field):
        if isinstance(field.data, str):
            length = len(field.data.replace("\r\n", "\n"))
            if length > self.maximum:
                raise ValidationError(str(limits.length_message(self.maximum, length)))


class DateWithin:
    """A date (or date and time) from 1900-01-01 to 2200-12-31."""

    field_flags = {"min": limits.FIRST_DAY.isoformat(), "max": limits.LAST_DAY.isoformat()}

    def __call__(self, form, field):
        if field.data is not None and not limits.date_within(field.data):
            raise ValidationError(str(limits.date_message()))


class WrittenDate:
    """What a date (or date and time) field says when what was typed is no date: the form it takes,
    with an example the reader can read back, instead of WTForms' "Not a valid date value"."""

    def __init__(self, with_time: bool):
        self.with_time = with_time

    def __call__(self, form, field):
        typed = " ".join(field.raw_data or ()).strip()
        if typed and field.process_errors:
            field.errors = []
            message = limits.datetime_format_message() if self.with_time else limits.date_format_message()
            raise StopValidation(str(message))


class WholeNumberWithin:
    """A whole number from ``low`` to ``high`` (by default what an integer column holds)."""

    def __init__(self, low: int = limits.INT_MIN, high: int = limits.INT_MAX, below=None):
        self.low, self.high, self.below = low, high, below
        self.field_flags = {"min": low, "max": high}

    def __call__(self, form, field):
        if field.data is not None and not limits.int_within(field.data, self.low, self.high):
            if self.below is not None and isinstance(field.data, int) and field.data < self.low:
                raise ValidationError(str(self.below))
            raise ValidationError(str(limits.number_message(self.low, self.high)))


class ChoiceWithin:
    """A chosen id (a select's or a checkbox list's whole number) that a record can have."""

    def __call__(self, form, field):
        data = field.data
        values = data if isinstance(data, (list, tuple)) else [data]
        if any(isinstance(v, int) and not isinstance(v, bool) and not limits.int_within(v) for v in values):
            raise ValidationError(str(_l("Choose one of the options.")))
