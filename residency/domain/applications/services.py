"""Applications to residency calls: drafts that never lose work, submission,
change requests, withdrawal, attachments and deadline extensions.

Services take plain values and an actor, check permission on the object, and
run in one unit of work (``@service``): they commit once, and a refusal they raise
leaves nothing behind. Where work must be kept although the command is refused
(the answers of an incomplete submission), the service commits the work and
reports the refusal in its outcome instead of raising. Statuses change only
through ``workflow.perform``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from datetime import date, datetime, time
from functools import cache, wraps
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import current_app
from residency.core.i18n import lazy_gettext as _l
from residency.core.i18n import ngettext
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from residency.core import attachments as files
from residency.core import limits, pagination, workflow
from residency.core.db import utcnow
from residency.core.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from residency.core.extensions import db
from residency.core.i18n import country_name, format_day, format_in_zone, format_number
from residency.core.models import StatusChange
from residency.core.uow import savepoint, service
from residency.domain.accounts.labels import track_label
from residency.domain.accounts.models import TRACKS, Organisation, User
from residency.domain.applications import rules
from residency.domain.applications.models import Application, ApplicationEdit, Attachment, DeadlineExtension
from residency.domain.forms import defaults as form_defaults
from residency.domain.forms import kinds as answer_kinds
from residency.domain.forms import services as forms
from residency.domain.programme.models import Call
from residency.domain.programme.services import ClockChange, local_to_utc

EDITABLE = ("draft", "changes_requested")
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


# The answers the programme reads as columns of the application (review, placement and capacity
# work with them): the call's form asks for them through questions bound to them.
TYPED_FIELDS = ["track", "trl", "desired_start", "months", "desks", "benches"]
ATTACHMENTS = "attachments"


def form_of_call(call: Call) -> forms.Form:
    """The call's form; a call made without one (before calls had forms) gets a copy of the default."""
    form = forms.form_of(call.id)
    if form.questions:
        return form
    return forms.start_form(call.id, home_country=call.route.home_country)


def form_of_application(application: Application) -> forms.Form:
    return form_of_call(application.call)


def field_labels(form: forms.Form) -> dict[str, str]:
    """Each question's label in the reader's language, by key (the attachments by their section too)."""
    return {q.key: answer_kinds.text_in(q.label) for q in form.questions}


def answer_text(question, value) -> str:
    """An answer as its reader writes it: a track by its name, a day and a number in the reader's language."""
    if value is None or value == "":
        return ""
    if getattr(question, "binding", None) == "track":
        return track_label(str(value))
    return answer_kinds.answer_text(question, value)


def snapshot(question, value) -> dict:
    """A question as worded now and its answer, as plain data (a receipt is rendered later, in its reader's language)."""
    if isinstance(value, date):
        value = value.isoformat()
    return {"key": question.key, "kind": question.kind, "binding": question.binding, "label": dict(question.label or {}),
            "settings": {k: v for k, v in (question.settings or {}).items() if k in ("choices", "currency")}, "value": value}


def snapshot_line(entry) -> tuple[str, str]:
    """(label, answer) of a snapshot in the reader's language; also for the [key, value] pairs of
    receipts queued before calls had forms (worded as the default form words them)."""
    if isinstance(entry, (list, tuple)):
        key, value = entry[0], entry[1]
        found = next((d for d in form_defaults.QUESTIONS if d[1] == key), None)
        if found is None:
            return key, str(value or "")
        question = SimpleNamespace(key=key, kind=found[2], binding=found[3], settings=dict(found[6]))
        return str(found[4]), answer_text(question, value)
    question = SimpleNamespace(key=entry.get("key"), kind=entry.get("kind"), binding=entry.get("binding"),
                               settings=entry.get("settings") or {})
    return answer_kinds.text_in(entry.get("label")), answer_text(question, entry.get("value"))


@dataclass
class AnswerRow:
    question: object
    label: str
    text: str
    attachments: list = field(default_factory=list)


@dataclass
class AnswerSection:
    key: str
    title: str
    rows: list[AnswerRow]


def answers_in_order(application: Application, form: forms.Form | None = None, *, values: dict | None = None,
                     include_hidden: bool = True) -> list[AnswerSection]:
    """Every answer by section in the form's order, labels and answers in the reader's language;
    the attachments under the file question they answer. Questions hidden from the form still show
    their answers (they were asked once); a question whose condition is not met is left out."""
    form = form or form_of_application(application)
    values = values if values is not None else values_of(application, form)
    sections = []
    for section in form.sections:
        rows = []
        for q in form.in_section(section, include_hidden=True):
            if not forms.condition_met(q, values):
                continue
            if q.kind == "file":
                files_ = [a for a in application.attachments if a.question_id == q.id]
                if q.hidden and not files_:
                    continue
                rows.append(AnswerRow(q, answer_kinds.text_in(q.label), "", files_))
                continue
            if q.hidden and not answer_kinds.answered(values.get(q.key)):
                continue
            rows.append(AnswerRow(q, answer_kinds.text_in(q.label), answer_text(q, values.get(q.key))))
        if rows:
            sections.append(AnswerSection(section.key, answer_kinds.text_in(section.title), rows))
    return sections


# ----------------------------------------------------------------- reading


def application_for(user: User, application_id: int) -> Application:
    """The application if ``user`` may see it (a member, the nominating cluster after submission, an administrator)."""
    return workflow.require(db.session.get(Application, application_id), user)


def own_application(user: User, application_id: int) -> Application:
    """The application if ``user`` is a member of its startup; 404 otherwise (staff read
    applications in their own area, not on the startup's pages)."""
    application = application_for(user, application_id)
    if workflow.APPLICANT not in workflow.roles_on(application, user):
        raise NotFound(_l("Not found."))
    return application


def active_application(call_id: int, startup_id: int) -> Application | None:
    """The startup's application to the call that is not withdrawn, if it has one."""
    return db.session.scalar(select(Application).where(
        Application.call_id == call_id, Application.startup_id == startup_id, Application.status != "withdrawn"))


def edits_of(application: Application) -> list[ApplicationEdit]:
    return list(db.session.scalars(
        select(ApplicationEdit).where(ApplicationEdit.application_id == application.id)
        .options(joinedload(ApplicationEdit.user)).order_by(ApplicationEdit.id)
    ))


def latest_edit_id(application: Application) -> int:
    return db.session.scalar(select(func.max(ApplicationEdit.id)).where(ApplicationEdit.application_id == application.id)) or 0


def values_of(application: Application, form: forms.Form | None = None) -> dict:
    """The application's current answers as plain values, keyed by the questions' keys."""
    form = form or form_of_application(application)
    stored = forms.answer_rows([application.id])[application.id] if application.id else {}
    return values_from(application, form, stored)


def values_from(application: Application, form: forms.Form, stored: dict) -> dict:
    """``values_of`` from answers already read (``forms.answer_rows``), for lists of applications."""
    values = {q.key: stored.get(q.id) for q in form.custom()}
    values.update({key: getattr(application, key) for key in TYPED_FIELDS})
    return values


@dataclass
class ApplicationPage:
    """What the startup's application page shows: answers, edits, the timeline the
    startup may see, the deadline in force and what the viewer may do."""

    application: Application
    values: dict
    edits: list[ApplicationEdit]
    timeline: list[StatusChange]
    deadline: datetime
    label: str
    editable: bool
    can_withdraw: bool
    form: forms.Form | None = None
    labels: dict = field(default_factory=dict)  # each question's label by key, in the reader's language
    answers: list = field(default_factory=list)  # ``answers_in_order``, for the read-only copy
    files: dict = field(default_factory=dict)  # each file question's key → its attachments


def application_page(application: Application, viewer: User) -> ApplicationPage:
    held = workflow.roles_on(application, viewer)
    form = form_of_application(application)
    values = values_of(application, form)
    return ApplicationPage(
        form=form,
        labels=field_labels(form),
        answers=answers_in_order(application, form, values=values),
        files={q.key: [a for a in application.attachments if a.question_id == q.id] for q in form.questions if q.kind == "file"},
        application=application,
        values=values,
        edits=edits_of(application),
        timeline=applicant_timeline(application, workflow.history(application, for_applicant=True)),
        deadline=rules.effective_deadline(application.call, application.startup_id),
        label=workflow.label("application", rules.applicant_status(application), for_applicant=True),
        editable=application.status in EDITABLE and workflow.APPLICANT in held,
        can_withdraw=any(t.action == "withdraw" for t in workflow.allowed_actions(application, viewer)),
    )


def applicant_timeline(application: Application, changes: list[StatusChange]) -> list[StatusChange]:
    """The changes the startup may see: decisions only once the call's decisions are released."""
    return [c for c in changes if rules.applicant_sees_change(c, application.call)]


# ----------------------------------------------------------------- drafts


def _require_member(application: Application, actor: User) -> None:
    workflow.require(application, actor, workflow.APPLICANT)


# The attachment files written and deleted by the current unit of work (see ``_service_with_files``).
_FILES_WRITTEN, _FILES_DROPPED = "residency.attachment_files_written", "residency.attachment_files_dropped"


def _service_with_files(fn):
    """``@service`` for services that write or delete attachment files, which no transaction
    covers: a file written is removed again if the unit of work fails, and the file of a
    deleted attachment is removed only once the unit has succeeded."""
    unit = service(fn)

    @wraps(fn)
    def run(*args, **kwargs):
        info = db.session.info
        if _FILES_WRITTEN in info:  # inside another such service: it keeps the files in step
            return unit(*args, **kwargs)
        info[_FILES_WRITTEN], info[_FILES_DROPPED] = [], []
        try:
            result = unit(*args, **kwargs)
        except BaseException:
            for name in info.pop(_FILES_WRITTEN):
                files.remove(name)
            info.pop(_FILES_DROPPED)
            raise
        info.pop(_FILES_WRITTEN)
        for name in info.pop(_FILES_DROPPED):
            files.remove(name)
        return result

    run.__residency_service__ = True
    return run


@service
def start(*, call: Call, startup: Organisation, actor: User, now: datetime | None = None) -> Application:
    """Open a draft for ``startup`` in ``call``, prefilled from the startup's profile."""
    now = now or utcnow()
    if startup.kind != "startup" or not actor.is_member_of(startup.id):
        raise NotFound(_l("Not found."))
    if call.status not in ("published", "closed"):
        raise NotFound(_l("Not found."))
    if not rules.accepting(call, startup.id, now):
        raise Conflict(_l("This call does not accept applications now; it closed %(when)s.",
                          when=_format(rules.effective_deadline(call, startup.id), call.timezone)))
    if startup.country != call.route.home_country:
        raise Conflict(_l("This call is for startups registered in %(country)s; %(startup)s is registered in %(home)s.",
                          country=_country(call.route.home_country), startup=startup.name, home=_country(startup.country)))
    existing = active_application(call.id, startup.id)
    if existing is not None:
        raise Conflict(_l("%(startup)s already has an application to this call. Continue that one instead.", startup=startup.name))
    form_of_call(call)
    application = Application(call=call, startup=startup, created_by_id=actor.id,
                              track=startup.track, trl=startup.trl, created_at=now, updated_at=now)
    db.session.add(application)
    try:
        db.session.flush()
    except IntegrityError:
        # Two members starting at the same moment: the unique index lets one through.
        raise Conflict(_l("%(startup)s already has an application to this call. Continue that one instead.",
                          startup=startup.name)) from None
    db.session.add(ApplicationEdit(application_id=application.id, user_id=actor.id, fields=["created"], created_at=now))
    db.session.flush()
    return application


def _clean(values: dict, call: Call, form: forms.Form) -> tuple[dict, dict]:
    """Parse the values given (others stay as they are); return (cleaned, field errors).

    Empty answers are allowed in a draft."""
    cleaned, errors = {}, {}
    for q in form.custom():
        if q.key not in values:
            continue
        value, problem = answer_kinds.clean(q, values.get(q.key))
        if problem is not None:
            errors[q.key] = [problem]
        cleaned[q.key] = value
    if "track" in values:
        track = values.get("track") or None
        if track is not None and track not in TRACKS:
            errors["track"] = [_l("Choose one of the tracks.")]
        cleaned["track"] = track
    for key, low, high, message in (
        ("trl", 1, 9, _l("The TRL is a whole number from 1 to 9.")),
        ("months", 1, 24, _l("A residency lasts from 1 to 24 months.")),
        ("desks", 0, limits.PLACEMENT_SPACE_MAX, _l("Enter a number of desks from 0 to 50.")),
        ("benches", 0, limits.PLACEMENT_SPACE_MAX, _l("Enter a number of lab benches from 0 to 50.")),
    ):
        if key not in values:
            continue
        raw = values.get(key)
        if raw in (None, ""):
            cleaned[key] = None
            continue
        try:
            number = int(raw)
        except (TypeError, ValueError):
            errors[key] = [message]
            continue
        if not low <= number <= high:
            errors[key] = [message]
        cleaned[key] = number
    if "desired_start" in values:
        start_value = values.get("desired_start")
        if isinstance(start_value, str) and start_value:
            try:
                start_value = limits.parse_day(start_value)
            except limits.OutOfBounds as bound:
                errors["desired_start"] = [bound.message]
                start_value = None
            except ValueError:
                errors["desired_start"] = [limits.date_format_message()]
                start_value = None
        start_value = start_value or None
        if start_value and not call.residency_starts_on <= start_value <= call.residency_ends_on:
            errors["desired_start"] = [_l("Choose a start between %(first)s and %(last)s, the call's residency window.",
                                          first=format_day(call.residency_starts_on), last=format_day(call.residency_ends_on))]
        cleaned["desired_start"] = start_value
    return cleaned, errors


@service
def save_draft(*, application: Application, actor: User, values: dict, loaded_edit_id: int | None,
               now: datetime | None = None) -> list[str]:
    """Save the answers; return the names of fields another member changed meanwhile
    (those keep the other member's text and are reported, never overwritten silently)."""
    now = now or utcnow()
    return _save(application, actor, values, loaded_edit_id, now)[0]


@dataclass
class Saved:
    """What saving the application form did.

    The answers given are saved whatever else happens; an answer out of range is not
    (it is the refusal's, marked, while the others are saved). What could not be
    done is in ``refusal``: its message and the fields to fix. ``change`` is the
    submission, if it went in."""

    conflicts: list[str] = field(default_factory=list)
    refusal: ServiceError | None = None
    change: StatusChange | None = None

    @property
    def submitted(self) -> bool:
        return self.change is not None

    def or_raise(self) -> StatusChange | None:
        """The submission, or the refusal raised: for callers with no typed work to show again (the API)."""
        if self.refusal is not None:
            raise self.refusal
        return self.change


@_service_with_files
def save_form(*, application: Application, actor: User, values: dict, loaded_edit_id: int | None,
              uploads: dict[str, tuple[str, bytes]] | None = None, remove_attachment_id: int | None = None,
              submit: bool = False, now: datetime | None = None) -> Saved:
    """One press of a button on the application form: save the answers, add the uploaded
    files (``uploads``: the file question's key → the file's name and bytes) or remove an
    attachment, then submit if asked.

    The answers are kept even when the file is refused, another member's edits stand in
    the way, or the application is not complete yet; each of those is the outcome's refusal.
    """
    now = now or utcnow()
    conflicts, invalid = _save(application, actor, values, loaded_edit_id, now, keep_valid=True)
    saved = Saved(conflicts=conflicts)
    if invalid:
        # The answers in range are saved; the ones out of range are kept in the form, marked, to correct.
        saved.refusal = Invalid(_l("Your other answers are saved; the marked ones are not yet. Correct them and save again."),
                                invalid)
        return saved
    try:
        with savepoint():
            for key, (filename, data) in (uploads or {}).items():
                _attach(application, actor, filename, data, now, key)
            if remove_attachment_id is not None:
                _detach(application, actor, remove_attachment_id, now)
    except ServiceError as refusal:
        saved.refusal = refusal
        return saved
    if saved.conflicts:
        labels = field_labels(form_of_application(application))
        fields = ", ".join(labels.get(k, k) for k in saved.conflicts)
        saved.refusal = Conflict(_l("Another member changed %(fields)s while you were editing. Their text is saved; yours is shown "
                                    "in the form below — merge the two and save again.", fields=fields),
                                 {k: [_l("Changed by another member meanwhile.")] for k in saved.conflicts})
        return saved
    if submit:
        _submit_saved(application, actor, now, saved)
    return saved


def _save(application, actor, values, loaded_edit_id, now, keep_valid: bool = False) -> tuple[list[str], dict]:
    """Save the answers given; return the fields another member changed meanwhile and, with
    ``keep_valid``, the answers refused (the others are saved). Without it a refused answer
    saves nothing (``Invalid``)."""
    _require_member(application, actor)
    if application.status not in EDITABLE:
        raise Conflict(_l("This application was submitted and can no longer be edited."))
    form = form_of_application(application)
    cleaned, errors = _clean(values, application.call, form)
    if errors and not keep_valid:
        raise Invalid(_l("Some answers need correcting; nothing was saved."), errors)
    cleaned = {k: v for k, v in cleaned.items() if k not in errors}
    current = values_of(application, form)
    changed = [k for k in form.keys if k in cleaned and _blank_as_none(cleaned[k]) != _blank_as_none(current.get(k))]
    # Fields someone else saved since this member loaded the form.
    others = set()
    if loaded_edit_id is not None:
        for fields in db.session.scalars(select(ApplicationEdit.fields).where(
                ApplicationEdit.application_id == application.id, ApplicationEdit.id > loaded_edit_id,
                ApplicationEdit.user_id != actor.id)):
            others.update(fields)
    conflicts = [k for k in changed if k in others]
    to_write = [k for k in changed if k not in others]
    if to_write:
        for key in to_write:
            if key in TYPED_FIELDS:
                setattr(application, key, cleaned[key])
        forms.write_answers(application.id, form, {k: cleaned[k] for k in to_write if k not in TYPED_FIELDS})
        application.updated_at = now
        db.session.add(ApplicationEdit(application_id=application.id, user_id=actor.id, fields=to_write, created_at=now))
        db.session.flush()
    return conflicts, errors


def _blank_as_none(value):
    return None if value in ("", [], None) else value


def _completeness_errors(application: Application) -> dict:
    """Each question the startup is asked that is required and unanswered, or breaks a limit a
    draft may break (a word limit), by key in the form's order."""
    form = form_of_application(application)
    values = values_of(application, form)
    errors = {}
    for q in form.asked(values):
        if q.kind == "file":
            given = [a for a in application.attachments if a.question_id == q.id]
            if q.required and not given:
                errors[q.key] = [_l("Attach your pitch deck (PDF or image).") if q.binding == ATTACHMENTS
                                 else _l("Please attach a file.")]
            continue
        value = values.get(q.key)
        if not answer_kinds.answered(value):
            if q.required or q.binding:
                errors[q.key] = [_l("Please fill this in.") if q.binding else _l("Please answer this question.")]
            continue
        problems = answer_kinds.problems_at_submission(q, value)
        if problems:
            errors[q.key] = problems
    if application.desks is not None and application.benches is not None and application.desks + application.benches == 0:
        errors["desks"] = [_l("Ask for at least one desk or one lab bench.")]
    return errors


def eligibility_errors(application: Application, now: datetime) -> list:
    call, startup = application.call, application.startup
    problems = []
    if not rules.accepting(call, startup.id, now):
        problems.append(_l("The call closed %(when)s; it no longer accepts applications.",
                           when=_format(rules.effective_deadline(call, startup.id), call.timezone)))
    if startup.country != call.route.home_country:
        problems.append(_l("This call is for startups registered in %(country)s; %(startup)s is registered in %(home)s.",
                           country=_country(call.route.home_country), startup=startup.name, home=_country(startup.country)))
    other = db.session.scalar(select(func.count()).select_from(Application).where(
        Application.call_id == call.id, Application.startup_id == startup.id, Application.id != application.id,
        Application.status != "withdrawn"))
    if other:
        problems.append(_l("%(startup)s already has an application to this call.", startup=startup.name))
    return problems


@service
def submit(*, application: Application, actor: User, values: dict, loaded_edit_id: int | None,
           now: datetime | None = None) -> Saved:
    """Save the answers, then submit (or resubmit after a change request) if complete and eligible.

    An incomplete or ineligible application stays a saved draft, and the outcome's
    refusal names every field to fix (``.or_raise()`` raises it).
    """
    now = now or utcnow()
    saved = Saved(conflicts=_save(application, actor, values, loaded_edit_id, now)[0])
    if saved.conflicts:
        saved.refusal = Conflict(_l("Another member changed %(fields)s while you were editing; check their text before submitting.",
                                    fields=", ".join(field_labels(form_of_application(application)).get(k, k)
                                                     for k in saved.conflicts)))
        return saved
    _submit_saved(application, actor, now, saved)
    return saved


def _submit_saved(application: Application, actor: User, now: datetime, saved: Saved) -> None:
    """Submit the saved answers if complete and eligible; else put the refusal in ``saved``."""
    errors = _completeness_errors(application)
    problems = eligibility_errors(application, now)
    if errors or problems:
        message = problems[0] if problems else _l("Your answers are saved, but the application is not complete yet.")
        saved.refusal = Invalid(message, errors | ({"__all__": problems} if problems else {}))
        return
    action = "resubmit" if application.status == "changes_requested" else "submit"
    try:
        with savepoint():
            saved.change = workflow.perform(application, action, actor, now=now)
            application.response_due_at = None
            db.session.flush()
    except ServiceError as refusal:
        saved.refusal = refusal


@service
def withdraw(*, application: Application, actor: User, reason: str, now: datetime | None = None) -> StatusChange:
    """The startup withdraws, with a reason, until a decision is made."""
    _require_member(application, actor)
    return workflow.perform(application, "withdraw", actor, reason=reason, now=now)


@service
def request_changes(*, application: Application, actor: User, message: str, respond_by: date,
                    now: datetime | None = None) -> StatusChange:
    """Cluster staff ask for changes; the applicant should answer by the end of ``respond_by`` in the call's zone."""
    now = now or utcnow()
    zone = ZoneInfo(application.call.timezone)
    due = datetime.combine(respond_by, time(23, 59), zone).astimezone(ZoneInfo("UTC"))
    if due <= now:
        raise Invalid(_l("Choose a response date in the future."), {"respond_by": [_l("Choose a date after today.")]})
    # Set before the transition, so the e-mail it queues says by when to answer.
    application.response_due_at = due
    change = workflow.perform(application, "request_changes", actor, reason=message, now=now,
                              data={"response_due_at": due})
    db.session.flush()
    return change


# ------------------------------------------------------------ attachments


@_service_with_files
def add_attachment(*, application: Application, actor: User, filename: str, data: bytes, question_key: str = ATTACHMENTS,
                   now: datetime | None = None) -> Attachment:
    """Attach a file to a file question of the form (the pitch deck question unless named): the
    kinds of file, size and number the question allows; the type is read from the content."""
    return _attach(application, actor, filename, data, now or utcnow(), question_key)


def _attach(application: Application, actor: User, filename: str, data: bytes, now: datetime,
            question_key: str = ATTACHMENTS) -> Attachment:
    _require_member(application, actor)
    if application.status not in EDITABLE:
        raise Conflict(_l("This application was submitted and can no longer be edited."))
    question = form_of_application(application).question(question_key)
    if question is None or question.kind != "file" or question.hidden:
        raise NotFound(_l("Not found."))
    field = question.key
    settings = question.settings or {}
    most = min(int(settings.get("max_files") or MAX_ATTACHMENTS), MAX_ATTACHMENTS)
    megabytes = min(int(settings.get("max_mb") or 10), MAX_ATTACHMENT_BYTES // 1048576)
    if sum(1 for a in application.attachments if a.question_id == question.id) >= most:
        raise Invalid(ngettext("This question takes at most %(num)d file; remove one first.",
                               "This question takes at most %(num)d files; remove one first.", most),
                      {field: [ngettext("At most %(num)d file.", "At most %(num)d files.", most)]})
    if not data:
        raise Invalid(_l("The file is empty."), {field: [_l("Choose a file to attach.")]})
    if len(data) > megabytes * 1048576:
        raise Invalid(_l("%(name)s is %(size)s MB; files can be at most %(max)d MB.", name=filename,
                         size=format_decimal_mb(len(data)), max=megabytes),
                      {field: [_l("Files can be at most %(max)d MB.", max=megabytes)]})
    content_type = files.sniff(data[:16])
    allowed = {t for kind in settings.get("types") or ("pdf", "image") for t in answer_kinds.FILE_TYPES.get(kind, ())}
    if content_type is None or content_type not in allowed:
        if allowed == set(answer_kinds.FILE_TYPES["pdf"]):
            raise Invalid(_l("%(name)s is not a PDF. Its content was checked, not its name.", name=filename),
                          {field: [_l("Only PDF files can be attached here.")]})
        if allowed == set(answer_kinds.FILE_TYPES["image"]):
            raise Invalid(_l("%(name)s is not an image (PNG, JPEG, GIF, WebP). Its content was checked, not its name.",
                             name=filename), {field: [_l("Only images can be attached here.")]})
        raise Invalid(_l("%(name)s is not a PDF or an image (PNG, JPEG, GIF, WebP). Its content was checked, not its name.",
                         name=filename), {field: [_l("Only PDF files and images can be attached.")]})
    stored_name, digest = files.store(data)
    db.session.info[_FILES_WRITTEN].append(stored_name)
    # The name follows the content, not the other way round: a PDF called .html is served as .pdf.
    attachment = Attachment(application=application, question_id=question.id, uploaded_by_id=actor.id,
                            filename=files.named_for(_safe_name(filename), content_type),
                            stored_name=stored_name, content_type=content_type, size_bytes=len(data), sha256=digest,
                            created_at=now)
    db.session.add(attachment)
    db.session.add(ApplicationEdit(application_id=application.id, user_id=actor.id, fields=[question.key], created_at=now))
    db.session.flush()
    return attachment


@_service_with_files
def remove_attachment(*, application: Application, actor: User, attachment_id: int, now: datetime | None = None) -> None:
    _detach(application, actor, attachment_id, now or utcnow())


def _detach(application: Application, actor: User, attachment_id: int, now: datetime) -> None:
    _require_member(application, actor)
    if application.status not in EDITABLE:
        raise Conflict(_l("This application was submitted and can no longer be edited."))
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.application_id != application.id:
        raise NotFound(_l("Not found."))
    files.drop(attachment.stored_name)  # its bytes in the database go in this unit of work
    db.session.info[_FILES_DROPPED].append(attachment.stored_name)
    question = form_of_application(application).question_by_id(attachment.question_id)
    application.attachments.remove(attachment)  # delete-orphan: the row goes, and the list is right for a submission
    db.session.add(ApplicationEdit(application_id=application.id, user_id=actor.id,
                                   fields=[question.key if question is not None else ATTACHMENTS], created_at=now))
    db.session.flush()


def stored_files() -> list[tuple[str, str]]:
    """(stored name, sha256) of every attachment, oldest first (for copying files between storages)."""
    return [tuple(row) for row in db.session.execute(select(Attachment.stored_name, Attachment.sha256).order_by(Attachment.id))]


def attachment_for(*, user: User, application_id: int, attachment_id: int) -> Attachment:
    """The attachment, if ``user`` may see the application (404 otherwise)."""
    application = application_for(user, application_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.application_id != application.id:
        raise NotFound(_l("Not found."))
    return attachment


# ------------------------------------------------------------- extensions


@service
def grant_extension(*, call: Call, startup: Organisation, closes_at: datetime, reason: str, actor: User,
                    now: datetime | None = None) -> DeadlineExtension:
    """A programme administrator gives one startup a later closing time for one call."""
    now = now or utcnow()
    if not actor.has_role(workflow.ADMIN):
        raise Forbidden(_l("Only a programme administrator may extend a deadline."))
    if startup.kind != "startup":
        raise Invalid(_l("Extensions are for startups."), {"startup_id": [_l("Choose a startup.")]})
    if not (reason or "").strip():
        raise Invalid(_l("Give a reason for the extension."), {"reason": [_l("A reason is required.")]})
    if closes_at <= call.closes_at:
        raise Invalid(_l("The new deadline must be later than the call's own (%(when)s).", when=_format(call.closes_at, call.timezone)),
                      {"closes_at": [_l("Choose a later time.")]})
    extension = DeadlineExtension(call=call, startup=startup, closes_at=closes_at, reason=reason.strip(),
                                  granted_by_id=actor.id, created_at=now)
    db.session.add(extension)
    db.session.flush()
    current_app.logger.info("deadline extended", extra={"call_id": call.id, "startup_id": startup.id, "actor_id": actor.id})
    return extension


@service
def extend_deadline(*, call: Call, startup_id: int | None, local_closes_at: datetime, reason: str, actor: User,
                    now: datetime | None = None) -> DeadlineExtension:
    """The administrator's form: ``grant_extension`` for a startup chosen by id, the time typed in the call's zone."""
    startup = db.session.get(Organisation, startup_id) if startup_id else None
    if startup is None or startup.kind != "startup":
        raise Invalid(_l("Choose a startup."), {"startup_id": [_l("Choose a startup.")]})
    try:
        closes_at = local_to_utc(local_closes_at, call.timezone)
    except ClockChange as change:  # the message says what the clocks do that night, the zone named
        raise Invalid(change.message, {"closes_at": [change.message]}) from None
    return grant_extension(call=call, startup=startup, closes_at=closes_at, reason=reason, actor=actor, now=now)


def extensions_of(call: Call) -> list[DeadlineExtension]:
    """Every extension granted in this call, newest first (startup and granter loaded with it)."""
    return list(db.session.scalars(
        select(DeadlineExtension).where(DeadlineExtension.call_id == call.id)
        .options(joinedload(DeadlineExtension.startup), joinedload(DeadlineExtension.granted_by))
        .order_by(DeadlineExtension.id.desc())).unique())


# ---------------------------------------------------------------- helpers


def _format(when: datetime, zone: str) -> str:
    return format_in_zone(when, zone)


def _country(code: str) -> str:
    return country_name(code)


def format_decimal_mb(size: int) -> str:
    return format_number(round(size / 1048576, 1), "0.0")


def _safe_name(filename: str) -> str:
    name = (filename or "attachment").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "".join(ch for ch in name if ch.isprintable())[:200] or "attachment"


# ------------------------------------------------------------- dashboard


# The latest events of each application the dashboard lists; the application's own page has all.
TIMELINE_SHOWN = 5


@dataclass
class Overview:
    application: Application
    label: str
    timeline: list  # the latest ``TIMELINE_SHOWN`` events the startup may see, oldest first
    next_step: object | None
    due: datetime | None
    deadline: datetime
    events: int = 0  # how many events the startup may see in all


# Applications of each startup shown at a time, newest first; the pager shows the others.
APPLICATIONS_SHOWN = 10


def overview(*, startup_ids: list[int], pages: Mapping[int, int] | None = None, per_page: int = APPLICATIONS_SHOWN,
             now: datetime | None = None) -> dict[int, pagination.Page]:
    """A page of each startup's applications (``pages``: startup id -> page number; past the end,
    the last page), newest first, each with its applicant-facing label, the latest events of the
    timeline the applicant may see, and the next thing to do with its deadline.

    Two queries whatever the number of startups and applications: the pages' rows (numbered and
    counted per startup in one statement, each with its latest deadline extension), and at most
    ``TIMELINE_SHOWN`` events of each row however long its history; the counts and the last pages
    again only when a page asked for lies past the end."""
    now = now or utcnow()
    pages = pages or {}
    if not startup_ids:
        return {}
    counting, paging, timeline = _overview_statements(len(startup_ids))

    def page_rows(shown: dict[int, int]) -> list:
        values = {"startup_ids": startup_ids}
        for index, i in enumerate(startup_ids):
            values.update({f"startup_{index}": i, f"after_{index}": (shown[i] - 1) * per_page,
                           f"upto_{index}": shown[i] * per_page})
        return db.session.execute(paging, values).all()

    # The pages asked for, each row with its startup's total and its latest deadline extension; only when a
    # startup's page comes back empty past its first page (rows went away since the link was made) are the
    # totals counted, and the last pages read instead.
    asked = {i: max(1, pages.get(i, 1)) for i in startup_ids}
    found = page_rows(asked)
    totals = dict.fromkeys(startup_ids, 0)
    totals.update({a.startup_id: total for a, total, _extension in found})
    if any(asked[i] > 1 and not totals[i] for i in startup_ids):
        totals.update(db.session.execute(counting, {"startup_ids": startup_ids}).all())
        found = page_rows({i: pagination.shown_page(asked[i], totals[i], per_page) for i in startup_ids})
    rows = [a for a, _total, _extension in found]
    extensions = {(a.call_id, a.startup_id): extension for a, _total, extension in found if extension is not None}
    ids = [a.id for a in rows]
    changes: dict[int, list] = {i: [] for i in ids}
    counts: dict[int, int] = {}
    if ids:
        for change, events in db.session.execute(timeline, {"application_ids": ids}):
            changes[change.record_id].append(change)
            counts[change.record_id] = events
    lines: dict[int, list[Overview]] = {i: [] for i in startup_ids}
    for a in rows:
        deadline = rules.deadline_with(a.call, extensions.get((a.call_id, a.startup_id)))
        step, due = _next_step(a, deadline, now)
        lines[a.startup_id].append(Overview(a, workflow.label("application", rules.applicant_status(a), for_applicant=True),
                                            changes[a.id], step, due, deadline, counts.get(a.id, 0)))
    return {i: pagination.numbered(lines[i], pages.get(i, 1), totals[i], per_page, param=applications_page_param(i))
            for i in startup_ids}


@cache
def _overview_statements(startups: int):
    """The statements of ``overview`` for that many startups, built once with the startups, the pages'
    bounds and the applications shown as parameters (building them anew cost about 1 ms a page)."""
    startup_ids = bindparam("startup_ids", expanding=True)
    counting = (select(Application.startup_id, func.count()).where(Application.startup_id.in_(startup_ids))
                .group_by(Application.startup_id))
    numbered = (select(Application.id.label("id"), Application.startup_id.label("startup_id"),
                       func.row_number().over(partition_by=Application.startup_id,
                                              order_by=(Application.created_at.desc(), Application.id.desc())).label("n"),
                       func.count().over(partition_by=Application.startup_id).label("total"))
                .where(Application.startup_id.in_(startup_ids)).subquery())
    on_page = or_(*(and_(numbered.c.startup_id == bindparam(f"startup_{i}"), numbered.c.n > bindparam(f"after_{i}"),
                         numbered.c.n <= bindparam(f"upto_{i}")) for i in range(startups)))
    paging = (select(Application, numbered.c.total, rules.latest_extension_of(Application.call_id, Application.startup_id))
              .join(numbered, numbered.c.id == Application.id).where(on_page)
              .options(joinedload(Application.call))
              .order_by(Application.created_at.desc(), Application.id.desc()))
    seen = (select(StatusChange.id,
                   func.row_number().over(partition_by=StatusChange.record_id,
                                          order_by=StatusChange.id.desc()).label("latest"),
                   func.count().over(partition_by=StatusChange.record_id).label("events"))
            .join(Application, Application.id == StatusChange.record_id)
            .join(Call, Call.id == Application.call_id)
            .where(StatusChange.workflow == "application",
                   StatusChange.record_id.in_(bindparam("application_ids", expanding=True)),
                   rules.applicant_sees_change_clause())
            .subquery())
    timeline = (select(StatusChange, seen.c.events).join(seen, seen.c.id == StatusChange.id)
                .where(seen.c.latest <= TIMELINE_SHOWN).order_by(StatusChange.id))
    return counting, paging, timeline


def applications_page_param(startup_id: int) -> str:
    """The query argument of the page of one startup's applications (a member may have several startups)."""
    return f"applications_{startup_id}_page"


def _next_step(a: Application, deadline: datetime, now: datetime):
    status = rules.applicant_status(a)
    if status == "draft":
        if now >= deadline:
            return _l("The call has closed; this draft can no longer be submitted."), None
        return _l("Complete and submit the application"), deadline
    if status == "changes_requested":
        return _l("Answer the change request and resubmit"), a.response_due_at
    if status in ("submitted", "under_review"):
        return _l("Wait for the cluster's nomination decision"), a.call.nomination_deadline
    if status == "nominated":
        return _l("Wait for the hub's placement offer"), a.call.decision_deadline
    return None, None


@service
def start_review(*, application: Application, actor: User, now: datetime | None = None) -> StatusChange:
    """Cluster staff take a submitted application into review."""
    return workflow.perform(application, "start_review", actor, now=now)
