"""A private iCalendar feed per user, for any calendar program that subscribes to a URL.

The address carries the user's ``calendar_token``; making a new token revokes the
old address. The feed holds, for each of the user's organisations:

- startups: their residencies (all-day, last day included), the time an offer
  lapses, and the closing time of their drafts in calls still open;
- hubs: the residencies and offers at the hub;
- clusters: the nomination deadlines of the calls they nominate for.

Days are all-day events (DTEND is the day after the last, as RFC 5545 wants);
moments carry the TZID of the hub's or call's zone, with its VTIMEZONE.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from residency.core.i18n import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from residency.domain.placements import services as placement_rules
from residency.core import limits, workflow
from residency.core.extensions import db
from residency.core.i18n import format_day
from residency.domain.placements.models import DATED_STATES, Placement
from residency.core.uow import service
from residency.domain.applications import rules as application_rules
from residency.domain.applications.models import Application, DeadlineExtension
from residency.domain.programme.models import Call, Route
from residency.domain.accounts.scope import Scope
from residency.domain.accounts.models import User
from residency.core.db import utcnow

PRODID = "-//Nordic Residency Exchange//Calendar feed//EN"
UID_DOMAIN = "nordic-residency-exchange"
TOKEN_BYTES = 32  # 43 URL-safe characters, within the column's 64


# ------------------------------------------------------------------ the token


def user_for_token(token: str | None) -> User | None:
    """The user whose feed this address is, or None."""
    if not token or len(token) > 64 or limits.has_control_characters(token):  # no feed address holds one
        return None
    return db.session.scalar(select(User).where(User.calendar_token == token))


@service
def new_token(*, actor: User) -> str:
    """Give the actor a new feed address; the old one stops working at once."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    actor.calendar_token = token
    return token


@service
def stop_feed(*, actor: User) -> None:
    """Revoke the actor's feed address without making a new one."""
    actor.calendar_token = None


# ------------------------------------------------------------------ the feed


def feed(user: User, *, base_url: str = "", now: datetime | None = None) -> bytes:
    """The user's calendar as iCalendar text, in the user's language."""
    now = now or utcnow()
    language = user.language or current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    with force_locale(language):
        events = _events(user, base_url.rstrip("/"), now)
        calendar = Calendar.new(prodid=PRODID, name=_("Nordic Residency Exchange: %(name)s", name=user.name),
                                refresh_interval=timedelta(hours=6))
    seen = set()
    moments = []
    for event in events:
        if event.uid in seen:
            continue  # someone in both the startup and the hub sees one residency once
        seen.add(event.uid)
        event.stamp = now
        calendar.add_component(event)
        if isinstance(event.start, datetime):
            moments.append(event.start.date())
    if moments:
        calendar.add_missing_timezones(first_date=min(moments) - timedelta(days=366),
                                       last_date=max(moments) + timedelta(days=366))
    return calendar.to_ical()


def _moment(value: datetime, zone: str) -> datetime:
    return value.astimezone(ZoneInfo(zone))


def _all_day(uid: str, summary: str, first: date, last: date, description: str, url: str, tentative: bool) -> Event:
    return Event.new(uid=uid, summary=summary, start=first, end=last + timedelta(days=1), description=description,
                     url=url or None, status="TENTATIVE" if tentative else "CONFIRMED", transparency="TRANSPARENT")


def _at(uid: str, summary: str, when: datetime, zone: str, description: str, url: str) -> Event:
    local = _moment(when, zone).replace(microsecond=0)
    return Event.new(uid=uid, summary=summary, start=local, end=local, description=description, url=url or None,
                     transparency="TRANSPARENT")


def _events(user: User, base_url: str, now: datetime) -> list[Event]:
    startup_ids = [o.id for o in user.organisations("startup")]
    hub_ids = [o.id for o in user.organisations("hub")]
    cluster_ids = Scope.of(user).cluster_ids
    events = []
    if startup_ids or hub_ids:
        events += _placement_events(user, startup_ids, hub_ids, base_url)
    if startup_ids:
        events += _draft_deadlines(startup_ids, base_url, now)
    if cluster_ids:
        events += _nomination_deadlines(cluster_ids, base_url)
    return events


def _placement_events(user: User, startup_ids: list[int], hub_ids: list[int], base_url: str) -> list[Event]:
    """Residencies and offers of the user's startups and at the user's hubs (one query)."""
    conditions = []
    if startup_ids:
        conditions.append(Placement.application.has(Application.startup_id.in_(startup_ids)))
    if hub_ids:
        conditions.append(Placement.hub_id.in_(hub_ids))
    rows = db.session.scalars(
        select(Placement).where(Placement.status.in_(DATED_STATES), or_(*conditions))
        .options(*placement_rules.with_details())
        .order_by(Placement.starts_on, Placement.id)
    ).unique()
    events = []
    for p in rows:
        startup, hub = p.application.startup.name, p.hub.name
        as_startup = p.application.startup_id in startup_ids
        zone = placement_rules.hub_zone(p)
        url = f"{base_url}/startup/placements/{p.id}" if as_startup else f"{base_url}/hub/placements/{p.id}"
        label = workflow.get("placement").label(p.status, for_applicant=as_startup)
        last = p.checked_out_on if p.status == "terminated" and p.checked_out_on else p.ends_on
        if p.status == "offered":
            summary = (_("Offered residency at %(hub)s (%(startup)s), not yet accepted", hub=hub, startup=startup) if as_startup
                       else _("Offered residency of %(startup)s at %(hub)s, awaiting the answer", hub=hub, startup=startup))
        else:
            summary = (_("Residency at %(hub)s (%(startup)s)", hub=hub, startup=startup) if as_startup
                       else _("Residency of %(startup)s at %(hub)s", hub=hub, startup=startup))
        description = _("%(status)s. Office desks: %(desks)d; lab benches: %(benches)d; %(first)s to %(last)s.",
                        status=label, desks=p.desks, benches=p.benches, first=format_day(p.starts_on), last=format_day(last))
        events.append(_all_day(f"placement-{p.id}-residency@{UID_DOMAIN}", summary, p.starts_on, last, description, url,
                               tentative=p.status == "offered"))
        if p.status == "offered" and p.offer_expires_at:
            summary = (_("The offer of %(hub)s lapses unless you answer (%(startup)s)", hub=hub, startup=startup) if as_startup
                       else _("The offer to %(startup)s lapses unless answered", startup=startup))
            events.append(_at(f"placement-{p.id}-offer-expiry@{UID_DOMAIN}", summary, p.offer_expires_at, zone,
                              _("Time zone: %(zone)s.", zone=zone), url))
    return events


def _draft_deadlines(startup_ids: list[int], base_url: str, now: datetime) -> list[Event]:
    """The closing time of every draft whose call still accepts it (two queries)."""
    drafts = list(db.session.scalars(
        select(Application).where(Application.startup_id.in_(startup_ids), Application.status == "draft")
        .options(joinedload(Application.startup), joinedload(Application.call))
        .order_by(Application.id)
    ).unique())
    if not drafts:
        return []
    extended = application_rules.latest_extensions(DeadlineExtension.startup_id.in_(startup_ids))
    events = []
    for a in drafts:
        call = a.call
        deadline = application_rules.deadline_with(call, extended.get((call.id, a.startup_id)))
        if call.status not in ("published", "closed") or not call.opens_at <= now < deadline:
            continue
        events.append(_at(
            f"application-{a.id}-deadline@{UID_DOMAIN}",
            _("Application deadline: %(call)s (%(startup)s, draft not yet submitted)", call=call.title, startup=a.startup.name),
            deadline, call.timezone, _("Time zone: %(zone)s.", zone=call.timezone), f"{base_url}/startup/applications/{a.id}"))
    return events


def _nomination_deadlines(cluster_ids: list[int], base_url: str) -> list[Event]:
    """The nomination deadline of every published or closed call the user's clusters nominate for (one query)."""
    calls = db.session.scalars(
        select(Call).join(Call.route).where(Route.cluster_id.in_(cluster_ids), Call.status.in_(("published", "closed")))
        
        .order_by(Call.nomination_deadline, Call.id)
    ).unique()
    return [
        _at(f"call-{call.id}-nomination-deadline@{UID_DOMAIN}", _("Nomination deadline: %(call)s", call=call.title),
            call.nomination_deadline, call.timezone, _("Time zone: %(zone)s.", zone=call.timezone),
            f"{base_url}/cluster/calls/{call.id}")
        for call in calls
    ]
