"""Placements: offers within the hub's capacity, acceptance, waitlist, lapse,
the residency itself (start, extension, completion, termination).

Capacity is checked day by day inside the transaction with the hub's row
locked, so concurrent offers can never overbook a hub.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import joinedload

from residency.core import limits, workflow
from residency.core.errors import Conflict, Invalid
from residency.core.extensions import db
from residency.core.i18n import format_day
from residency.core.uow import each_in_own_unit, service
from residency.domain.programme.models import HubCapacity
from residency.domain.accounts.models import Organisation, User
from residency.domain.applications.models import Application
from residency.domain.placements.models import Placement
from residency.domain.placements.rules import check_out_problem, offer_expired, offer_expired_clause
from residency.core.models import StatusChange
from residency.core.db import utcnow
from residency.core.uow import for_update

# Placements that hold space: booked (accepted, active) or offered.
HOLDING = ("offered", "accepted", "active")

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ capacity


@dataclass
class FullRange:
    kind: str  # "desks" or "benches"
    first: date
    last: date
    capacity: int
    used: int


def _daily(hub_id: int, first: date, last: date, exclude_id: int | None = None):
    """Capacity and use of desks and benches for every day from first to last (two queries)."""
    days = (last - first).days + 1
    cap_desks, cap_benches = [0] * days, [0] * days
    use_desks, use_benches = [0] * days, [0] * days
    for period in db.session.scalars(select(HubCapacity).where(
            HubCapacity.hub_id == hub_id, HubCapacity.starts_on <= last, HubCapacity.ends_on >= first)):
        for i in range(max(0, (period.starts_on - first).days), min(days, (period.ends_on - first).days + 1)):
            cap_desks[i] += period.desks
            cap_benches[i] += period.benches
    stmt = select(Placement.starts_on, Placement.ends_on, Placement.desks, Placement.benches).where(
        Placement.hub_id == hub_id, Placement.status.in_(HOLDING), Placement.starts_on <= last, Placement.ends_on >= first)
    if exclude_id is not None:
        stmt = stmt.where(Placement.id != exclude_id)
    for starts_on, ends_on, desks, benches in db.session.execute(stmt):
        for i in range(max(0, (starts_on - first).days), min(days, (ends_on - first).days + 1)):
            use_desks[i] += desks
            use_benches[i] += benches
    return cap_desks, cap_benches, use_desks, use_benches


def _over(kind: str, first: date, cap: list, use: list, want: int) -> list[FullRange]:
    """The runs of days on which ``use + want`` exceeds ``cap``."""
    problems, start = [], None
    for i in range(len(cap) + 1):
        over = i < len(cap) and use[i] + want > cap[i]
        if over and start is None:
            start = i
        elif not over and start is not None:
            problems.append(FullRange(kind, first + timedelta(days=start), first + timedelta(days=i - 1),
                                      min(cap[start:i]), max(use[start:i])))
            start = None
    return problems


def full_ranges(hub_id: int, first: date, last: date, desks: int, benches: int, exclude_id: int | None = None) -> list[FullRange]:
    """The date ranges on which adding ``desks`` and ``benches`` would exceed capacity."""
    cap_d, cap_b, use_d, use_b = _daily(hub_id, first, last, exclude_id)
    problems = []
    for kind, want, cap, use in (("desks", desks, cap_d, use_d), ("benches", benches, cap_b, use_b)):
        if want:
            problems += _over(kind, first, cap, use, want)
    return problems


def overbooked_ranges(hub_id: int, first: date, last: date) -> list[FullRange]:
    """The date ranges on which placements booked or offered use more than the hub's capacity."""
    cap_d, cap_b, use_d, use_b = _daily(hub_id, first, last)
    return _over("desks", first, cap_d, use_d, 0) + _over("benches", first, cap_b, use_b, 0)


def lock_hub(hub_id: int) -> None:
    """Offers, extensions and capacity changes at one hub are checked one at a time."""
    db.session.execute(for_update(select(Organisation.id).where(Organisation.id == hub_id)))


def _capacity_message(problems: list[FullRange]):
    parts = []
    for p in problems:
        what = _l("office desks") if p.kind == "desks" else _l("lab benches")
        parts.append(str(_l("%(what)s from %(first)s to %(last)s (%(used)d of %(capacity)d already booked or offered)",
                            what=what, first=format_day(p.first), last=format_day(p.last), used=p.used, capacity=p.capacity)))
    return _l("Not enough space at the hub: %(ranges)s.", ranges="; ".join(parts))


def capacity_guard(placement, actor, now, data):
    """Workflow guard for offer and extend: the new period fits the hub's capacity on every day."""
    lock_hub(placement.hub_id)
    starts_on = data.get("starts_on", placement.starts_on)
    ends_on = data.get("ends_on", placement.ends_on)
    problems = full_ranges(placement.hub_id, starts_on, ends_on, data.get("desks", placement.desks) or 0,
                           data.get("benches", placement.benches) or 0, exclude_id=placement.id)
    return _capacity_message(problems) if problems else None


# ------------------------------------------------------------------ reading


def with_details():
    """The hub, application, startup and call of placements, loaded with them: what every page of a
    placement shows and what ``hub_zone`` and the workflow's e-mails read."""
    application = joinedload(Placement.application)
    return (joinedload(Placement.hub), application.joinedload(Application.startup), application.joinedload(Application.call))


def placement_for(user: User, placement_id: int) -> Placement:
    """The placement with its details, if ``user`` has any relation to it; 404 otherwise."""
    placement = db.session.scalar(select(Placement).where(Placement.id == placement_id).options(*with_details()))
    return workflow.require(placement, user)


def hub_zone(placement: Placement) -> str:
    return placement.hub.timezone or placement.application.call.timezone


def local_today(zone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


# ------------------------------------------------------------------ the hub's actions


def _validate_period(placement: Placement, starts_on, ends_on, desks, benches) -> dict:
    call = placement.application.call
    errors = {}
    if starts_on is None:
        errors["starts_on"] = [_l("Enter the first day of the residency.")]
    if ends_on is None:
        errors["ends_on"] = [_l("Enter the last day of the residency.")]
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors["ends_on"] = [_l("The last day comes after the first.")]
        if starts_on < call.residency_starts_on or ends_on > call.residency_ends_on:
            errors.setdefault("starts_on", []).append(_l("The residency must lie within the call's window, %(first)s to %(last)s.",
                                                         first=format_day(call.residency_starts_on), last=format_day(call.residency_ends_on)))
    for key, value in (("desks", desks), ("benches", benches)):
        if value is None or value < 0:
            errors[key] = [_l("Enter a number of 0 or more.")]
        elif value > limits.PLACEMENT_SPACE_MAX:
            errors[key] = [limits.number_message(0, limits.PLACEMENT_SPACE_MAX)]
    if not errors and desks + benches == 0:
        errors["desks"] = [_l("Offer at least one desk or one lab bench.")]
    return errors


def _offer_terms(placement: Placement, starts_on, ends_on, desks, benches, offer_expires_on, now: datetime,
                 refusal) -> datetime:
    """The offer's answer-by time (23:59 in the hub's zone on ``offer_expires_on``), once its period,
    space and date are right; ``Invalid`` with ``refusal`` and a message per field otherwise."""
    errors = _validate_period(placement, starts_on, ends_on, desks, benches)
    zone = hub_zone(placement)
    expires_at = None
    if offer_expires_on is None:
        errors["offer_expires_on"] = [_l("Enter the date by which the startup must answer.")]
    else:
        expires_at = datetime.combine(offer_expires_on, time(23, 59), ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))
        if expires_at <= now:
            errors["offer_expires_on"] = [_l("The answer date must be in the future.")]
        elif starts_on and offer_expires_on > starts_on:
            errors["offer_expires_on"] = [_l("The startup must answer before the residency starts.")]
    if errors:
        raise Invalid(refusal, errors)
    return expires_at


def _set_terms(placement: Placement, starts_on, ends_on, desks, benches, expires_at, conditions) -> dict:
    placement.starts_on, placement.ends_on, placement.desks, placement.benches = starts_on, ends_on, desks, benches
    placement.offer_expires_at, placement.conditions = expires_at, (conditions or "").strip() or None
    return {"starts_on": starts_on, "ends_on": ends_on, "desks": desks, "benches": benches}


@service
def offer(*, placement: Placement, actor: User, starts_on: date, ends_on: date, desks: int, benches: int,
          offer_expires_on: date, conditions: str = "", now: datetime | None = None) -> StatusChange:
    """Offer a placement within the call's window and the hub's capacity; the offer expires
    at the end of ``offer_expires_on`` in the hub's time zone."""
    now = now or utcnow()
    expires_at = _offer_terms(placement, starts_on, ends_on, desks, benches, offer_expires_on, now,
                              _l("Please correct the offer; nothing was sent."))
    period = _set_terms(placement, starts_on, ends_on, desks, benches, expires_at, conditions)
    return workflow.perform(placement, "offer", actor, now=now, data=period)


@service
def amend_offer(*, placement: Placement, actor: User, starts_on: date, ends_on: date, desks: int, benches: int,
                offer_expires_on: date, conditions: str = "", now: datetime | None = None) -> StatusChange:
    """Change an offer the startup has not answered yet: new dates, space, answer-by date or
    conditions, within the call's window and the hub's capacity (the offer's own space excluded).
    The startup is e-mailed the new terms; an answer it gives from now on is to these."""
    now = now or utcnow()
    expires_at = _offer_terms(placement, starts_on, ends_on, desks, benches, offer_expires_on, now,
                              _l("Please correct the offer; nothing was changed."))
    period = _set_terms(placement, starts_on, ends_on, desks, benches, expires_at, conditions)
    return workflow.perform(placement, "amend_offer", actor, now=now, data=period)


@service
def withdraw_offer(*, placement: Placement, actor: User, reason: str, now: datetime | None = None) -> StatusChange:
    """Take back an offer the startup has not answered: its space is free again, the startup is
    e-mailed the reason, and the placement awaits the hub's decision as before the offer."""
    if not (reason or "").strip():
        raise Invalid(_l("Say why the offer is withdrawn; the startup reads it."), {"reason": [_l("A reason is required.")]})
    change = workflow.perform(placement, "withdraw_offer", actor, reason=reason, now=now)
    placement.offer_expires_at = None
    return change


@service
def waitlist(*, placement: Placement, actor: User, reason: str = "", now: datetime | None = None) -> StatusChange:
    return workflow.perform(placement, "waitlist", actor, reason=reason, now=now)


@service
def reject(*, placement: Placement, actor: User, reason: str, now: datetime | None = None) -> StatusChange:
    return workflow.perform(placement, "reject", actor, reason=reason, now=now)


# The changes that set an offer's terms: the latest one is the offer the startup answers.
OFFER_ACTIONS = ("offer", "amend_offer")


def terms_version(placement: Placement) -> int | None:
    """Which terms of the offer stand: the audit entry of the latest offer or change of it."""
    return db.session.scalar(select(func.max(StatusChange.id)).where(
        StatusChange.workflow == "placement", StatusChange.record_id == placement.id,
        StatusChange.action.in_(OFFER_ACTIONS)))


@service
def answer_offer(*, placement: Placement, actor: User, accept: bool, terms: int | None = None,
                 now: datetime | None = None) -> StatusChange:
    """The startup accepts or declines the offer before it expires. ``terms`` is the version of the
    offer the startup read (``terms_version``): an answer to terms the hub has changed since is refused."""
    now = now or utcnow()
    if offer_expired(placement, now):
        raise Conflict(_l("This offer expired; it can no longer be answered."))
    if terms is not None and terms != terms_version(placement):
        raise Conflict(_l("The hub changed the offer after you opened it. Read the new terms below and answer again."))
    return workflow.perform(placement, "accept" if accept else "decline", actor, now=now)


@service
def extend(*, placement: Placement, actor: User, ends_on: date, now: datetime | None = None) -> StatusChange:
    """A longer residency, if the hub has the space on every added day."""
    if placement.status != "active":
        # Only a residency under way has an end to move; the engine says so in its own words.
        return workflow.perform(placement, "extend", actor, now=now)
    if ends_on is None or ends_on <= placement.ends_on:
        raise Invalid(_l("The new last day must be after the current one (%(day)s).", day=format_day(placement.ends_on)),
                      {"ends_on": [_l("Choose a later day.")]})
    change = workflow.perform(placement, "extend", actor, now=now, data={"ends_on": ends_on},
                              reason=str(_l("Extended to %(day)s", day=format_day(ends_on))))
    placement.ends_on = ends_on
    return change


def _check_out(placement: Placement, checked_out_on: date | None) -> None:
    """Refuse a check-out day before the residency began (``rules.check_out_problem``)."""
    problem = check_out_problem(placement, checked_out_on)
    if problem is not None:
        raise Invalid(problem, {"checked_out_on": [problem]})


@service
def complete(*, placement: Placement, actor: User | None, checked_out_on: date | None = None,
             now: datetime | None = None) -> StatusChange:
    now = now or utcnow()
    _check_out(placement, checked_out_on)
    ended_on = checked_out_on or min(placement.ends_on, local_today(hub_zone(placement), now))
    # Impact surveys follow from the "ended_on" the workflow hook receives.
    change = workflow.perform(placement, "complete", actor, now=now, data={"ended_on": ended_on})
    placement.checked_out_on = ended_on
    return change


@service
def terminate(*, placement: Placement, actor: User, reason: str, checked_out_on: date | None = None,
              now: datetime | None = None) -> StatusChange:
    now = now or utcnow()
    _check_out(placement, checked_out_on)
    ended_on = checked_out_on or local_today(hub_zone(placement), now)
    change = workflow.perform(placement, "terminate", actor, reason=reason, now=now, data={"ended_on": ended_on})
    placement.checked_out_on = ended_on
    return change


CHECK_IN_STATES = ("accepted", "active")


@service
def record_check_in(*, placement: Placement, actor: User, checked_in_on: date | None) -> None:
    """The day the startup actually moved in (not a status change), once it has accepted."""
    workflow.require(placement, actor, workflow.HUB)
    if placement.status not in CHECK_IN_STATES:
        raise Conflict(_l("A move-in day can be recorded once the startup has accepted, until the residency ends; "
                          "the placement is %(state)s.", state=workflow.get("placement").label(placement.status, False)))
    if checked_in_on is None:
        raise Invalid(_l("Enter the day the startup moved in."), {"checked_in_on": [_l("Enter the day the startup moved in.")]})
    placement.checked_in_on = checked_in_on


# ------------------------------------------------------------------ the scheduler's work


def _skipped(job: str):
    """Report a placement the job could not move (another unit changed it a moment ago, or it failed)."""
    def report(placement, error):
        # The identity, not ``placement.id``: the rollback expired it, and reading it must not fail again.
        placement_id = inspect(placement).identity
        if isinstance(error, Conflict):
            log.info("%s: placement %s changed meanwhile; skipped", job, placement_id)
        else:
            log.error("%s: placement %s failed", job, placement_id, exc_info=error)

    return report


def lapse_expired_offers(now: datetime | None = None) -> int:
    """Unanswered offers lapse at their expiry, freeing their space; each offer in a unit of its own."""
    now = now or utcnow()
    due = list(db.session.scalars(select(Placement).where(offer_expired_clause(now)).order_by(Placement.id)))
    each_in_own_unit(due, lambda placement: workflow.perform(placement, "lapse", None, now=now),
                     on_error=_skipped("lapse-offers"))
    return len(due)


def start_due_residencies(now: datetime | None = None) -> int:
    """Accepted placements become active on their first day, in the hub's time zone; each in a unit of its own."""
    now = now or utcnow()
    candidates = db.session.scalars(select(Placement).where(
        Placement.status == "accepted", Placement.starts_on <= (now + timedelta(days=1)).date())
        .options(*with_details()).order_by(Placement.id)).unique()
    due = [p for p in candidates if p.starts_on <= local_today(hub_zone(p), now)]
    return each_in_own_unit(due, lambda placement: workflow.perform(placement, "start", None, now=now),
                            on_error=_skipped("start-residencies"))


def complete_finished_residencies(now: datetime | None = None) -> int:
    """Active placements whose last day has passed (hub's time zone) are completed; each in a unit of its own."""
    now = now or utcnow()
    candidates = db.session.scalars(select(Placement).where(
        Placement.status == "active", Placement.ends_on < now.date() + timedelta(days=1))
        .options(*with_details()).order_by(Placement.id)).unique()
    due = [p for p in candidates if p.ends_on < local_today(hub_zone(p), now)]
    return each_in_own_unit(
        due, lambda placement: complete(placement=placement, actor=None, checked_out_on=placement.ends_on, now=now),
        on_error=_skipped("complete-residencies"))
