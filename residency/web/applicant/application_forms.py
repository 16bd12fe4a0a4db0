"""The application form, built from the call's own form: every question optional while drafting;
the service decides what is complete at submission."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from residency.core import limits
from residency.domain.forms import kinds
from residency.web.formtools import BoundedForm
from residency.web.validators import MaxLength


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _ApplicationForm(BoundedForm):
    loaded_edit_id = HiddenField()
    questions: list = []

    def values(self) -> dict:
        """What the applicant typed, as plain values for the service (files are uploads)."""
        return {q.key: self[q.key].data if q.kind == "multiple_choice" else (self[q.key].data or "")
                for q in self.questions if q.kind != "file"}

    def uploads(self) -> dict:
        """Each file question's chosen file, as (name, bytes)."""
        chosen = {}
        for q in self.questions:
            if q.kind == "file":
                upload = self[q.key].data
                if upload and getattr(upload, "filename", None):
                    chosen[q.key] = (upload.filename, upload.read())
        return chosen

    def fill(self, values: dict) -> None:
        for key, value in values.items():
            if key in self and key != "loaded_edit_id":
                if isinstance(value, list):
                    self[key].data = [str(v) for v in value]
                else:
                    self[key].data = "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))


def _field(q):
    label = kinds.text_in(q.label)
    optional = [Optional()]
    if q.kind in ("short_text", "long_text"):
        maximum = kinds.max_chars(q)
        attrs = {"maxlength": maximum}
        if q.kind == "short_text":
            return StringField(label, validators=optional + [MaxLength(maximum)], render_kw=attrs)
        if kinds.max_words(q):
            attrs["data-max-words"] = kinds.max_words(q)
        return TextAreaField(label, validators=optional + [MaxLength(maximum)], render_kw={"rows": 5, **attrs})
    if q.kind == "number":
        low, high = kinds.bounds(q)
        attrs = {"type": "number", "inputmode": "numeric", "step": 1}
        attrs.update({k: v for k, v in (("min", low), ("max", high)) if v is not None})
        # Plain text: the service explains a bad number in words.
        return StringField(label, validators=optional, render_kw=attrs)
    if q.kind == "money":
        return StringField(label, validators=optional, render_kw={"inputmode": "decimal", "autocomplete": "off"})
    if q.kind == "date":
        return StringField(label, validators=optional, render_kw={"type": "date"})
    if q.kind in ("single_choice", "trl", "country"):
        prompt = _l("Choose a level") if q.kind == "trl" else _l("Choose one")
        if q.binding == "track":
            prompt = _l("Choose a track")
        return SelectField(label, validators=optional, choices=[("", prompt)] + kinds.choices_of(q), validate_choice=False)
    if q.kind == "yes_no":
        return RadioField(label, validators=optional, choices=kinds.choices_of(q), validate_choice=False)
    if q.kind == "multiple_choice":
        return _Checkboxes(label, validators=optional, choices=kinds.choices_of(q), validate_choice=False)
    if q.kind == "file":
        types = (q.settings or {}).get("types") or ["pdf", "image"]
        accept = ",".join(t for kind in types for t in kinds.FILE_TYPES.get(kind, ()))
        return FileField(label, validators=optional, render_kw={"accept": accept})
    raise ValueError(q.kind)


def application_form(form, *args, **kwargs):
    """A WTForms form with one field per question the call's form asks (hidden ones left out),
    declared in the form's order so that its error summary lists them in that order."""
    asked = [q for q in form.questions if not q.hidden]
    attrs = {"questions": asked}
    for q in asked:
        attrs[q.key] = _field(q)
    cls = type("ApplicationForm", (_ApplicationForm,), attrs)
    return cls(*args, **kwargs)


class WithdrawForm(BoundedForm):
    reason = TextAreaField(_l("Why do you withdraw the application?"), validators=[Optional(), MaxLength(limits.REASON_MAX)],
                           render_kw={"rows": 3})


__all__ = ["application_form", "WithdrawForm"]
