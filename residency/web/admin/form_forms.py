"""Forms of the call form builder: a question's wording in every language, its kind's settings,
the condition under which it is asked; a new section; a copy of another call's form."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from flask_babel import LazyString

from residency.core.i18n import language_name
from residency.core.languages import LANGUAGES
from residency.domain.forms import kinds
from residency.web.admin.forms import MultiCheckboxField
from residency.web.formtools import BoundedForm
from residency.web.validators import MaxLength


def _in_language(text, lang: str):
    """A field's label naming the language it is for, in the reader's words ("Question (Norwegian Bokmål)",
    "Spørsmål (engelsk)"), worked out when the page is drawn."""
    return LazyString(lambda: str(_l("%(what)s (%(language)s)", what=str(text), language=language_name(lang))))


class QuestionForm(BoundedForm):
    section_key = SelectField(_l("Section"), validators=[Optional()])
    kind = SelectField(_l("Kind of answer"), validators=[Optional()])
    required = BooleanField(_l("Required before the application can be submitted"))
    hidden = BooleanField(_l("Hidden: no longer asked (the answers given stay readable to staff)"))
    max_chars = StringField(_l("Longest answer in characters"), validators=[Optional()], render_kw={"inputmode": "numeric"})
    max_words = StringField(_l("Word limit (leave empty for none)"), validators=[Optional()], render_kw={"inputmode": "numeric"})
    minimum = StringField(_l("Smallest answer allowed"), validators=[Optional()])
    maximum = StringField(_l("Largest answer allowed"), validators=[Optional()])
    currency = SelectField(_l("Currency"), validators=[Optional()])
    file_types = MultiCheckboxField(_l("Kinds of file allowed"), validators=[Optional()])
    max_mb = StringField(_l("Largest file in MB (at most 10)"), validators=[Optional()], render_kw={"inputmode": "numeric"})
    max_files = StringField(_l("How many files (at most 5)"), validators=[Optional()], render_kw={"inputmode": "numeric"})
    shown_if = SelectField(_l("Ask this question only when"), validators=[Optional()])

    def values(self) -> dict:
        """The typed values as the service takes them (``forms.QuestionInput``)."""
        key, _sep, value = (self.shown_if.data or "").partition("=")
        return dict(
            section_key=self.section_key.data or "", kind=self.kind.data or "",
            label={lang: self[f"label_{lang}"].data or "" for lang in LANGUAGES},
            help={lang: self[f"help_{lang}"].data or "" for lang in LANGUAGES},
            required=bool(self.required.data), hidden=bool(self.hidden.data),
            max_chars=self.max_chars.data or "", max_words=self.max_words.data or "",
            minimum=self.minimum.data or "", maximum=self.maximum.data or "", currency=self.currency.data or "",
            choices={lang: self[f"choices_{lang}"].data or "" for lang in LANGUAGES},
            file_types=list(self.file_types.data or []), max_mb=self.max_mb.data or "", max_files=self.max_files.data or "",
            shown_if_key=key, shown_if_value=value)


for _lang in LANGUAGES:
    setattr(QuestionForm, f"label_{_lang}", StringField(_in_language(_l("Question"), _lang), validators=[Optional(), MaxLength(300)]))
    setattr(QuestionForm, f"help_{_lang}", TextAreaField(_in_language(_l("Help text"), _lang),
                                                        validators=[Optional(), MaxLength(1000)], render_kw={"rows": 2}))
    setattr(QuestionForm, f"choices_{_lang}", TextAreaField(_in_language(_l("Choices, one per line"), _lang),
                                                           validators=[Optional(), MaxLength(10000)], render_kw={"rows": 4}))


def question_form(form, question=None, **kwargs) -> QuestionForm:
    """The editor for a question of ``form`` (a new one when ``question`` is None), its lists filled in."""
    editor = QuestionForm(**kwargs)
    editor.section_key.choices = [(s.key, kinds.text_in(s.title)) for s in form.sections]
    editor.kind.choices = [(k, str(label)) for k, label in kinds.KIND_LABELS.items()]
    editor.currency.choices = [("", _l("Choose a currency"))] + [(c, kinds.currency_label(c)) for c in kinds.CURRENCIES]
    editor.file_types.choices = [(k, str(label)) for k, label in kinds.FILE_TYPE_LABELS.items()]
    earlier = form.questions if question is None else form.questions[:form.questions.index(question)]
    options = [("", _l("Always"))]
    for q in earlier:
        if q.kind not in kinds.CONDITION_KINDS or q.hidden:
            continue
        answers = kinds.choices_of(q)[:5] if q.kind == "country" else kinds.choices_of(q)
        for value, label in answers:
            options.append((f"{q.key}={value}", f"{kinds.text_in(q.label)}: {label}"))
    editor.shown_if.choices = options
    return editor


def question_data(question) -> dict:
    """A saved question as the editor's fields."""
    settings = question.settings or {}
    data = dict(section_key=question.section.key, kind=question.kind, required=question.required, hidden=question.hidden,
                max_chars=str(settings.get("max_chars") or ""), max_words=str(settings.get("max_words") or ""),
                minimum="" if settings.get("min") is None else str(settings["min"]),
                maximum="" if settings.get("max") is None else str(settings["max"]),
                currency=settings.get("currency") or "", file_types=list(settings.get("types") or []),
                max_mb=str(settings.get("max_mb") or ""), max_files=str(settings.get("max_files") or ""),
                shown_if=f"{question.shown_if_key}={question.shown_if_value}" if question.shown_if_key else "")
    for lang in LANGUAGES:
        data[f"label_{lang}"] = (question.label or {}).get(lang, "")
        data[f"help_{lang}"] = (question.help or {}).get(lang, "")
        data[f"choices_{lang}"] = "\n".join((c.get("label") or {}).get(lang, "") for c in settings.get("choices", []))
    return data


class SectionForm(BoundedForm):
    pass


for _lang in LANGUAGES:
    setattr(SectionForm, f"title_{_lang}", StringField(_in_language(_l("Section title"), _lang),
                                                      validators=[Optional(), MaxLength(300)]))


class CopyFormForm(BoundedForm):
    from_call_id = SelectField(_l("Copy the form of"), coerce=int, validators=[Optional()])


class NewQuestionForm(BoundedForm):
    section_key = SelectField(_l("Section"), validators=[Optional()])
    kind = SelectField(_l("Kind of answer"), validators=[Optional()])
