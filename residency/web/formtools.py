"""Form helpers: the base form every form of the service derives from (``BoundedForm``: each field
gets the bounds of ``residency.core.limits``), and service refusals tied back to their fields."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeField,
    EmailField,
    FieldList,
    HiddenField,
    IntegerField,
    MonthField,
    PasswordField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms import Form as WTForm
from wtforms.fields.choices import SelectFieldBase
from wtforms.validators import Length, NumberRange

from residency.core import limits
from residency.core.i18n import format_number
from residency.core.errors import ServiceError
from residency.web import validators


def apply_field_errors(form, error: ServiceError) -> None:
    """Show each field error of a service refusal under its field; the rest above the form.

    A field of a row of an editor (a ``FieldList`` of ``FormField`` rows) is named as WTForms names it,
    ``<list>-<row>-<field>`` (``criteria-2-weight``)."""
    unplaced = []
    for name, messages in error.field_errors.items():
        if name in form:
            form[name].errors = list(form[name].errors) + [str(m) for m in messages]
        elif (cell := _row_field(form, name)) is not None:
            rows, field = cell
            field.errors = list(field.errors) + [str(m) for m in messages]
            # The list holds its rows' errors as dicts (WTForms' way), so the form counts as refused.
            rows.errors = list(rows.errors) + [{field.short_name: field.errors}]
        else:
            unplaced.extend(str(m) for m in messages)
    if unplaced or not error.field_errors:
        for message in unplaced or [str(error.message)]:
            if message not in form.form_errors:
                form.form_errors.append(message)


def _row_field(form, name: str):
    """The (rows, field) a name such as ``criteria-2-weight`` stands for, or None."""
    head, _sep, _rest = name.partition("-")
    rows = form[head] if head in form else None
    if not isinstance(rows, FieldList):
        return None
    for entry in rows.entries:
        for field in getattr(entry, "form", ()):
            if field.name == name:
                return rows, field
    return None


# ------------------------------------------------------------------ row editors
#
# Rows (scoring criteria, instalments) are edited without JavaScript: the form shows the saved or
# typed rows and a blank one; "Add a row" is a submit button that shows the same rows, as typed, and
# one more blank; a wholly blank row is skipped by the service.


class RowList(FieldList):
    """The rows of an editor, at most ``limit`` of them offered. One more is read from a request, so
    that too many rows are refused with the service's message rather than dropped unseen."""

    def __init__(self, unbound_field, label=None, validators=None, *, limit: int, **kwargs):
        super().__init__(unbound_field, label, validators, max_entries=limit + 1, **kwargs)
        self.limit = limit


def row_values(rows: FieldList) -> list[dict]:
    """The rows as typed, blank ones included (a refusal names a row by its place in the list)."""
    return [{field.short_name: field.data for field in entry.form} for entry in rows.entries]


def _blank(entry) -> bool:
    return all(not (field.data or "").strip() if isinstance(field.data, str) else field.data in (None, "")
               for field in entry.form)


def add_blank_rows(rows: FieldList, at_least: int = 1, blank: int = 1) -> None:
    """End the list with ``blank`` empty rows, and show ``at_least`` rows, within the list's maximum."""
    trailing = 0
    for entry in reversed(rows.entries):
        if not _blank(entry):
            break
        trailing += 1
    wanted = max(blank - trailing, at_least - len(rows.entries), 0)
    for _n in range(wanted):
        if not room_for_a_row(rows):
            break
        rows.append_entry()


def add_row_asked(rows: FieldList, formdata) -> bool:
    """The "Add a row" button of ``rows`` was pressed: show one more row, save nothing."""
    if formdata.get("add_row") != rows.name:
        return False
    if room_for_a_row(rows):
        rows.append_entry()
    return True


def room_for_a_row(rows: FieldList) -> bool:
    limit = getattr(rows, "limit", None) or rows.max_entries
    return not limit or len(rows.entries) < limit


# ------------------------------------------------------------------ bounded forms


def typed_amount(value) -> str:
    """An amount or a percentage as it is typed back into a field: exact, in the reader's language's
    decimal mark and without grouping ("250000,00" in Norwegian, "250000.00" in English; '' for
    nothing yet), so the field agrees with its hint and is read back by ``limits.parse_money``."""
    if value is None or value == "":
        return ""
    return format_number(value, "0.00")


def one_newline(text):
    """Browsers send a line break as CR LF but count it as one character against maxlength."""
    return text.replace("\r\n", "\n") if isinstance(text, str) else text


def default_max_length(field) -> int:
    """The longest text a field without its own ``Length`` takes: the page's ``maxlength`` if it
    sets one, else what the kind of field is stored in (see ``residency.core.limits``)."""
    given = (field.render_kw or {}).get("maxlength")
    if isinstance(given, int) and given > 0:
        return given
    if isinstance(field, TextAreaField):
        return limits.LONG_TEXT_MAX
    if isinstance(field, EmailField):
        return limits.EMAIL_MAX
    if isinstance(field, URLField):
        return limits.WEBSITE_MAX
    return limits.LINE_MAX


def add_bounds(field, csrf_field_name: str | None = None) -> None:
    """Give a bound field the checks every field of its kind needs (``residency.core.limits``):

    - texts: no control characters (one-line fields: no line breaks either, as they may reach a
      mail header), and a maximum length when the field declares none;
    - dates: within 1900-01-01 to 2200-12-31;
    - whole numbers: within an integer column when the field declares no range;
    - choices: a chosen id a record can have.

    The control-character check runs first and stops the others."""
    if isinstance(field, PasswordField) or field.short_name == csrf_field_name or field.name == csrf_field_name:
        return  # a password is hashed, never stored or sent; the token is checked by Flask-WTF
    front, back = [], []
    declared = list(field.validators or ())
    if isinstance(field, StringField):
        multiline = isinstance(field, TextAreaField)
        front.append(validators.PlainText(multiline))
        if multiline and one_newline not in field.filters:
            field.filters = (one_newline, *field.filters)
        if not any((isinstance(v, Length) and v.max is not None and v.max >= 0) or isinstance(v, validators.MaxLength)
                   for v in declared):
            maximum = default_max_length(field)
            back.append(validators.MaxLength(maximum))
            if not isinstance(field, HiddenField):
                field.flags.maxlength = maximum
    elif isinstance(field, DateTimeField):  # DateField, DateTimeLocalField and the like
        if not isinstance(field, MonthField):
            front.append(validators.WrittenDate(with_time=not isinstance(field, DateField)))
        back.append(validators.DateWithin())
        if isinstance(field, DateField) and not isinstance(field, MonthField):
            field.flags.min, field.flags.max = limits.FIRST_DAY.isoformat(), limits.LAST_DAY.isoformat()
    elif isinstance(field, IntegerField):
        if not any(isinstance(v, (NumberRange, validators.WholeNumberWithin)) and _bounded(v) for v in declared):
            back.append(validators.WholeNumberWithin())
    elif isinstance(field, SelectFieldBase):
        front.append(validators.PlainText(False))
        back.append(validators.ChoiceWithin())
    else:
        return
    field.validators = [*front, *declared, *back]


def _bounded(validator) -> bool:
    """Whether a declared range keeps the number within an integer column."""
    low = getattr(validator, "min", getattr(validator, "low", None))
    high = getattr(validator, "max", getattr(validator, "high", None))
    return (low is not None and low >= limits.INT_MIN) and (high is not None and high <= limits.INT_MAX)


class _BoundsMeta:
    """The ``Meta`` of every form of the service: each field gets its bounds when it is bound."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        add_bounds(field, getattr(self, "csrf_field_name", "csrf_token"))
        return field


class BoundedForm(FlaskForm):
    """The base of every form of the service (a test holds every ``FlaskForm`` to it): bad input is
    refused with a message next to its field instead of reaching a service or the database."""

    class Meta(_BoundsMeta):
        pass


class BoundedSubform(WTForm):
    """The base of forms nested in a ``FormField`` (no CSRF token of their own), with the same bounds."""

    class Meta(_BoundsMeta):
        pass
