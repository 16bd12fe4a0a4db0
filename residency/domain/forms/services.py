"""A call's form: read it, start it from the programme's default or another call's, and change it
without changing what the answers already given mean.

The rules of the builder live here: a question with answers keeps its kind and is hidden rather
than removed; a question the programme reads as a typed column or as the attachments
(``binding``) is reworded and moved only; a condition names an earlier question and one of its
answers. Every change is a ``FormChange`` row, shown as the form's history.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from decimal import Decimal

from flask_babel import force_locale
from residency.core.i18n import lazy_gettext as _l

from sqlalchemy import column, exists, select, table
from sqlalchemy.orm import joinedload

from residency.core import limits, workflow
from residency.core.db import utcnow
from residency.core.errors import Conflict, Forbidden, Invalid, NotFound
from residency.core.extensions import db
from residency.core.languages import LANGUAGES
from residency.core.uow import service
from residency.domain.forms import defaults, kinds
from residency.domain.forms.models import KINDS, Answer, FormChange, FormQuestion, FormSection

# The form sits below the applications (which read it), so it names their tables without their models.
_attachment = table("attachment", column("question_id"))
_application = table("application", column("call_id"))

LABEL_MAX = 300
HELP_MAX = 1000
CHOICES_MAX = 30
QUESTIONS_MAX = 100
SECTIONS_MAX = 20


@dataclass
class Form:
    """A call's form as the pages read it: sections in order, each with its questions in order."""

    call_id: int | None
    sections: list[FormSection]
    questions: list[FormQuestion]
    _by_key: dict = field(default_factory=dict)

    def __post_init__(self):
        self._by_key = {q.key: q for q in self.questions}

    def question(self, key: str) -> FormQuestion | None:
        return self._by_key.get(key)

    def question_by_id(self, question_id: int | None) -> FormQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)

    @property
    def keys(self) -> list[str]:
        return [q.key for q in self.questions]

    def in_section(self, section: FormSection, *, include_hidden: bool = False) -> list[FormQuestion]:
        return [q for q in self.questions if q.section_id == section.id and (include_hidden or not q.hidden)]

    def bound(self, binding: str) -> FormQuestion | None:
        return next((q for q in self.questions if q.binding == binding), None)

    def asked(self, values: dict) -> list[FormQuestion]:
        """The questions a startup with these answers is asked: not hidden, and any condition met."""
        return [q for q in self.questions if not q.hidden and condition_met(q, values)]

    def custom(self) -> list[FormQuestion]:
        """The questions whose answers are ``Answer`` rows (not a column, not a file)."""
        return [q for q in self.questions if q.binding is None and q.kind != "file"]


def condition_met(question: FormQuestion, values: dict) -> bool:
    if not question.shown_if_key:
        return True
    given = values.get(question.shown_if_key)
    if isinstance(given, (list, tuple)):
        return question.shown_if_value in [str(v) for v in given]
    if isinstance(given, bool):
        given = "yes" if given else "no"
    return given is not None and str(given) == question.shown_if_value


def form_of(call_id: int | None) -> Form:
    """The form of a call (``None``: the programme's default), in two queries."""
    where = FormSection.call_id.is_(None) if call_id is None else FormSection.call_id == call_id
    sections = list(db.session.scalars(select(FormSection).where(where).order_by(FormSection.position, FormSection.id)))
    order = {s.id: i for i, s in enumerate(sections)}
    qwhere = FormQuestion.call_id.is_(None) if call_id is None else FormQuestion.call_id == call_id
    questions = sorted(db.session.scalars(select(FormQuestion).where(qwhere)),
                       key=lambda q: (order.get(q.section_id, 1_000_000), q.position, q.id))
    return Form(call_id, sections, questions)


def forms_of(call_ids) -> dict[int, Form]:
    """The forms of several calls, in two queries (lists and exports across calls)."""
    ids = sorted(set(call_ids))
    if not ids:
        return {}
    sections = list(db.session.scalars(select(FormSection).where(FormSection.call_id.in_(ids))
                                       .order_by(FormSection.position, FormSection.id)))
    questions = list(db.session.scalars(select(FormQuestion).where(FormQuestion.call_id.in_(ids))))
    order = {s.id: i for i, s in enumerate(sections)}
    result = {}
    for call_id in ids:
        mine = sorted((q for q in questions if q.call_id == call_id), key=lambda q: (order.get(q.section_id, 10**6), q.position, q.id))
        result[call_id] = Form(call_id, [s for s in sections if s.call_id == call_id], mine)
    return result


def has_form(call_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(FormQuestion.call_id == call_id))))


# ------------------------------------------------------------------ the default and copies


def every_language(message) -> dict:
    """A message of the sources in every language the service offers (its translation, or English)."""
    texts = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            texts[lang] = str(message)
    return texts


def ensure_default() -> Form:
    """The programme's default form, built from ``defaults`` the first time it is needed (flushes)."""
    form = form_of(None)
    if form.questions:
        return form
    sections = {}
    for position, (key, title) in enumerate(defaults.SECTIONS):
        sections[key] = FormSection(call_id=None, key=key, position=position, title=every_language(title))
        db.session.add(sections[key])
    db.session.flush()
    for position, (section, key, kind, binding, label, help_, settings) in enumerate(defaults.QUESTIONS):
        db.session.add(FormQuestion(call_id=None, section_id=sections[section].id, key=key, position=position, kind=kind,
                                    binding=binding, required=True, label=every_language(label),
                                    help=every_language(help_) if help_ is not None else {}, settings=dict(settings)))
    db.session.flush()
    return form_of(None)


def start_form(call_id: int, *, home_country: str | None = None, from_call_id: int | None = None,
               actor_id: int | None = None) -> Form:
    """Give a new call its form: a copy of another call's, or of the programme's default (flushes).

    A money question copied into a call of another home country keeps its currency: the administrator
    who copies it decides."""
    if has_form(call_id):
        return form_of(call_id)
    source = form_of(from_call_id) if from_call_id is not None else ensure_default()
    if from_call_id is not None and not source.questions:
        raise NotFound(_l("Not found."))
    ids = {}
    for section in source.sections:
        copy = FormSection(call_id=call_id, key=section.key, position=section.position, title=dict(section.title or {}))
        db.session.add(copy)
        db.session.flush()
        ids[section.id] = copy.id
    for q in source.questions:
        settings = dict(q.settings or {})
        if q.kind == "money" and not settings.get("currency"):
            settings["currency"] = kinds.HOME_CURRENCY.get(home_country or "", "EUR")
        db.session.add(FormQuestion(call_id=call_id, section_id=ids[q.section_id], key=q.key, position=q.position,
                                    kind=q.kind, binding=q.binding, required=q.required, hidden=q.hidden,
                                    label=dict(q.label or {}), help=dict(q.help or {}), settings=settings,
                                    shown_if_key=q.shown_if_key, shown_if_value=q.shown_if_value))
    db.session.add(FormChange(call_id=call_id, action="copied", actor_id=actor_id,
                              detail={"from_call": from_call_id} if from_call_id else {"from": "default"}))
    db.session.flush()
    return form_of(call_id)


# ------------------------------------------------------------------ answers


def answer_rows(application_ids) -> dict[int, dict[int, object]]:
    """{application id: {question id: value}} for these applications, in one query."""
    ids = list(application_ids)
    result: dict[int, dict[int, object]] = {i: {} for i in ids}
    if not ids:
        return result
    for application_id, question_id, value in db.session.execute(
            select(Answer.application_id, Answer.question_id, Answer.value).where(Answer.application_id.in_(ids))):
        result[application_id][question_id] = value
    return result


def write_answers(application_id: int, form: Form, values: dict) -> None:
    """Store these answers (key → value; None removes an answer) of the form's own questions (flushes)."""
    questions = [form.question(k) for k in values]
    questions = [q for q in questions if q is not None and q.binding is None and q.kind != "file"]
    if not questions:
        return
    existing = {a.question_id: a for a in db.session.scalars(select(Answer).where(
        Answer.application_id == application_id, Answer.question_id.in_([q.id for q in questions])))}
    now = utcnow()
    for q in questions:
        value = values[q.key]
        row = existing.get(q.id)
        if not kinds.answered(value):
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(Answer(application_id=application_id, question_id=q.id, value=value, updated_at=now))
        else:
            row.value, row.updated_at = value, now
    db.session.flush()


def answered_questions(call_id: int) -> set[int]:
    """The ids of the call's questions that have an answer (a row, or for a file question an attachment)."""
    rows = set(db.session.scalars(select(Answer.question_id).join(FormQuestion, FormQuestion.id == Answer.question_id)
                                  .where(FormQuestion.call_id == call_id).distinct()))
    files_ = set(db.session.scalars(select(_attachment.c.question_id).join(FormQuestion, FormQuestion.id == _attachment.c.question_id)
                                    .where(FormQuestion.call_id == call_id).distinct()))
    return rows | files_


# ------------------------------------------------------------------ the builder


def _require_admin(actor) -> None:
    if not actor.has_role(workflow.ADMIN):
        raise Forbidden(_l("Only a programme administrator may change a call's form."))


def _slug(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", ascii_).strip("_")[:32] or "question"


# Names a form already uses for itself (and the form's own fields): never a question's key.
RESERVED_KEYS = frozenset({"values", "uploads", "fill", "questions", "meta", "data", "errors", "form_errors", "process",
                           "validate", "populate_obj", "csrf_token", "loaded_edit_id", "intent", "submit", "hidden_tag",
                           "is_submitted", "validate_on_submit", "raw_data", "extra_validators", "created", "id"})


def _new_key(form: Form, label: str) -> str:
    base, n = _slug(label), 1
    if base in RESERVED_KEYS:
        base = f"{base}_answer"
    key = base
    taken = set(form.keys)
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    return key


@dataclass
class QuestionInput:
    """What the builder's question form sends: labels and help by language, the kind's settings."""

    section_key: str
    kind: str
    label: dict
    help: dict = field(default_factory=dict)
    required: bool = True
    hidden: bool = False
    max_chars: str = ""
    max_words: str = ""
    minimum: str = ""
    maximum: str = ""
    currency: str = ""
    choices: dict = field(default_factory=dict)  # language → one choice per line
    file_types: list = field(default_factory=list)
    max_mb: str = ""
    max_files: str = ""
    shown_if_key: str = ""
    shown_if_value: str = ""


def _texts(given: dict, maximum: int, name: str, errors: dict, *, required: bool) -> dict:
    texts = {}
    for lang in LANGUAGES:
        text = (given.get(lang) or "").replace("\r\n", "\n").strip()
        if not text:
            continue
        problem = limits.text_problem(text, maximum, multiline=name == "help")
        if problem:
            errors[f"{name}_{lang}"] = [problem]
        texts[lang] = text
    if required and not texts.get("en"):
        errors[f"{name}_en"] = [_l("Write the question in English; the other languages fall back to it.")]
    return texts


def _number_setting(raw: str, low, high, name: str, errors: dict, money: bool = False):
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        if money:
            value = limits.parse_money(raw)
            if value < 0:
                raise limits.OutOfBounds(limits.money_message())
            return str(value)
        return limits.parse_int(raw, low, high)
    except limits.OutOfBounds as out:
        errors[name] = [out.message]
    except (ValueError, ArithmeticError):
        errors[name] = [limits.money_message() if money else limits.number_message(low, high)]
    return None


def _settings(given: QuestionInput, kind: str, previous: FormQuestion | None, errors: dict) -> dict:
    settings = dict(previous.settings or {}) if previous is not None and previous.kind == kind else {}
    if kind in ("short_text", "long_text"):
        cap = kinds.SHORT_TEXT_MAX if kind == "short_text" else limits.LONG_TEXT_MAX
        settings["max_chars"] = _number_setting(given.max_chars, 1, cap, "max_chars", errors) or cap
        if kind == "long_text":
            settings["max_words"] = _number_setting(given.max_words, 1, 2000, "max_words", errors)
    elif kind in ("number", "money"):
        money = kind == "money"
        low = _number_setting(given.minimum, -kinds.NUMBER_LIMIT, kinds.NUMBER_LIMIT, "minimum", errors, money)
        high = _number_setting(given.maximum, -kinds.NUMBER_LIMIT, kinds.NUMBER_LIMIT, "maximum", errors, money)
        if low is not None and high is not None and Decimal(str(low)) > Decimal(str(high)):
            errors["maximum"] = [_l("The largest answer must not be below the smallest.")]
        settings["min"], settings["max"] = low, high
        if money:
            if given.currency not in kinds.CURRENCIES:
                errors["currency"] = [_l("Choose a currency.")]
            settings["currency"] = given.currency
    elif kind in kinds.CHOICE_KINDS:
        settings["choices"] = _choices(given, previous, errors)
    elif kind == "file":
        types = [t for t in given.file_types if t in kinds.FILE_TYPES]
        if not types:
            errors["file_types"] = [_l("Choose at least one kind of file.")]
        settings["types"] = types
        settings["max_mb"] = _number_setting(given.max_mb, 1, kinds.FILE_MB_MAX, "max_mb", errors) or kinds.FILE_MB_MAX
        settings["max_files"] = _number_setting(given.max_files, 1, kinds.FILES_MAX, "max_files", errors) or 1
    return settings


def _choices(given: QuestionInput, previous: FormQuestion | None, errors: dict) -> list[dict]:
    """Choices from one line each per language; a line keeps the value it had (rewording keeps answers)."""
    lines = {lang: [line.strip() for line in (given.choices.get(lang) or "").replace("\r\n", "\n").split("\n") if line.strip()]
             for lang in LANGUAGES}
    english = lines["en"]
    if not english:
        errors["choices_en"] = [_l("Give at least one choice, one per line.")]
        return []
    if len(english) > CHOICES_MAX:
        errors["choices_en"] = [_l("At most %(n)d choices.", n=CHOICES_MAX)]
    for lang, texts in lines.items():
        if any(limits.text_problem(t, LABEL_MAX) for t in texts):
            errors[f"choices_{lang}"] = [limits.length_message(LABEL_MAX, max(len(t) for t in texts))]
        if lang != "en" and texts and len(texts) != len(english):
            errors[f"choices_{lang}"] = [_l("Give as many lines as in English (%(n)d), in the same order.", n=len(english))]
    old = list((previous.settings or {}).get("choices", [])) if previous is not None and previous.kind in kinds.CHOICE_KINDS else []
    used, choices = set(), []
    for i, text in enumerate(english[:CHOICES_MAX]):
        value = str(old[i]["value"]) if i < len(old) else _slug(text)
        while value in used:
            value = f"{value}_{i + 1}"
        used.add(value)
        choices.append({"value": value, "label": {lang: lines[lang][i] for lang in LANGUAGES if i < len(lines[lang])}})
    return choices


def _check_condition(form: Form, question_key: str | None, key: str, value: str, errors: dict):
    """The condition given, if it names another question with a list of answers and one of them (that
    it comes earlier in the form is checked on the form as it is after the change: ``_conditions_hold``)."""
    if not key:
        return None, None
    target = form.question(key)
    if target is None or target.key == question_key or target.kind not in kinds.CONDITION_KINDS:
        errors["shown_if_key"] = [_l("Choose an earlier question with a list of answers.")]
        return None, None
    if value not in {v for v, _label in kinds.choices_of(target)}:
        errors["shown_if_value"] = [_l("Choose one of that question's answers.")]
        return None, None
    return key, value


def _conditions_hold(call_id: int, moved: bool = False) -> None:
    """Every condition names a question asked before the one it decides, in the form as it now is;
    a change that breaks that is refused (the unit of work rolls it back)."""
    order = form_of(call_id).questions
    place = {q.key: i for i, q in enumerate(order)}
    for q in order:
        if q.shown_if_key and place.get(q.shown_if_key, len(order)) >= place[q.key]:
            other = next(o for o in order if o.key == q.shown_if_key)
            if moved:
                raise Conflict(_l("%(question)s is asked only after %(other)s is answered; it cannot come before it.",
                                  question=kinds.text_in(q.label), other=kinds.text_in(other.label)))
            raise Invalid(_l("Please correct the marked fields. Nothing was saved."),
                          {"shown_if_key": [_l("Choose an earlier question with a list of answers.")]})


def _diff(question: FormQuestion, new: dict) -> dict:
    return {name: [getattr(question, name), value] for name, value in new.items() if getattr(question, name) != value}


def _form_for_change(call) -> Form:
    if call.status == "archived":
        raise Conflict(_l("An archived call's form can no longer change."))
    return start_form(call.id, home_country=call.route.home_country) if not has_form(call.id) else form_of(call.id)


@service
def add_question(actor, call, given: QuestionInput) -> FormQuestion:
    """Add a question at the end of a section of the call's form."""
    _require_admin(actor)
    form = _form_for_change(call)
    if len(form.questions) >= QUESTIONS_MAX:
        raise Conflict(_l("A form can have at most %(n)d questions.", n=QUESTIONS_MAX))
    errors: dict = {}
    section = next((s for s in form.sections if s.key == given.section_key), None)
    if section is None:
        errors["section_key"] = [_l("Choose a section.")]
    if given.kind not in KINDS:
        errors["kind"] = [_l("Choose what kind of answer the question takes.")]
    label = _texts(given.label, LABEL_MAX, "label", errors, required=True)
    help_ = _texts(given.help, HELP_MAX, "help", errors, required=False)
    settings = _settings(given, given.kind, None, errors) if given.kind in KINDS else {}
    shown_key, shown_value = _check_condition(form, None, given.shown_if_key, given.shown_if_value, errors)
    if errors:
        raise Invalid(_l("Please correct the marked fields. Nothing was saved."), errors)
    key = _new_key(form, label["en"])
    position = 1 + max([q.position for q in form.questions if q.section_id == section.id] or [0])
    question = FormQuestion(call_id=call.id, section_id=section.id, key=key, position=position, kind=given.kind,
                            required=given.required, hidden=False, label=label, help=help_, settings=settings,
                            shown_if_key=shown_key, shown_if_value=shown_value)
    db.session.add(question)
    db.session.add(FormChange(call_id=call.id, question_key=key, action="added", actor_id=actor.id,
                              detail={"kind": given.kind, "label": label.get("en")}))
    db.session.flush()
    _conditions_hold(call.id)
    return question


def _question(form: Form, key: str) -> FormQuestion:
    question = form.question(key)
    if question is None:
        raise NotFound(_l("Not found."))
    return question


def has_answers(question: FormQuestion) -> bool:
    """Whether any application answered it (for a question the programme reads: always)."""
    if question.binding is not None:
        return True
    if question.kind == "file":
        return _has_files(question)
    return bool(db.session.scalar(select(exists().where(Answer.question_id == question.id))))


@service
def update_question(actor, call, key: str, given: QuestionInput) -> FormQuestion:
    """Reword a question, change its help, settings or condition; its kind only while it has no answers."""
    _require_admin(actor)
    form = _form_for_change(call)
    question = _question(form, key)
    errors: dict = {}
    answered = has_answers(question)
    kind = given.kind if given.kind in KINDS else question.kind
    if kind != question.kind and (answered or question.binding):
        errors["kind"] = [_l("This question has answers: its kind stays %(kind)s. Hide it and add a new one instead.",
                             kind=kinds.KIND_LABELS[question.kind])]
        kind = question.kind
    label = _texts(given.label, LABEL_MAX, "label", errors, required=True)
    help_ = _texts(given.help, HELP_MAX, "help", errors, required=False)
    settings = question.settings if question.binding else _settings(given, kind, question, errors)
    if kind in kinds.CHOICE_KINDS and answered and len(settings.get("choices", [])) < len((question.settings or {}).get("choices", [])):
        errors["choices_en"] = [_l("This question has answers: reword its choices or add more, but keep every one.")]
    section = next((s for s in form.sections if s.key == given.section_key), None) or question.section
    shown_key, shown_value = (None, None) if question.binding else _check_condition(
        form, key, given.shown_if_key, given.shown_if_value, errors)
    if errors:
        raise Invalid(_l("Please correct the marked fields. Nothing was saved."), errors)
    # A question the programme reads stays asked and required, whatever the form sent.
    required = True if question.binding else bool(given.required)
    hidden = False if question.binding else bool(given.hidden)
    new = {"kind": kind, "label": label, "help": help_, "settings": settings, "required": required, "hidden": hidden,
           "shown_if_key": shown_key, "shown_if_value": shown_value}
    changed = _diff(question, new)
    if section.id != question.section_id:
        changed["section"] = [question.section.key, section.key]
        new["section_id"] = section.id
        new["position"] = 1 + max([q.position for q in form.questions if q.section_id == section.id] or [0])
    for name, value in new.items():
        setattr(question, name, value)
    if changed:
        db.session.add(FormChange(call_id=call.id, question_key=key, action="changed", actor_id=actor.id, detail=changed))
    db.session.flush()
    _conditions_hold(call.id)
    return question


@service
def move_question(actor, call, key: str, direction: int) -> None:
    """Move a question one place up (-1) or down (+1) within its section."""
    _require_admin(actor)
    form = _form_for_change(call)
    question = _question(form, key)
    siblings = [q for q in form.questions if q.section_id == question.section_id]
    i = siblings.index(question)
    j = i + (1 if direction > 0 else -1)
    if not 0 <= j < len(siblings):
        return
    for position, q in enumerate(siblings):
        q.position = position
    siblings[i].position, siblings[j].position = j, i
    db.session.flush()
    _conditions_hold(call.id, moved=True)
    db.session.add(FormChange(call_id=call.id, question_key=key, action="moved", actor_id=actor.id,
                              detail={"position": [i + 1, j + 1]}))
    db.session.flush()


@service
def remove_question(actor, call, key: str) -> None:
    """Remove a question no one has answered and no other question depends on; hide it otherwise."""
    _require_admin(actor)
    form = _form_for_change(call)
    question = _question(form, key)
    if question.binding:
        raise Conflict(_l("The programme reads this answer; the question can be reworded but not removed."))
    if has_answers(question):
        raise Conflict(_l("%(question)s has answers, so it cannot be removed; hide it instead and its answers stay.",
                          question=kinds.text_in(question.label)))
    dependent = [q for q in form.questions if q.shown_if_key == key]
    if dependent:
        raise Conflict(_l("%(other)s is asked depending on this question; change that first.",
                          other=kinds.text_in(dependent[0].label)))
    db.session.add(FormChange(call_id=call.id, question_key=key, action="removed", actor_id=actor.id,
                              detail={"kind": question.kind, "label": (question.label or {}).get("en")}))
    db.session.delete(question)
    db.session.flush()


def _has_files(question: FormQuestion) -> bool:
    return bool(db.session.execute(select(_attachment.c.question_id).where(_attachment.c.question_id == question.id).limit(1)).first())


@service
def add_section(actor, call, title: dict) -> FormSection:
    """A new section at the end of the form."""
    _require_admin(actor)
    form = _form_for_change(call)
    if len(form.sections) >= SECTIONS_MAX:
        raise Conflict(_l("A form can have at most %(n)d sections.", n=SECTIONS_MAX))
    errors: dict = {}
    texts = _texts(title, LABEL_MAX, "title", errors, required=False)
    if not texts.get("en"):
        errors["title_en"] = [_l("Give the section a title in English; the other languages fall back to it.")]
    if errors:
        raise Invalid(_l("Please correct the marked fields. Nothing was saved."), errors)
    key, n = _slug(texts["en"]), 1
    while key in {s.key for s in form.sections}:
        n += 1
        key = f"{_slug(texts['en'])}_{n}"
    section = FormSection(call_id=call.id, key=key, title=texts,
                          position=1 + max([s.position for s in form.sections] or [0]))
    db.session.add(section)
    db.session.add(FormChange(call_id=call.id, action="section added", actor_id=actor.id, detail={"title": texts["en"]}))
    db.session.flush()
    return section


@service
def copy_form(actor, call, from_call_id: int) -> Form:
    """Replace a call's form, while it has no applications, by a copy of another call's."""
    _require_admin(actor)
    if call.id == from_call_id:
        raise Invalid(_l("Choose another call."), {"from_call_id": [_l("Choose another call.")]})
    if call_has_applications(call.id):
        raise Conflict(_l("This call has applications; its form can be changed question by question only."))
    if not has_form(from_call_id):
        raise Invalid(_l("Choose another call."), {"from_call_id": [_l("Choose a call with a form.")]})
    for q in form_of(call.id).questions:
        db.session.delete(q)
    db.session.flush()
    for s in form_of(call.id).sections:
        db.session.delete(s)
    db.session.flush()
    return start_form(call.id, from_call_id=from_call_id, actor_id=actor.id)


def call_has_applications(call_id: int) -> bool:
    return db.session.execute(select(_application.c.call_id).where(_application.c.call_id == call_id).limit(1)).first() is not None


CHANGE_LABELS = {
    "copied": _l("Form started"),
    "added": _l("Question added"),
    "changed": _l("Question changed"),
    "moved": _l("Question moved"),
    "removed": _l("Question removed"),
    "section added": _l("Section added"),
}
DETAIL_LABELS = {
    "kind": _l("kind"), "label": _l("question"), "help": _l("help text"), "settings": _l("limits and choices"),
    "required": _l("required"), "hidden": _l("hidden"), "shown_if_key": _l("asked depending on"),
    "shown_if_value": _l("when the answer is"), "section": _l("section"), "position": _l("place"), "title": _l("title"),
    "from_call": _l("copied from call"), "from": _l("copied from"),
}


def _shown(value) -> str:
    if value is None or value == "" or value == {}:
        return "—"
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if isinstance(value, dict) and "en" in value:
        return f"“{kinds.text_in(value)}”"
    if value == "default":
        return str(_l("the programme's default form"))
    if isinstance(value, str) and value in kinds.KIND_LABELS:
        return str(kinds.KIND_LABELS[value])
    return str(value) if not isinstance(value, (dict, list)) else "…"


def describe_change(change: FormChange) -> str:
    """What a change of the form did, in the reader's language ("question: “A” → “B”; required: yes → no")."""
    parts = []
    for name, value in sorted((change.detail or {}).items()):
        label = DETAIL_LABELS.get(name, name)
        if isinstance(value, list) and len(value) == 2 and change.action in ("changed", "moved"):
            parts.append(f"{label}: {_shown(value[0])} → {_shown(value[1])}")
        else:
            parts.append(f"{label}: {_shown(value)}")
    return "; ".join(parts)


def history(call_id: int) -> list[FormChange]:
    """The form's latest 200 changes, newest first, with who made them (one query)."""
    return list(db.session.scalars(select(FormChange).where(FormChange.call_id == call_id)
                                   .options(joinedload(FormChange.actor)).order_by(FormChange.id.desc()).limit(200)))
