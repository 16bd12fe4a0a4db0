"""The hub's area: its capacity over time and the calls of routes it hosts.

A hub administrator sees and changes only the hubs they belong to.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from residency.core.i18n import lazy_gettext as _l
from residency.core.i18n import ngettext
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from residency.core import limits
from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.extensions import db
from residency.core.uow import service
from residency.core.i18n import format_day
from residency.domain.programme.models import Call, HubCapacity, Route
from residency.domain.accounts.models import Organisation, User
from residency.domain.placements.services import lock_hub, overbooked_ranges


@dataclass
class HubOverview:
    hub: Organisation
    capacity: list[HubCapacity] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)


def own_hub(actor: User, hub_id: int) -> Organisation:
    """The hub, if the actor administers it; 404 otherwise."""
    hub = db.session.get(Organisation, hub_id)
    if hub is None or hub.kind != "hub" or not actor.is_member_of(hub.id):
        raise NotFound(_l("There is nothing here, or it is not yours to see."))
    return hub


def _overviews(hubs: list[Organisation]) -> list[HubOverview]:
    """Capacity periods and hosted calls of the hubs: two queries whatever their number."""
    if not hubs:
        return []
    by_id = {h.id: HubOverview(hub=h) for h in hubs}
    for period in db.session.scalars(
        select(HubCapacity).where(HubCapacity.hub_id.in_(list(by_id)))
        .order_by(HubCapacity.starts_on, HubCapacity.id)
    ):
        by_id[period.hub_id].capacity.append(period)
    for call in db.session.scalars(
        select(Call).join(Call.route).where(Route.host_hub_id.in_(list(by_id)))
        .options(contains_eager(Call.route))
        .order_by(Call.residency_starts_on.desc(), Call.id.desc())
    ):
        by_id[call.route.host_hub_id].calls.append(call)
    return list(by_id.values())


def dashboard(actor: User) -> list[HubOverview]:
    """The actor's hubs with their capacity periods and the calls of the routes they host."""
    hubs = sorted(actor.organisations("hub"), key=lambda h: (h.name.lower(), h.id))
    return _overviews(hubs)


def hub_overview(actor: User, hub_id: int) -> HubOverview:
    """One of the actor's hubs; 404 for any other."""
    return _overviews([own_hub(actor, hub_id)])[0]


@service
def add_capacity(*, actor: User, hub_id: int, starts_on: date, ends_on: date, desks: int, benches: int) -> HubCapacity:
    """Add a capacity period; refuse bad numbers, reversed dates and a period that overlaps another."""
    hub = own_hub(actor, hub_id)
    errors: dict[str, list] = {}
    if not isinstance(starts_on, date):
        errors["starts_on"] = [_l("Enter the first day of the period.")]
    if not isinstance(ends_on, date):
        errors["ends_on"] = [_l("Enter the last day of the period.")]
    elif isinstance(starts_on, date) and ends_on < starts_on:
        errors["ends_on"] = [_l("The last day cannot be before the first day.")]
    for name, value in (("desks", desks), ("benches", benches)):
        if not isinstance(value, int) or value < 0:
            errors[name] = [_l("Enter a whole number of 0 or more.")]
        elif value > limits.HUB_SPACE_MAX:
            errors[name] = [limits.number_message(0, limits.HUB_SPACE_MAX)]
    if errors:
        raise Invalid(_l("Please correct the marked fields."), errors)

    lock_hub(hub.id)  # two periods added at once cannot both pass the overlap check
    # Periods are inclusive at both ends: they overlap when each starts before the other ends.
    clash = db.session.scalar(
        select(HubCapacity)
        .where(HubCapacity.hub_id == hub.id, HubCapacity.starts_on <= ends_on, HubCapacity.ends_on >= starts_on)
        .order_by(HubCapacity.starts_on).limit(1)
    )
    if clash is not None:
        message = _l(
            "This period overlaps the existing period %(start)s – %(end)s on the days %(overlap_start)s – %(overlap_end)s. "
            "Change the dates, or delete the existing period first.",
            start=format_day(clash.starts_on), end=format_day(clash.ends_on),
            overlap_start=format_day(max(starts_on, clash.starts_on)), overlap_end=format_day(min(ends_on, clash.ends_on)),
        )
        raise Invalid(message, {"starts_on": [message]})

    period = HubCapacity(hub=hub, starts_on=starts_on, ends_on=ends_on, desks=desks, benches=benches)
    db.session.add(period)
    return period


def capacity_period(actor: User, hub_id: int, capacity_id: int) -> HubCapacity:
    """One capacity period of one of the actor's hubs; 404 for any other (or one deleted meanwhile)."""
    hub = own_hub(actor, hub_id)
    period = db.session.get(HubCapacity, capacity_id)
    if period is None or period.hub_id != hub.id:
        raise NotFound(_l("This capacity period no longer exists; it may have been deleted in another tab."))
    return period


@service
def delete_capacity(*, actor: User, hub_id: int, capacity_id: int) -> tuple[date, date]:
    """Remove one of the hub's capacity periods; return its first and last day. A period whose
    space placements booked or offered still need stays (ids are never reused, so a stale page's
    delete of a period removed meanwhile is a 404, never a newer period)."""
    hub = own_hub(actor, hub_id)
    lock_hub(hub.id)
    period = db.session.get(HubCapacity, capacity_id)
    if period is None or period.hub_id != hub.id:
        raise NotFound(_l("This capacity period no longer exists; it may have been deleted in another tab."))
    days = (period.starts_on, period.ends_on)
    db.session.delete(period)
    db.session.flush()
    problems = overbooked_ranges(hub.id, *days)
    if problems:
        first = problems[0]
        if first.kind == "desks":
            space = ngettext("%(num)s office desk", "%(num)s office desks", first.used)
        else:
            space = ngettext("%(num)s lab bench", "%(num)s lab benches", first.used)
        raise Conflict(_l("Placements booked or offered use this period's space (%(space)s from %(first)s to %(last)s); "
                          "the period stays. Move or end those placements first.",
                          space=space, first=format_day(first.first), last=format_day(first.last)))
    return days
