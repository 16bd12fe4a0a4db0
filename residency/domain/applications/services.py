"""Applications to residency calls: drafts that never lose work, submission,
change requests, withdrawal, attachments and deadline extensions.

Services take plain values and an actor, check permission on the object, and
commit once. Statuses change only through ``workflow.perform``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from residency.core import attachments as files
from residency.core import workflow
from residency.core.errors import Conflict, Forbidden, Invalid, NotFound
from residency.core.extensions import db
from residency.domain.accounts.models import TRACKS, Organisation, User
from residency.domain.applications.models import Application, ApplicationEdit, Attachment, DeadlineExtension
from residency.domain.programme.models import Call
from residency.core.models import StatusChange
from residency.core.db import utcnow

EDITABLE = ("draft", "changes_requested")
DECIDED = ("nominated", "not_nominated", "withdrawn")
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Question:
    key: str
    section: str
    label: object
    hint: object = None
    max_length: int = 4000


# Free-text questions by section; typed answers (track, TRL, start, months,
# desks, benches) are columns of the application.
QUESTIONS = [
    Question("summary", "company", _l("What does your company do?"), _l("Two or three sentences a reviewer outside your field understands."), 1500),
    Question("team", "team", _l("Who is in the team?"), _l("Founders and key people, their roles and backgrounds.")),
    Question("technology", "technology", _l("Describe your technology and its stage"), _l("What it is, what has been shown so far, and what comes next.")),
    Question("expertise", "residency", _l("What expertise do you want from the hub?"), _l("For example regulatory, translational or clinical expertise.")),
    Question("lab_needs", "residency", _l("What do you need in the lab?"), _l("Equipment, biosafety level, chemicals; write 'none' if you need no lab.")),
    Question("funding_status", "funding", _l("How is the company funded today?"), _l("Capital raised, grants and revenue so far.")),
    Question("funding_plans", "funding", _l("What are your funding plans during the residency?"), _l("For example an application to your home country's funder.")),
]
QUESTION_KEYS = [q.key for q in QUESTIONS]
TYPED_FIELDS = ["track", "trl", "desired_start", "months", "desks", "benches"]
ALL_FIELDS = QUESTION_KEYS + TYPED_FIELDS

SECTIONS = [
    ("company", _l("Company")),
    ("team", _l("Team")),
    ("technology", _l("Technology and stage")),
    ("residency", _l("The residency you want")),
    ("funding", _l("Funding")),
    ("attachments", _l("Attachments")),
]

FIELD_LABELS = {q.key: q.label for q in QUESTIONS} | {
    "track": _l("Track"),
    "trl": _l("Technology readiness level (TRL)"),
    "desired_start": _l("Desired start"),
    "months": _l("Duration in months"),
    "desks": _l("Office desks"),
    "benches": _l("Lab benches"),
    "attachments": _l("Attachments"),
}


def field_label(key: str) -> str:
    return str(FIELD_LABELS.get(key, key))


# ----------------------------------------------------------------- reading


def effective_deadline(call: Call, startup_id: int) -> datetime:
    """The call's closing time, or this startup's extension if it has one."""
    extension = db.session.scalar(
        select(DeadlineExtension.closes_at)
        .where(DeadlineExtension.call_id == call.id, DeadlineExtension.startup_id == startup_id)
        .order_by(DeadlineExtension.id.desc())
        .limit(1)
    )
    return max(call.closes_at, extension) if extension else call.closes_at


def accepting(call: Call, startup_id: int, now: datetime) -> bool:
    """Whether the call accepts this startup's application now (in absolute time)."""
    if call.status not in ("published", "closed"):
        return False
    return call.opens_at <= now < effective_deadline(call, startup_id)


def application_for(user: User, application_id: int) -> Application:
    """The application if ``user`` may see it (a member, the nominating cluster after submission, an administrator)."""
    application = db.session.get(Application, application_id)
    if application is None or not workflow.roles_on(application, user):
        raise NotFound(_l("Not found."))
    return application


def edits_of(application: Application) -> list[ApplicationEdit]:
    return list(db.session.scalars(
        select(ApplicationEdit).where(ApplicationEdit.application_id == application.id).order_by(ApplicationEdit.id)
    ))


def latest_edit_id(application: Application) -> int:
    return db.session.scalar(select(func.max(ApplicationEdit.id)).where(ApplicationEdit.application_id == application.id)) or 0


def values_of(application: Application) -> dict:
    """The application's current answers as plain values, keyed like the form."""
    values = {key: (application.answers or {}).get(key, "") for key in QUESTION_KEYS}
    values.update({key: getattr(application, key) for key in TYPED_FIELDS})
    return values


# ----------------------------------------------------------------- drafts


def _require_member(application: Application, actor: User) -> None:
    held = workflow.roles_on(application, actor)
    if not held:
        raise NotFound(_l("Not found."))
    if workflow.APPLICANT not in held:
        raise Forbidden(_l("Only members of the startup can change its application."))


def start(*, call: Call, startup: Organisation, actor: User, now: datetime | None = None) -> Application:
    """Open a draft for ``startup`` in ``call``, prefilled from the startup's profile."""
    now = now or utcnow()
    if startup.kind != "startup" or not actor.is_member_of(startup.id):
        raise NotFound(_l("Not found."))
    if call.status not in ("published", "closed"):
        raise NotFound(_l("Not found."))
    if not accepting(call, startup.id, now):
        raise Conflict(_l("This call does not accept applications now; it closed %(when)s.",
                          when=_format(effective_deadline(call, startup.id), call.timezone)))
    if startup.country != call.route.home_country:
        raise Conflict(_l("This call is for startups registered in %(country)s; %(startup)s is registered in %(home)s.",
                          country=_country(call.route.home_country), startup=startup.name, home=_country(startup.country)))
    existing = _active_application(call.id, startup.id)
    if existing is not None:
        raise Conflict(_l("%(startup)s already has an application to this call. Continue that one instead.", startup=startup.name))
    application = Application(call=call, startup=startup, created_by_id=actor.id, answers={},
                              track=startup.track, trl=startup.trl, created_at=now, updated_at=now)
    db.session.add(application)
    try:
        db.session.flush()
    except IntegrityError:
        # Two members starting at the same moment: the unique index lets one through.
        db.session.rollback()
        raise Conflict(_l("%(startup)s already has an application to this call. Continue that one instead.", startup=startup.name))
    db.session.add(ApplicationEdit(application_id=application.id, user_id=actor.id, fields=["created"], created_at=now))
    db.session.commit()
    return application


def _active_application(call_id: int, startup_id: int) -> Application | None:
    return db.session.scalar(select(Application).where(
        Application.call_id == call_id, Application.startup_id == startup_id, Application.status != "withdrawn"))


def _clean(values: dict, call: Call) -> tuple[dict, dict]:
    """Parse the values given (others stay as they are); return (cleaned, field errors).

    Empty answers are allowed in a draft."""
    cleaned, errors = {}, {}
    for q in QUESTIONS:
        if q.key not in values:
            continue
        text = (values.get(q.key) or "").strip()
        if len(text) > q.max_length:
            errors[q.key] = [_l("Please shorten this to %(max)d characters (now %(n)d).", max=q.max_length, n=len(text))]
        cleaned[q.key] = text
    if "track" in values:
        track = values.get("track") or None
        if track is not None and track not in TRACKS:
            errors["track"] = [_l("Choose one of the tracks.")]
        cleaned["track"] = track
    for key, low, high, message in (
        ("trl", 1, 9, _l("The TRL is a whole number from 1 to 9.")),
        ("months", 1, 24, _l("A residency lasts from 1 to 24 months.")),
        ("desks", 0, 50, _l("Enter a number of desks from 0 to 50.")),
        ("benches", 0, 50, _l("Enter a number of lab benches from 0 to 50.")),
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
                start_value = date.fromisoformat(start_value)
            except ValueError:
                errors["desired_start"] = [_l("Enter a date like 2027-03-01.")]
                start_value = None
        start_value = start_value or None
        if start_value and not call.residency_starts_on <= start_value <= call.residency_ends_on:
            errors["desired_start"] = [_l("Choose a start between %(first)s and %(last)s, the call's residency window.",
                                          first=call.residency_starts_on.isoformat(), last=call.residency_ends_on.isoformat())]
        cleaned["desired_start"] = start_value
    return cleaned, errors


def save_draft(*, application: Application, actor: User, values: dict, loaded_edit_id: int | None,
               now: datetime | None = None) -> list[str]:
    """Save the answers; return the names of fields another member changed meanwhile
    (those keep the other member's text and are reported, never overwritten silently)."""
    now = now or utcnow()
    conflicts = _save(application, actor, values, loaded_edit_id, now)
    db.session.commit()
    return conflicts


def _save(application, actor, values, loaded_edit_id, now) -> list[str]:
    _require_member(application, actor)
    if application.status not in EDITABLE:
        raise Conflict(_l("This application was submitted and can no longer be edited."))
    cleaned, errors = _clean(values, application.call)
    if errors:
        raise Invalid(_l("Some answers need correcting; nothing was saved."), errors)
    current = values_of(application)
    changed = [k for k in ALL_FIELDS if k in cleaned and (cleaned[k] or None) != (current[k] or None)]
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
        answers = dict(application.answers or {})
        for key in to_write:
            if key in QUESTION_KEYS:
                answers[key] = cleaned[key]
            else:
                setattr(application, key, cleaned[key])
        application.answers = answers
        application.updated_at = now
        db.session.add(ApplicationEdit(application_id=application.id, user_id=actor.id, fields=to_write, created_at=now))
        db.session.flush()
    return conflicts


def _completeness_errors(application: Application) -> dict:
    errors = {}
    for q in QUESTIONS:
        if not (application.answers or {}).get(q.key):
            errors[q.key] = [_l("Please answer this question.")]
    for key in TYPED_FIELDS:
        if getattr(application, key) is None:
            errors[key] = [_l("Please fill this in.")]
    if application.desks is not None and application.benches is not None and application.desks + application.benches == 0:
        errors["desks"] = [_l("Ask for at least one desk or one lab bench.")]
    if not application.attachments:
        errors["attachments"] = [_l("Attach your pitch deck (PDF or image).")]
    return errors


def eligibility_errors(application: Application, now: datetime) -> list:
    call, startup = application.call, application.startup
    problems = []
    if not accepting(call, startup.id, now):
        problems.append(_l("The call closed %(when)s; it no longer accepts applications.",
                           when=_format(effective_deadline(call, startup.id), call.timezone)))
    if startup.country != call.route.home_country:
        problems.append(_l("This call is for startups registered in %(country)s; %(startup)s is registered in %(home)s.",
                           country=_country(call.route.home_country), startup=startup.name, home=_country(startup.country)))
    other = db.session.scalar(select(func.count()).select_from(Application).where(
        Application.call_id == call.id, Application.startup_id == startup.id, Application.id != application.id,
        Application.status != "withdrawn"))
    if other:
        problems.append(_l("%(startup)s already has an application to this call.", startup=startup.name))
    return problems


def submit(*, application: Application, actor: User, values: dict, loaded_edit_id: int | None,
           now: datetime | None = None) -> StatusChange:
    """Save the answers, then submit (or resubmit after a change request) if complete and eligible.

    An incomplete or ineligible application stays a saved draft and the refusal
    names every field to fix.
    """
    now = now or utcnow()
    conflicts = _save(application, actor, values, loaded_edit_id, now)
    db.session.commit()
    if conflicts:
        raise Conflict(_l("Another member changed %(fields)s while you were editing; check their text before submitting.",
                          fields=", ".join(field_label(k) for k in conflicts)))
    errors = _completeness_errors(application)
    problems = eligibility_errors(application, now)
    if errors or problems:
        message = problems[0] if problems else _l("Your answers are saved, but the application is not complete yet.")
        raise Invalid(message, errors | ({"__all__": problems} if problems else {}))
    action = "resubmit" if application.status == "changes_requested" else "submit"
    change = workflow.perform(application, action, actor, now=now)
    application.response_due_at = None
    db.session.commit()
    return change


def withdraw(*, application: Application, actor: User, reason: str, now: datetime | None = None) -> StatusChange:
    """The startup withdraws, with a reason, until a decision is made."""
    _require_member(application, actor)
    change = workflow.perform(application, "withdraw", actor, reason=reason, now=now)
    db.session.commit()
    return change


def request_changes(*, application: Application, actor: User, message: str, respond_by: date,
                    now: datetime | None = None) -> StatusChange:
    """Cluster staff ask for changes; the applicant should answer by the end of ``respond_by`` in the call's zone."""
    now = now or utcnow()
    zone = ZoneInfo(application.call.timezone)
    due = datetime.combine(respond_by, time(23, 59), zone).astimezone(ZoneInfo("UTC"))
    if due <= now:
        raise Invalid(_l("Choose a response date in the future."), {"respond_by": [_l("Choose a date after today.")]})
    change = workflow.perform(application, "request_changes", actor, reason=message, now=now,
                              data={"response_due_at": due})
    application.response_due_at = due
    db.session.commit()
    return change


# ------------------------------------------------------------ attachments


def add_attachment(*, application: Application, actor: User, filename: str, data: bytes,
                   now: datetime | None = None) -> Attachment:
    """Attach a PDF or image of at most 10 MB (5 in all); the type is read from the content."""
    now = now or utcnow()
    _require_member(application, actor)
    if application.status not in EDITABLE:
        raise Conflict(_l("This application was submitted and can no longer be edited."))
    field = "attachments"
    if len(application.attachments) >= MAX_ATTACHMENTS:
        raise Invalid(_l("An application can have at most %(n)d attachments; remove one first.", n=MAX_ATTACHMENTS),
                      {field: [_l("At most %(n)d attachments.", n=MAX_ATTACHMENTS)]})
    if not data:
        raise Invalid(_l("The file is empty."), {field: [_l("Choose a file to attach.")]})
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise Invalid(_l("%(name)s is %(size)s MB; files can be at most 10 MB.", name=filename, size=f"{len(data) / 1048576:.1f}"),
                      {field: [_l("Files can be at most 10 MB.")]})
    content_type = files.sniff(data[:16])
    if content_type is None:
        raise Invalid(_l("%(name)s is not a PDF or an image (PNG, JPEG, GIF, WebP). Its content was checked, not its name.",
                         name=filename), {field: [_l("Only PDF files and images can be attached.")]})
    stored_name, digest = files.store(data)
    attachment = Attachment(application=application, uploaded_by_id=actor.id, filename=_safe_name(filename),
                            stored_name=stored_name, content_type=content_type, size_bytes=len(data), sha256=digest,
                            created_at=now)
    db.session.add(attachment)
    db.session.add(ApplicationEdit(application_id=application.id, user_id=actor.id, fields=["attachments"], created_at=now))
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        files.remove(stored_name)
        raise
    return attachment


def remove_attachment(*, application: Application, actor: User, attachment_id: int, now: datetime | None = None) -> None:
    now = now or utcnow()
    _require_member(application, actor)
    if application.status not in EDITABLE:
        raise Conflict(_l("This application was submitted and can no longer be edited."))
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.application_id != application.id:
        raise NotFound(_l("Not found."))
    stored_name = attachment.stored_name
    db.session.delete(attachment)
    db.session.add(ApplicationEdit(application_id=application.id, user_id=actor.id, fields=["attachments"], created_at=now))
    db.session.commit()
    files.remove(stored_name)


def attachment_for(*, user: User, application_id: int, attachment_id: int) -> Attachment:
    """The attachment, if ``user`` may see the application (404 otherwise)."""
    application = application_for(user, application_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.application_id != application.id:
        raise NotFound(_l("Not found."))
    return attachment


# ------------------------------------------------------------- extensions


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
    db.session.commit()
    current_app.logger.info("deadline extended", extra={"call_id": call.id, "startup_id": startup.id, "actor_id": actor.id})
    return extension


# ---------------------------------------------------------------- helpers


def _format(when: datetime, zone: str) -> str:
    from residency.core.i18n import format_in_zone

    return format_in_zone(when, zone)


def _country(code: str) -> str:
    from residency.core.i18n import country_name

    return country_name(code)


def _safe_name(filename: str) -> str:
    name = (filename or "attachment").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "".join(ch for ch in name if ch.isprintable())[:200] or "attachment"


# ------------------------------------------------------------- dashboard


@dataclass
class Overview:
    application: Application
    label: str
    timeline: list
    next_step: object | None
    due: datetime | None
    deadline: datetime


def overview(*, startup_ids: list[int], now: datetime | None = None) -> list[Overview]:
    """Every application of these startups with its applicant-facing label, the
    timeline the applicant may see, and the next thing to do with its deadline.

    Three queries whatever the number of applications.
    """
    now = now or utcnow()
    if not startup_ids:
        return []
    rows = list(db.session.scalars(
        select(Application).where(Application.startup_id.in_(startup_ids)).order_by(Application.created_at.desc(), Application.id.desc())
    ).unique())
    ids = [a.id for a in rows]
    changes: dict[int, list] = {i: [] for i in ids}
    if ids:
        for change in db.session.scalars(select(StatusChange).where(
                StatusChange.workflow == "application", StatusChange.record_id.in_(ids),
                StatusChange.visible_to_applicant.is_(True)).order_by(StatusChange.id)):
            changes[change.record_id].append(change)
    extensions: dict[tuple, datetime] = {}
    for call_id, startup_id, closes_at in db.session.execute(
            select(DeadlineExtension.call_id, DeadlineExtension.startup_id, DeadlineExtension.closes_at)
            .where(DeadlineExtension.startup_id.in_(startup_ids)).order_by(DeadlineExtension.id)):
        extensions[(call_id, startup_id)] = closes_at  # newest wins
    result = []
    for a in rows:
        deadline = max(a.call.closes_at, extensions.get((a.call_id, a.startup_id), a.call.closes_at))
        step, due = _next_step(a, deadline, now)
        result.append(Overview(a, workflow.APPLICATION.label(applicant_status(a), for_applicant=True),
                               applicant_timeline(a, changes[a.id]), step, due, deadline))
    return result


def applicant_status(application: Application) -> str:
    """The status the startup sees: a decision stays "under review" until the cluster releases the call's decisions."""
    if application.status in ("nominated", "not_nominated") and application.call.decisions_released_at is None:
        return "under_review"
    return application.status


def applicant_timeline(application: Application, changes: list[StatusChange]) -> list[StatusChange]:
    if application.call.decisions_released_at is not None:
        return changes
    return [c for c in changes if c.action not in ("nominate", "decline")]


def _next_step(a: Application, deadline: datetime, now: datetime):
    status = applicant_status(a)
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


def start_review(*, application: Application, actor: User, now: datetime | None = None) -> StatusChange:
    """Cluster staff take a submitted application into review."""
    change = workflow.perform(application, "start_review", actor, now=now)
    db.session.commit()
    return change
