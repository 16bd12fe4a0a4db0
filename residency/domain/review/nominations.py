"""The cluster's decisions: nominate within the call's seats, decline, and
release the decisions so that every applicant of a call learns at once."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from residency.core import workflow
from residency.domain.accounts.queries import members_of
from residency.core.errors import Conflict, Invalid, ServiceError
from residency.core.extensions import db
from residency.core.uow import savepoint, service
from residency.domain.applications import rules
from residency.domain.applications.models import Application
from residency.domain.programme.models import Call
from residency.domain.review.models import Nomination
from residency.core.models import StatusChange
from residency.domain.accounts.models import User
from residency.core.db import utcnow
from residency.core.outbox import enqueue, render
from residency.core.outbox_models import OutboxMessage
from residency.domain.review.queries import cluster_call
from residency.domain.review.feedback import decision_email_feedback

DECIDED = rules.DECIDED
# Decisions the startup learns only when the cluster releases the call's decisions.
HELD_ACTIONS = rules.DECISION_ACTIONS


def nomination_of(application_id: int) -> Nomination | None:
    return db.session.scalar(select(Nomination).where(Nomination.application_id == application_id))


def seats_taken(call: Call) -> int:
    return db.session.scalar(select(func.count()).select_from(Application).where(
        Application.call_id == call.id, Application.status == "nominated"))


@service
def nominate(*, application: Application, actor: User, rationale: str, rank: int | None = None,
             now: datetime | None = None) -> Nomination:
    """Nominate within the call's seats and before its nomination deadline; the pending
    placement at the route's host hub is created in the same transaction."""
    now = now or utcnow()
    if not (rationale or "").strip():
        raise Invalid(_l("Give the rationale for the nomination."), {"rationale": [_l("A rationale is required.")]})
    if rank is not None and rank < 1:
        raise Invalid(_l("The rank is a whole number from 1."), {"rank": [_l("Use 1 for the strongest candidate.")]})
    workflow.perform(application, "nominate", actor, now=now)
    if rank is None:
        rank = (db.session.scalar(select(func.max(Nomination.rank)).where(Nomination.call_id == application.call_id)) or 0) + 1
    # A nomination an administrator reverted keeps its row; nominating again renews it.
    nomination = nomination_of(application.id) or Nomination(application_id=application.id, call_id=application.call_id)
    nomination.rationale, nomination.rank, nomination.nominated_by_id, nomination.created_at = (
        rationale.strip(), rank, actor.id, now)
    # The pending placement at the host hub is opened by the placements domain's workflow hook.
    db.session.add(nomination)
    db.session.flush()
    _send_if_released(application)
    return nomination


@service
def decline(*, application: Application, actor: User, reason: str, message: str, now: datetime | None = None) -> StatusChange:
    """Decline with an internal reason (staff only) and a message for the startup."""
    if not (message or "").strip():
        raise Invalid(_l("Write the message the startup will receive."), {"message": [_l("A message for the startup is required.")]})
    change = workflow.perform(application, "decline", actor, reason=reason, note=message, now=now)
    _send_if_released(application)
    return change


@service
def unnominate(*, application: Application, actor: User, reason: str, now: datetime | None = None) -> StatusChange:
    """Take a nomination back while the hub has not acted on it: the application is under review
    again, its seat is free, and the pending placement at the hub is cancelled with it."""
    if not (reason or "").strip():
        raise Invalid(_l("Say why the nomination is taken back."), {"reason": [_l("A reason is required.")]})
    change = workflow.perform(application, "unnominate", actor, reason=reason, now=now)
    nomination = nomination_of(application.id)
    if nomination is not None:
        db.session.delete(nomination)
        db.session.flush()
    return change


@dataclass
class ReleaseItem:
    application: Application
    decision: str  # nominated / not_nominated
    recipients: list[User]
    note: str | None
    rationale: str | None
    rank: int | None = None
    feedback: list[str] = field(default_factory=list)  # the reviewers' comments for the startup, if the call sends them


def release_preview(*, call_id: int, actor: User) -> tuple[Call, list[ReleaseItem], int]:
    """What releasing would send: one e-mail per member of each decided startup,
    and how many applications are still undecided."""
    call = cluster_call(call_id, actor)
    decided = list(db.session.scalars(select(Application).where(
        Application.call_id == call.id, Application.status.in_(DECIDED))
        .options(joinedload(Application.startup)).order_by(Application.status, Application.id)))
    items = _items(call, decided)
    undecided = db.session.scalar(select(func.count()).select_from(Application).where(
        Application.call_id == call.id, Application.status.in_(("submitted", "under_review", "changes_requested"))))
    return call, items, undecided


def _items(call: Call, decided: list[Application]) -> list[ReleaseItem]:
    """The decision e-mails of these applications: a fixed number of queries for any number."""
    ids = [a.id for a in decided]
    notes, nominated = {}, {}
    if ids:
        for change in db.session.scalars(select(StatusChange).where(
                StatusChange.workflow == "application", StatusChange.record_id.in_(ids),
                StatusChange.action.in_(HELD_ACTIONS)).order_by(StatusChange.id)):
            notes[change.record_id] = change.note
        for nomination in db.session.scalars(select(Nomination).where(Nomination.application_id.in_(ids))):
            nominated[nomination.application_id] = nomination
    members = members_of(a.startup_id for a in decided)
    feedback = decision_email_feedback(call, ids)
    return [ReleaseItem(a, a.status, members.get(a.startup_id, []), notes.get(a.id),
                        getattr(nominated.get(a.id), "rationale", None), getattr(nominated.get(a.id), "rank", None),
                        feedback.get(a.id, []))
            for a in decided]


@service
def release(*, call_id: int, actor: User, now: datetime | None = None) -> int:
    """Send every decision of the call at once; later decisions go out as they are made."""
    now = now or utcnow()
    call, items, _undecided = release_preview(call_id=call_id, actor=actor)
    # Only one release wins when two staff press the button at once.
    result = db.session.execute(update(Call).where(Call.id == call.id, Call.decisions_released_at.is_(None))
                                .values(decisions_released_at=now), execution_options={"synchronize_session": "fetch"})
    if result.rowcount != 1:
        raise Conflict(_l("The decisions of this call were already released."))
    for item in items:
        _send_decision(call, item)
    return len(items)


def _decision_mail(call: Call, item: ReleaseItem, user: User) -> dict:
    """The one decision e-mail to one member of the startup: what is queued, and what the preview shows."""
    template = "decision_nominated" if item.decision == "nominated" else "decision_not_nominated"
    return dict(recipient=user, template=template,
                context={"call_title": call.title, "startup_name": item.application.startup.name,
                         "hub_name": call.route.host_hub.name, "note": item.note, "application_id": item.application.id,
                         "feedback": item.feedback},
                dedup_key=f"decision:{item.application.id}:{item.decision}:user-{user.id}")


def _send_decision(call: Call, item: ReleaseItem) -> None:
    for user in item.recipients:
        enqueue(**_decision_mail(call, item, user))


@dataclass
class DecisionMail:
    recipient: User
    subject: str
    body: str


def release_mails(*, call_id: int, actor: User) -> tuple[Call, list[tuple[ReleaseItem, list[DecisionMail]]], int]:
    """The release preview with the exact text of every e-mail it would send,
    rendered from unsaved outbox messages in each recipient's language. Nothing is written."""
    call, items, undecided = release_preview(call_id=call_id, actor=actor)
    result = []
    for item in items:
        mails = []
        for user in item.recipients:
            values = _decision_mail(call, item, user)
            message = OutboxMessage(recipient=user.email, user_id=user.id, template=values["template"],
                                    context=values["context"], dedup_key=values["dedup_key"], language=user.language or "en")
            rendered = render(message)
            mails.append(DecisionMail(user, rendered.subject, rendered.body))
        result.append((item, mails))
    return call, result, undecided


def _send_if_released(application: Application) -> None:
    """After the release, a decision goes out as soon as it is made."""
    call = application.call
    if not rules.decisions_released(call) or application.status not in DECIDED:
        return
    for item in _items(call, [application]):
        _send_decision(call, item)


# ------------------------------------------------------------- bulk actions


@dataclass
class BulkOutcome:
    """What happened to one application of a bulk action."""

    application_id: int
    startup_name: str | None
    done: bool
    message: str | None = None


def run_each(call: Call, application_ids, act) -> list[BulkOutcome]:
    """Apply ``act`` (a service) to each application of ``call`` in turn, each in a savepoint
    of the calling service's unit of work.

    A refusal of one item is rolled back alone and reported; the others go on."""
    ids = list(dict.fromkeys(int(i) for i in application_ids))
    found = {a.id: a for a in applications_in(call, ids)}
    outcomes = []
    for application_id in ids:
        application = found.get(application_id)
        if application is None:
            outcomes.append(BulkOutcome(application_id, None, False, str(_l("This application is not part of the call."))))
            continue
        name = application.startup.name
        try:
            with savepoint():
                act(application)
        except ServiceError as refusal:
            outcomes.append(BulkOutcome(application_id, name, False, str(refusal.message)))
        else:
            outcomes.append(BulkOutcome(application_id, name, True))
    return outcomes


def applications_in(call: Call, application_ids) -> list[Application]:
    """These applications of the call, in the order given (others are left out); one query."""
    ids = list(dict.fromkeys(int(i) for i in application_ids))
    found = {a.id: a for a in db.session.scalars(select(Application).where(
        Application.call_id == call.id, Application.id.in_(ids)).options(joinedload(Application.startup)))} if ids else {}
    return [found[i] for i in ids if i in found]


def decline_preview(*, call_id: int, actor: User) -> tuple[Call, list[Application]]:
    """The applications under review that are not nominated: the ones "decline all" would decline."""
    call = cluster_call(call_id, actor)
    apps = list(db.session.scalars(
        select(Application).where(Application.call_id == call.id, Application.status == "under_review")
        .options(joinedload(Application.startup)).order_by(Application.id)
    ))
    return call, apps


@service
def decline_many(*, call_id: int, actor: User, application_ids: list[int], reason: str, message: str,
                 now: datetime | None = None) -> list[BulkOutcome]:
    """Decline each previewed application with one internal reason and one message, one by one."""
    call = cluster_call(call_id, actor)
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = [_l("A reason is required.")]
    if not (message or "").strip():
        errors["message"] = [_l("A message for the startup is required.")]
    if errors:
        raise Invalid(_l("Give the internal reason and the message for the startups; nothing was declined."), errors)
    return run_each(call, application_ids,
                    lambda a: decline(application=a, actor=actor, reason=reason, message=message, now=now))
