"""Every workflow of the programme, declared as data, and the one function
that changes a status.

A transition is ``(workflow, from_state, action) -> to_state`` with the roles
that may perform it, guards that must hold, and the e-mails it sends.
``perform`` is the only code that assigns a status: it answers 404 to an actor
who may not see the record, 403 to one who may see but not act, 409 when the
transition is not allowed now; it locks the record so that of two people acting
at once exactly one wins, and writes the audit row and the outbox rows in the
caller's transaction (the calling service commits once).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import lazyload

from residency.core.errors import Conflict, Forbidden, Invalid, NotFound
from residency.core.extensions import db
from residency.domain.applications.models import Application
from residency.domain.programme.models import Call
from residency.domain.funding.models import FundingApplication, FundingReport
from residency.domain.placements.models import Placement
from residency.core.models import StatusChange
from residency.domain.accounts.models import User
from residency.core.db import utcnow

SYSTEM = "system"
ADMIN = "programme_admin"
APPLICANT = "applicant"
CLUSTER = "cluster_staff"
HUB = "hub_admin"
FUNDER = "funder_officer"

# Actions an administrator may take on any record of any workflow.
FORCE, REVERT = "force", "revert"


@dataclass(frozen=True)
class Notify:
    """Send ``template`` to everyone in ``audience`` (applicant, cluster, hub, funder)."""

    template: str
    audience: str


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str
    roles: frozenset
    guards: tuple = ()
    notify: tuple = ()
    visible_to_applicant: bool = True
    reason_required: bool = False
    # False where the reason is an internal note (a decline's reason); the applicant then sees only the note.
    reason_public: bool = True


@dataclass(frozen=True)
class State:
    staff_label: object
    applicant_label: object


@dataclass
class Workflow:
    name: str
    initial: str
    states: dict
    transitions: tuple
    # model and relation are attached where the record type exists; until then
    # the workflow is declared (and walked by the tests) but cannot run.
    model: type | None = None
    relation: Callable | None = None  # (record, user) -> set of roles held on it
    recipients: Callable | None = None  # (record, audience) -> list of users
    context: Callable | None = None  # (record) -> what the e-mails about it may show
    _index: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        for t in self.transitions:
            key = (t.source, t.action)
            if key in self._index:
                raise ValueError(f"{self.name}: duplicate transition {key}")
            if t.source not in self.states or t.target not in self.states:
                raise ValueError(f"{self.name}: unknown state in {t}")
            self._index[key] = t

    def find(self, source: str, action: str) -> Transition | None:
        return self._index.get((source, action))

    def actions_from(self, source: str) -> list[Transition]:
        return [t for t in self.transitions if t.source == source]

    def label(self, state: str, for_applicant: bool) -> str:
        labels = self.states[state]
        return str(labels.applicant_label if for_applicant else labels.staff_label)


def roles(*names: str) -> frozenset:
    return frozenset(names)


def T(source, action, target, who, **kw) -> Transition:  # noqa: N802 - reads as a table row
    return Transition(source, action, target, who, **kw)


# ---------------------------------------------------------------- guards
# A guard takes (record, actor, now, data) and returns a refusal message or None.


def before_nomination_deadline(app, actor, now, data):
    if now >= app.call.nomination_deadline:
        from residency.core.i18n import format_in_zone

        return _l("The nomination deadline passed %(when)s; nominations are closed.",
                  when=format_in_zone(app.call.nomination_deadline, app.call.timezone))
    return None


def seat_left(app, actor, now, data):
    """Nominations never exceed the call's seats: the call row is locked while counting,
    so two staff nominating for the last seat at once cannot both get it."""
    from sqlalchemy import func

    stmt = select(Call.seats).where(Call.id == app.call_id)
    if db.session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    seats = db.session.scalar(stmt)
    taken = db.session.scalar(select(func.count()).select_from(Application).where(
        Application.call_id == app.call_id, Application.status == "nominated"))
    if taken >= seats:
        return _l("All %(seats)d seats of this call are taken; decline or un-nominate another application first.", seats=seats)
    return None


def capacity_available(placement, actor, now, data):
    from residency.domain.placements.services import capacity_guard

    return capacity_guard(placement, actor, now, data)


def call_ready_to_publish(call, actor, now, data):
    if not call.criteria:
        return _l("Add at least one scoring criterion before publishing the call.")
    if call.closes_at <= now:
        return _l("The call's closing time has already passed; move it to the future before publishing.")
    return None


# ---------------------------------------------------------------- the tables

APPLICATION = Workflow(
    name="application",
    initial="draft",
    states={
        "draft": State(_l("Draft"), _l("Draft")),
        "submitted": State(_l("Submitted, awaiting review"), _l("Submitted")),
        "under_review": State(_l("Awaiting nomination"), _l("Under review")),
        "changes_requested": State(_l("Changes requested"), _l("Changes requested")),
        "nominated": State(_l("Nominated"), _l("Nominated")),
        "not_nominated": State(_l("Declined"), _l("Not nominated")),
        "withdrawn": State(_l("Withdrawn"), _l("Withdrawn")),
    },
    transitions=(
        T("draft", "submit", "submitted", roles(APPLICANT), notify=(Notify("application_submitted", "applicant"),)),
        T("submitted", "start_review", "under_review", roles(CLUSTER)),
        T("under_review", "nominate", "nominated", roles(CLUSTER), guards=(before_nomination_deadline, seat_left)),
        T("under_review", "decline", "not_nominated", roles(CLUSTER), reason_required=True, reason_public=False),
        T("submitted", "request_changes", "changes_requested", roles(CLUSTER), reason_required=True,
          notify=(Notify("application_changes_requested", "applicant"),)),
        T("under_review", "request_changes", "changes_requested", roles(CLUSTER), reason_required=True,
          notify=(Notify("application_changes_requested", "applicant"),)),
        T("changes_requested", "resubmit", "submitted", roles(APPLICANT), notify=(Notify("application_submitted", "applicant"),)),
        T("draft", "withdraw", "withdrawn", roles(APPLICANT), reason_required=True),
        T("submitted", "withdraw", "withdrawn", roles(APPLICANT), reason_required=True),
        T("under_review", "withdraw", "withdrawn", roles(APPLICANT), reason_required=True),
        T("changes_requested", "withdraw", "withdrawn", roles(APPLICANT), reason_required=True),
    ),
)

PLACEMENT = Workflow(
    name="placement",
    initial="pending",
    states={
        "pending": State(_l("Awaiting hub decision"), _l("Nominated, awaiting the hub")),
        "offered": State(_l("Offered"), _l("Offer received")),
        "waitlisted": State(_l("Waitlisted"), _l("On the waiting list")),
        "rejected": State(_l("Rejected"), _l("Not placed")),
        "accepted": State(_l("Accepted"), _l("Accepted")),
        "declined": State(_l("Declined by startup"), _l("Declined")),
        "lapsed": State(_l("Offer lapsed"), _l("Offer expired")),
        "active": State(_l("In residence"), _l("In residence")),
        "completed": State(_l("Completed"), _l("Completed")),
        "terminated": State(_l("Terminated"), _l("Ended early")),
    },
    transitions=(
        T("pending", "offer", "offered", roles(HUB), guards=(capacity_available,), notify=(Notify("placement_offered", "applicant"),)),
        T("pending", "waitlist", "waitlisted", roles(HUB), notify=(Notify("placement_waitlisted", "applicant"),)),
        T("pending", "reject", "rejected", roles(HUB), reason_required=True, notify=(Notify("placement_rejected", "applicant"),)),
        T("waitlisted", "offer", "offered", roles(HUB), guards=(capacity_available,), notify=(Notify("placement_offered", "applicant"),)),
        T("waitlisted", "reject", "rejected", roles(HUB), reason_required=True, notify=(Notify("placement_rejected", "applicant"),)),
        T("offered", "accept", "accepted", roles(APPLICANT), notify=(Notify("placement_accepted", "hub"),)),
        T("offered", "decline", "declined", roles(APPLICANT), notify=(Notify("placement_declined", "hub"),)),
        T("offered", "lapse", "lapsed", roles(SYSTEM), notify=(Notify("placement_lapsed", "applicant"), Notify("placement_lapsed", "hub"))),
        T("accepted", "start", "active", roles(SYSTEM)),
        T("active", "complete", "completed", roles(HUB, SYSTEM)),
        T("active", "terminate", "terminated", roles(HUB), reason_required=True, notify=(Notify("placement_terminated", "applicant"),)),
        T("active", "extend", "active", roles(HUB), guards=(capacity_available,)),
    ),
)

FUNDING = Workflow(
    name="funding",
    initial="draft",
    states={
        "draft": State(_l("Draft"), _l("Draft")),
        "submitted": State(_l("Submitted, awaiting assessment"), _l("Submitted")),
        "under_assessment": State(_l("Under assessment"), _l("Under assessment")),
        "changes_requested": State(_l("Changes requested"), _l("Changes requested")),
        "granted": State(_l("Granted, awaiting acceptance"), _l("Grant offered")),
        "rejected": State(_l("Rejected"), _l("Not granted")),
        "in_progress": State(_l("In progress"), _l("In progress")),
        "lapsed": State(_l("Grant offer lapsed"), _l("Grant offer expired")),
        "closed": State(_l("Closed"), _l("Closed")),
        "cancelled": State(_l("Cancelled"), _l("Cancelled")),
    },
    transitions=(
        T("draft", "submit", "submitted", roles(APPLICANT), notify=(Notify("funding_submitted", "applicant"),)),
        T("submitted", "start_assessment", "under_assessment", roles(FUNDER)),
        T("under_assessment", "grant", "granted", roles(FUNDER), notify=(Notify("funding_granted", "applicant"),)),
        T("under_assessment", "reject", "rejected", roles(FUNDER), reason_required=True,
          notify=(Notify("funding_rejected", "applicant"),)),
        T("under_assessment", "request_changes", "changes_requested", roles(FUNDER), reason_required=True,
          notify=(Notify("funding_changes_requested", "applicant"),)),
        T("changes_requested", "resubmit", "submitted", roles(APPLICANT), notify=(Notify("funding_submitted", "applicant"),)),
        T("granted", "accept_offer", "in_progress", roles(APPLICANT), notify=(Notify("funding_offer_accepted", "funder"),)),
        T("granted", "lapse", "lapsed", roles(SYSTEM), notify=(Notify("funding_offer_lapsed", "applicant"),)),
        T("in_progress", "close", "closed", roles(FUNDER)),
        T("in_progress", "cancel", "cancelled", roles(FUNDER), reason_required=True),
    ),
)

REPORT = Workflow(
    name="report",
    initial="due",
    states={
        "due": State(_l("Due"), _l("Due")),
        "submitted": State(_l("Submitted, awaiting approval"), _l("Submitted")),
        "approved": State(_l("Approved"), _l("Approved")),
        "returned": State(_l("Returned for changes"), _l("Returned for changes")),
    },
    transitions=(
        T("due", "submit", "submitted", roles(APPLICANT)),
        T("submitted", "approve", "approved", roles(FUNDER)),
        T("submitted", "return", "returned", roles(FUNDER), reason_required=True, notify=(Notify("report_returned", "applicant"),)),
        T("returned", "submit", "submitted", roles(APPLICANT)),
    ),
)

CALL = Workflow(
    name="call",
    initial="draft",
    states={
        "draft": State(_l("Draft"), _l("Not yet published")),
        "published": State(_l("Published"), _l("Published")),
        "closed": State(_l("Closed"), _l("Closed")),
        "archived": State(_l("Archived"), _l("Archived")),
    },
    transitions=(
        T("draft", "publish", "published", roles(ADMIN), guards=(call_ready_to_publish,)),
        T("published", "close", "closed", roles(ADMIN, SYSTEM)),
        T("closed", "reopen", "published", roles(ADMIN), guards=(call_ready_to_publish,)),
        T("closed", "archive", "archived", roles(ADMIN)),
    ),
)

WORKFLOWS = {w.name: w for w in (APPLICATION, PLACEMENT, FUNDING, REPORT, CALL)}


# ------------------------------------------------------- relations to records


def _admin(user: User | None) -> bool:
    return user is not None and user.has_role(ADMIN)


def _application_relation(app: Application, user: User | None) -> set[str]:
    if user is None:
        return {SYSTEM}
    held = set()
    if _admin(user):
        held.add(ADMIN)
    if user.is_member_of(app.startup_id):
        held.add(APPLICANT)
    # Cluster staff see applications once they are submitted, never drafts.
    if app.status != "draft" and user.is_member_of(app.call.route.cluster_id):
        held.add(CLUSTER)
    return held


def _application_recipients(app: Application, audience: str) -> list[User]:
    org_id = {"applicant": app.startup_id, "cluster": app.call.route.cluster_id, "hub": app.call.route.host_hub_id}[audience]
    return _members(org_id)


def _application_context(app: Application) -> dict:
    """A copy of the answers as they were at this moment, for receipts."""
    from residency.domain.applications.services import ALL_FIELDS, values_of

    values = values_of(app)
    return {
        "call_title": app.call.title,
        "startup_name": app.startup.name,
        "application_id": app.id,
        "answers": [[key, "" if values[key] is None else str(values[key])] for key in ALL_FIELDS],
        "attachments": [a.filename for a in app.attachments],
    }


def _placement_relation(placement, user: User | None) -> set[str]:
    if user is None:
        return {SYSTEM}
    held = set()
    if _admin(user):
        held.add(ADMIN)
    if user.is_member_of(placement.application.startup_id):
        held.add(APPLICANT)
    if user.is_member_of(placement.hub_id):
        held.add(HUB)
    return held


def _placement_recipients(placement, audience: str) -> list[User]:
    route = placement.application.call.route
    org_id = {"applicant": placement.application.startup_id, "hub": placement.hub_id, "cluster": route.cluster_id}[audience]
    return _members(org_id)


def _placement_context(placement) -> dict:
    return {
        "call_title": placement.application.call.title,
        "startup_name": placement.application.startup.name,
        "hub_name": placement.hub.name,
        "placement_id": placement.id,
        "starts_on": placement.starts_on.isoformat() if placement.starts_on else None,
        "ends_on": placement.ends_on.isoformat() if placement.ends_on else None,
        "desks": placement.desks,
        "benches": placement.benches,
        "offer_expires_at": placement.offer_expires_at.isoformat() if placement.offer_expires_at else None,
        "timezone": placement.hub.timezone or placement.application.call.timezone,
    }


def _funding_relation(fa, user: User | None) -> set[str]:
    if user is None:
        return {SYSTEM}
    held = set()
    if _admin(user):
        held.add(ADMIN)
    if user.is_member_of(fa.startup_id):
        held.add(APPLICANT)
    # Funder officers see applications once submitted, never drafts.
    if fa.status != "draft" and user.is_member_of(fa.scheme.funder_id):
        held.add(FUNDER)
    return held


def _funding_recipients(fa, audience: str) -> list[User]:
    return _members({"applicant": fa.startup_id, "funder": fa.scheme.funder_id}[audience])


def _funding_context(fa) -> dict:
    return {
        "title": fa.title,
        "startup_name": fa.startup.name,
        "scheme_name": fa.scheme.name,
        "funder_name": fa.scheme.funder.name,
        "currency": fa.scheme.currency,
        "amount_requested": str(fa.amount_requested),
        "granted_amount": str(fa.granted_amount) if fa.granted_amount is not None else None,
        "offer_expires_at": fa.offer_expires_at.isoformat() if fa.offer_expires_at else None,
        "timezone": fa.scheme.funder.timezone or "Europe/Oslo",
        "funding_id": fa.id,
    }


def _report_relation(report, user: User | None) -> set[str]:
    return _funding_relation(report.funding_application, user)


def _report_recipients(report, audience: str) -> list[User]:
    return _funding_recipients(report.funding_application, audience)


def _report_context(report) -> dict:
    return _funding_context(report.funding_application) | {"report_kind": report.kind, "due_on": report.due_on.isoformat(),
                                                          "report_id": report.id}


def _call_relation(call: Call, user: User | None) -> set[str]:
    if user is None:
        return {SYSTEM}
    if _admin(user):
        return {ADMIN}
    # Published and closed calls are public: anyone may see them, nobody else may act.
    return {"viewer"} if call.status in ("published", "closed") else set()


def _call_recipients(call: Call, audience: str) -> list[User]:
    return []


def members_of(org_ids) -> dict[int, list[User]]:
    """The members of these organisations, by organisation, in one query."""
    from residency.domain.accounts.models import Membership

    result: dict[int, list[User]] = {}
    ids = list(set(org_ids))
    if not ids:
        return result
    for user, org_id in db.session.execute(
            select(User, Membership.organisation_id).join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id.in_(ids)).options(lazyload(User.memberships)).order_by(User.id)):
        result.setdefault(org_id, []).append(user)
    return result


def _members(organisation_id: int) -> list[User]:
    return members_of([organisation_id]).get(organisation_id, [])


APPLICATION.model, APPLICATION.relation, APPLICATION.recipients = Application, _application_relation, _application_recipients
APPLICATION.context = _application_context
PLACEMENT.model, PLACEMENT.relation, PLACEMENT.recipients = Placement, _placement_relation, _placement_recipients
PLACEMENT.context = _placement_context
FUNDING.model, FUNDING.relation, FUNDING.recipients, FUNDING.context = (
    FundingApplication, _funding_relation, _funding_recipients, _funding_context)
REPORT.model, REPORT.relation, REPORT.recipients, REPORT.context = (
    FundingReport, _report_relation, _report_recipients, _report_context)
CALL.model, CALL.relation, CALL.recipients = Call, _call_relation, _call_recipients


def workflow_for(record) -> Workflow:
    for wf in WORKFLOWS.values():
        if wf.model is not None and isinstance(record, wf.model):
            return wf
    raise TypeError(f"no workflow for {type(record).__name__}")


def roles_on(record, user: User | None) -> set[str]:
    return workflow_for(record).relation(record, user)


def allowed_actions(record, user: User | None) -> list[Transition]:
    """The transitions ``user`` could perform on ``record`` now (guards not yet run)."""
    wf = workflow_for(record)
    held = wf.relation(record, user)
    return [t for t in wf.actions_from(record.status) if t.roles & held]


# ------------------------------------------------------------ the one function


def perform(
    record,
    action: str,
    actor: User | None,
    *,
    reason: str | None = None,
    note: str | None = None,
    target: str | None = None,
    now: datetime | None = None,
    data: dict | None = None,
) -> StatusChange:
    """Perform ``action`` on ``record`` as ``actor`` (None is the scheduler).

    ``force`` (with ``target``) and ``revert`` are administrators' actions on any
    workflow and need a reason. Flushes; the calling service commits.
    """
    wf = workflow_for(record)
    now = now or utcnow()
    reason = (reason or "").strip() or None
    held = wf.relation(record, actor)
    if not held:
        raise NotFound(_l("Not found."))

    record = _lock(wf, record)
    current = record.status
    forced = action in (FORCE, REVERT)

    if forced:
        if ADMIN not in held:
            raise Forbidden(_l("Only a programme administrator may force or revert a status."))
        if not reason:
            raise Invalid(_l("Give a reason for forcing or reverting a status."), {"reason": [_l("A reason is required.")]})
        if action == REVERT:
            target = _previous_state(wf, record)
            if target is None:
                raise Conflict(_l("There is no earlier status to revert to."))
        if target not in wf.states:
            raise Invalid(_l("Choose a status to move to."), {"target": [_l("Unknown status.")]})
        if target == current:
            raise Conflict(_l("The record is already %(state)s.", state=wf.label(current, False)))
        transition = Transition(current, action, target, roles(ADMIN), visible_to_applicant=False, reason_required=True)
    else:
        transition = wf.find(current, action)
        able = [t for t in wf.transitions if t.action == action and t.roles & held]
        if not able:
            raise Forbidden(_l("You are not allowed to do that."))
        if transition is None or not transition.roles & held:
            raise Conflict(
                _l("This cannot be done now: the record is %(state)s.", state=wf.label(current, APPLICANT in held and len(held) == 1))
            )
        if transition.reason_required and not reason:
            raise Invalid(_l("Please give a reason."), {"reason": [_l("A reason is required.")]})
        for guard in transition.guards:
            refusal = guard(record, actor, now, data or {})
            if refusal:
                raise Conflict(refusal)

    # Compare-and-set: even without a row lock (SQLite) only one writer moves
    # the record out of ``current``.
    model = wf.model
    result = db.session.execute(
        update(model).where(model.id == record.id, model.status == current).values(status=transition.target),
        execution_options={"synchronize_session": "fetch"},
    )
    if result.rowcount != 1:
        raise Conflict(_l("Someone else changed this record a moment ago; reload the page and try again."))

    change = StatusChange(
        workflow=wf.name,
        record_id=record.id,
        from_state=current,
        to_state=transition.target,
        action=action,
        actor_id=actor.id if actor is not None else None,
        reason=reason,
        note=(note or "").strip() or None,
        visible_to_applicant=transition.visible_to_applicant,
        forced=forced,
        created_at=now,
    )
    db.session.add(change)
    db.session.flush()

    from residency.core.outbox import enqueue

    for notice in transition.notify:
        for user in wf.recipients(record, notice.audience):
            enqueue(
                recipient=user,
                template=notice.template,
                context={
                    "workflow": wf.name,
                    "record_id": record.id,
                    "action": action,
                    "from_state": current,
                    "to_state": transition.target,
                    "reason": reason if (transition.visible_to_applicant and transition.reason_public) or notice.audience != "applicant" else None,
                    "note": change.note,
                    **(wf.context(record) if wf.context else {}),
                },
                dedup_key=f"{wf.name}:{record.id}:change-{change.id}:{notice.template}:user-{user.id}",
            )
    return change


def _lock(wf: Workflow, record):
    """Re-read the record under a row lock (PostgreSQL) so guards see fresh state."""
    model = wf.model
    stmt = select(model).where(model.id == record.id).options(lazyload("*")).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(of=model)
    locked = db.session.scalars(stmt).one_or_none()
    if locked is None:
        raise NotFound(_l("Not found."))
    return locked


def _previous_state(wf: Workflow, record) -> str | None:
    last = db.session.scalars(
        select(StatusChange)
        .where(StatusChange.workflow == wf.name, StatusChange.record_id == record.id)
        .order_by(StatusChange.id.desc())
        .limit(1)
    ).first()
    return last.from_state if last is not None and last.to_state == record.status else None


def public_reason(change: StatusChange) -> str | None:
    """What an applicant may read of a change's reason: the reason where the transition makes it public."""
    wf = WORKFLOWS[change.workflow]
    transition = wf.find(change.from_state, change.action)
    if change.forced or (transition is not None and not transition.reason_public):
        return None
    return change.reason


def history(record, for_applicant: bool) -> list[StatusChange]:
    """The audit trail of one record, oldest first; applicants see only their entries."""
    wf = workflow_for(record)
    stmt = select(StatusChange).where(StatusChange.workflow == wf.name, StatusChange.record_id == record.id)
    if for_applicant:
        stmt = stmt.where(StatusChange.visible_to_applicant.is_(True))
    return list(db.session.scalars(stmt.order_by(StatusChange.id)))
