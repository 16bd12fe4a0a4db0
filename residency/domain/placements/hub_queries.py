"""What the hub reads about its placements: the inbox in the cluster's rank order,
occupancy month by month, and one placement with what may be done to it now.

Everything here only reads; offers, waitlisting, answers, the move-in day and
the residency itself are the services of ``placements.services``, which go
through the workflow engine.
"""
from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import Integer, and_, bindparam, case, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from residency.domain.applications import services as applications
from residency.domain.placements import services as placements
from residency.core import limits, pagination, workflow
from residency.domain.placements.hubs import own_hub
from residency.domain.placements.services import CHECK_IN_STATES
from residency.core.extensions import db
from residency.domain.applications.models import Application
from residency.domain.programme.models import Call, HubCapacity
from residency.domain.review.models import Nomination, Review
from residency.domain.accounts.models import Organisation, User
from residency.domain.placements.models import Placement
from residency.core.models import StatusChange
from residency.core.db import utcnow

# Sections of the inbox, in the order a hub administrator works through them.
WAITING = ("pending", "waitlisted")
OFFERED = ("offered",)
RUNNING = ("accepted", "active")
# An offer that was not taken frees its space for the next nominee on the waitlist.
FREED = ("declined", "lapsed")
MONTHS_SHOWN = 12
INBOX_SECTIONS = ("waiting", "offered", "running", "closed")
INBOX_PER_PAGE = 25


def hub_placement(actor: User, placement_id: int) -> Placement:
    """A placement at one of the actor's hubs; 404 for anyone who may not see it, 403 for one who may see it
    but does not act for its hub (its startup, a programme administrator)."""
    placement = db.session.scalar(select(Placement).where(Placement.id == placement_id).options(*placements.with_details()))
    return workflow.require(placement, actor, workflow.HUB)


def hub_today(hub: Organisation, now: datetime | None = None) -> date:
    return placements.local_today(hub.zone, now or utcnow())


# ------------------------------------------------------------------ review summary


@dataclass(frozen=True)
class ReviewSummary:
    mean: Decimal | None
    count: int


def _decimal(value) -> Decimal | None:
    """AVG answers a float on SQLite and a Decimal on PostgreSQL; show two decimals either way."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def review_summary(application_id: int) -> ReviewSummary:
    mean, n = db.session.execute(
        select(func.avg(Review.weighted_score), func.count(Review.id))
        .where(Review.application_id == application_id, Review.submitted_at.is_not(None))
    ).one()
    return ReviewSummary(_decimal(mean), n or 0)


# ------------------------------------------------------------------ the inbox


# What a row of the inbox shows of its placement, application, startup and call: plain values read in one
# statement of columns (the ORM's objects for the 118 rows of the seeded hub's page cost about 3 ms).
@dataclass(frozen=True)
class InboxStartup:
    name: str


@dataclass(frozen=True)
class InboxCall:
    id: int
    title: str
    timezone: str


@dataclass(frozen=True)
class InboxApplication:
    id: int
    call_id: int
    desired_start: date | None
    months: int | None
    desks: int | None
    benches: int | None
    startup: InboxStartup
    call: InboxCall


@dataclass(frozen=True)
class InboxPlacement:
    id: int
    status: str
    starts_on: date | None
    ends_on: date | None
    desks: int | None
    benches: int | None
    offer_expires_at: datetime | None
    checked_in_on: date | None
    application: InboxApplication


@dataclass
class InboxRow:
    placement: InboxPlacement
    rank: int | None
    rationale: str | None
    reviews: ReviewSummary | None  # read for the nominees waiting for a decision, the only ones that show them
    label: str
    next_in_line: bool = False

    @property
    def application(self) -> InboxApplication:
        return self.placement.application


@dataclass
class WaitlistPrompt:
    """An offer of this call lapsed or was declined while nominees wait on the waitlist."""

    call: InboxCall
    freed: list[InboxRow]
    next_row: InboxRow


@dataclass
class Inbox:
    """The hub's placements in four sections, each a page of its own (``<section>_page`` in the
    query string), and the prompts to offer the next waitlisted nominee."""

    hub: Organisation
    waiting: pagination.Page
    offered: pagination.Page
    running: pagination.Page
    closed: pagination.Page
    prompts: list[WaitlistPrompt] = field(default_factory=list)


def _rank_order():
    # Calls in the order of their residencies, nominees in the cluster's rank order within each call.
    return (Call.residency_starts_on, Call.id, Nomination.rank.is_(None), Nomination.rank, Placement.id)


def _inbox_row(placement: InboxPlacement, rank, rationale, reviews=None) -> InboxRow:
    return InboxRow(placement=placement, rank=rank, rationale=rationale, reviews=reviews,
                    label=workflow.get("placement").label(placement.status, False))


SECTION_STATUSES = {"waiting": WAITING, "offered": OFFERED, "running": RUNNING}
PROMPT = len(INBOX_SECTIONS)  # the kind of a row read for a waitlist prompt, not for a section's page


def _section_of(status: str) -> str:
    for name, statuses in SECTION_STATUSES.items():
        if status in statuses:
            return name
    return "closed"


@functools.cache
def _inbox_statements():
    """The inbox's statements, built once (on first use) with the hub, the day and each section's
    limit and offset as parameters: building them anew cost about a third of the page's time."""
    hub = bindparam("hub_id")
    counts = select(Placement.status, func.count()).where(Placement.hub_id == hub).group_by(Placement.status)
    closed = tuple(s for s in workflow.get("placement").states if _section_of(s) == "closed")

    def page_of(index: int, statuses):
        # One section in rank order, only its page (LIMIT and OFFSET): along the index of hub and status.
        ordered = (select(Placement.id.label("placement_id")).select_from(Placement)
                   .join(Call, Call.id == Placement.call_id)
                   .outerjoin(Nomination, Nomination.application_id == Placement.application_id)
                   .where(Placement.hub_id == hub, Placement.status.in_(statuses))
                   .order_by(*_rank_order())
                   .limit(bindparam(f"limit_{index}", type_=Integer))
                   .offset(bindparam(f"offset_{index}", type_=Integer))).subquery()
        return select(ordered.c.placement_id, literal(index, Integer).label("kind"))

    other = aliased(Placement)

    def in_same_call(*statuses):
        # Along the index of hub, call and status: the hub's few freed or waitlisted placements of the call.
        return select(other.id).where(other.hub_id == hub, other.call_id == Placement.call_id,
                                      other.status.in_(statuses)).exists()

    # An offer that was not taken while a nominee waits on the waitlist of the same call, while the call's
    # residency window lies ahead (an offer must be answered before the residency starts).
    prompts = (select(Placement.id, literal(PROMPT, Integer)).join(Call, Call.id == Placement.call_id)
               .where(Placement.hub_id == hub, Call.residency_ends_on > bindparam("today"),
                      or_(and_(Placement.status.in_(FREED), in_same_call("waitlisted")),
                          and_(Placement.status == "waitlisted", in_same_call(*FREED)))))
    sections = [page_of(i, SECTION_STATUSES.get(name, closed)) for i, name in enumerate(INBOX_SECTIONS)]
    picked = union_all(*sections, prompts)

    submitted = and_(Review.application_id == Placement.application_id, Review.submitted_at.is_not(None))
    waiting = Placement.status.in_(WAITING)
    # Correlated: evaluated for the waiting rows of this statement only.
    mean = case((waiting, select(func.avg(Review.weighted_score)).where(submitted).scalar_subquery()))
    reviews = case((waiting, select(func.count(Review.id)).where(submitted).scalar_subquery()))
    rows = (
        select(Placement.id, Placement.status, Placement.starts_on, Placement.ends_on, Placement.desks,
               Placement.benches, Placement.offer_expires_at, Placement.checked_in_on,
               Application.id.label("application_id"), Application.desired_start, Application.months,
               Application.desks.label("asked_desks"), Application.benches.label("asked_benches"),
               Organisation.name.label("startup_name"), Call.id.label("call_id"), Call.title.label("call_title"),
               Call.timezone.label("call_timezone"), Nomination.rank, Nomination.rationale,
               mean.label("mean_score"), reviews.label("reviews"))
        .select_from(Placement)
        .join(Application, Application.id == Placement.application_id)
        .join(Call, Call.id == Application.call_id)
        .join(Organisation, Organisation.id == Application.startup_id)
        .outerjoin(Nomination, Nomination.application_id == Placement.application_id)
        # The startup's name and the call are shown; the application's answers, criteria and funders are not.
        .where(Placement.id.in_(bindparam("ids", expanding=True)))
        .order_by(*_rank_order())
    )
    return counts, picked, rows


def inbox(actor: User, hub_id: int, pages: dict[str, int] | None = None, per_page: int = INBOX_PER_PAGE,
          now: datetime | None = None) -> Inbox:
    """The hub's placements by section, each section one page (``pages``: section -> page number,
    past the end the last page) in rank order, and a prompt per call where an offer was not
    taken and a nominee waits on the waitlist, while the call's residency window lies ahead.

    Three statements besides the hub, whatever the hub holds: the sections' sizes (GROUP BY
    along the index of hub and status); the placements of each section's page (its LIMIT and
    OFFSET) and of the prompts; then those rows with what they show (no answers decoded), and
    the review summary of the waiting page's applications only."""
    hub = own_hub(actor, hub_id)
    pages = pages or {}
    counts, picked_stmt, rows_stmt = _inbox_statements()
    totals = dict.fromkeys(INBOX_SECTIONS, 0)
    for status, n in db.session.execute(counts, {"hub_id": hub.id}):
        totals[_section_of(status)] += n
    params = {"hub_id": hub.id, "today": hub_today(hub, now)}
    for index, name in enumerate(INBOX_SECTIONS):
        shown = pagination.shown_page(pages.get(name, 1), totals[name], per_page)
        params[f"limit_{index}"] = per_page if totals[name] else 0
        params[f"offset_{index}"] = (shown - 1) * per_page
    on_a_page: set[int] = set()
    in_a_prompt: set[int] = set()
    for placement_id, kind in db.session.execute(picked_stmt, params):
        (in_a_prompt if kind == PROMPT else on_a_page).add(placement_id)
    rows = {name: [] for name in INBOX_SECTIONS}
    by_call: dict[int, list[InboxRow]] = {}
    if on_a_page or in_a_prompt:
        calls: dict[int, InboxCall] = {}
        for r in db.session.execute(rows_stmt, {"ids": sorted(on_a_page | in_a_prompt)}):
            call = calls.get(r.call_id) or calls.setdefault(r.call_id, InboxCall(r.call_id, r.call_title, r.call_timezone))
            application = InboxApplication(r.application_id, r.call_id, r.desired_start, r.months, r.asked_desks,
                                           r.asked_benches, InboxStartup(r.startup_name), call)
            placement = InboxPlacement(r.id, r.status, r.starts_on, r.ends_on, r.desks, r.benches, r.offer_expires_at,
                                       r.checked_in_on, application)
            name = _section_of(placement.status)
            row = _inbox_row(placement, r.rank, r.rationale,
                             ReviewSummary(_decimal(r.mean_score), r.reviews or 0) if name == "waiting" else None)
            if placement.id in on_a_page:
                rows[name].append(row)
            if placement.id in in_a_prompt:
                by_call.setdefault(placement.application.call_id, []).append(row)
    prompts = []
    for call_rows in by_call.values():
        freed = [r for r in call_rows if r.placement.status in FREED]
        waitlisted = [r for r in call_rows if r.placement.status == "waitlisted"]
        if freed and waitlisted:
            waitlisted[0].next_in_line = True  # the same row as on the waiting page, when it is on it
            prompts.append(WaitlistPrompt(call=call_rows[0].application.call, freed=freed, next_row=waitlisted[0]))
    sections = {name: pagination.numbered(rows[name], pages.get(name, 1), totals[name], per_page, param=f"{name}_page")
                for name in INBOX_SECTIONS}
    return Inbox(hub=hub, prompts=prompts, **sections)


# ------------------------------------------------------------------ occupancy


@dataclass
class MonthUse:
    """One month of one kind of space. ``busiest_day`` is the day with the most space booked
    or offered (ties: the day with the least capacity); ``free`` is the least room left on
    any day of the month, which is what a new offer must fit into."""

    month: date
    busiest_day: date
    capacity: int
    booked: int
    offered: int
    free: int
    lowest_capacity: int
    highest_capacity: int
    overbooked: bool

    @property
    def used(self) -> int:
        return self.booked + self.offered

    @property
    def capacity_varies(self) -> bool:
        return self.lowest_capacity != self.highest_capacity


@dataclass
class KindUse:
    kind: str  # desks or benches
    label: object
    months: list[MonthUse]

    @property
    def scale(self) -> int:
        """The largest number on the chart's axis."""
        return max([1] + [max(m.highest_capacity, m.used) for m in self.months])


@dataclass
class Occupancy:
    hub: Organisation
    first_month: date
    last_day: date
    kinds: list[KindUse]

    @property
    def previous_month(self) -> date:
        return add_months(self.first_month, -MONTHS_SHOWN)

    @property
    def next_month(self) -> date:
        return add_months(self.first_month, MONTHS_SHOWN)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), on the month's last day where it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def parse_month(value: str | None) -> date | None:
    """'2030-03' as the first of March 2030; None for anything else, and for a month outside
    the dates the service keeps (``limits.FIRST_DAY`` to ``limits.LAST_DAY``)."""
    try:
        year, month = (value or "").strip().split("-")
        if len(year) != 4 or not 1 <= len(month) <= 2:
            return None
        first = date(int(year), int(month), 1)
    except ValueError:
        return None
    return first if limits.date_within(first) else None


def _daily_by_status(hub_id: int, first: date, last: date):
    """Capacity, booked (accepted, active) and offered desks and benches per day: two queries."""
    days = (last - first).days + 1
    cap = {"desks": [0] * days, "benches": [0] * days}
    booked = {"desks": [0] * days, "benches": [0] * days}
    offered = {"desks": [0] * days, "benches": [0] * days}
    for starts_on, ends_on, desks, benches in db.session.execute(
            select(HubCapacity.starts_on, HubCapacity.ends_on, HubCapacity.desks, HubCapacity.benches).where(
                HubCapacity.hub_id == hub_id, HubCapacity.starts_on <= last, HubCapacity.ends_on >= first)):
        for i in range(max(0, (starts_on - first).days), min(days, (ends_on - first).days + 1)):
            cap["desks"][i] += desks
            cap["benches"][i] += benches
    for status, starts_on, ends_on, desks, benches in db.session.execute(
            select(Placement.status, Placement.starts_on, Placement.ends_on, Placement.desks, Placement.benches).where(
                Placement.hub_id == hub_id, Placement.status.in_(placements.HOLDING),
                Placement.starts_on <= last, Placement.ends_on >= first)):
        target = offered if status == "offered" else booked
        for i in range(max(0, (starts_on - first).days), min(days, (ends_on - first).days + 1)):
            target["desks"][i] += desks
            target["benches"][i] += benches
    return cap, booked, offered


def occupancy(actor: User, hub_id: int, first_month: date | None = None, now: datetime | None = None) -> Occupancy:
    """Desks and benches month by month over twelve months: capacity against booked and offered."""
    hub = own_hub(actor, hub_id)
    first = (first_month or hub_today(hub, now)).replace(day=1)
    last = add_months(first, MONTHS_SHOWN) - timedelta(days=1)
    cap, booked, offered = _daily_by_status(hub.id, first, last)
    kinds = []
    for kind, label in (("desks", _l("Office desks")), ("benches", _l("Lab benches"))):
        months = []
        for m in range(MONTHS_SHOWN):
            start = add_months(first, m)
            lo, hi = (start - first).days, (add_months(start, 1) - first).days
            days = range(lo, hi)
            busiest = max(days, key=lambda i: (booked[kind][i] + offered[kind][i], -cap[kind][i], -i))
            months.append(MonthUse(
                month=start, busiest_day=first + timedelta(days=busiest), capacity=cap[kind][busiest],
                booked=booked[kind][busiest], offered=offered[kind][busiest],
                free=max(0, min(cap[kind][i] - booked[kind][i] - offered[kind][i] for i in days)),
                lowest_capacity=min(cap[kind][lo:hi]), highest_capacity=max(cap[kind][lo:hi]),
                overbooked=any(booked[kind][i] + offered[kind][i] > cap[kind][i] for i in days),
            ))
        kinds.append(KindUse(kind=kind, label=label, months=months))
    return Occupancy(hub=hub, first_month=first, last_day=last, kinds=kinds)


# ------------------------------------------------------------------ one placement


@dataclass
class PlacementPage:
    placement: Placement
    nomination: Nomination | None
    reviews: ReviewSummary
    history: list[StatusChange]
    actions: set[str]
    label: str
    zone: str
    today: date
    can_check_in: bool
    # Every answer of the nominee's application by section in the form's order (its files too).
    answers: list = field(default_factory=list)


def placement_page(actor: User, placement_id: int, now: datetime | None = None) -> PlacementPage:
    """One placement at the actor's hub: the application, nomination, reviews, history and the actions allowed now."""
    placement = hub_placement(actor, placement_id)
    zone = placements.hub_zone(placement)
    answers = applications.answers_in_order(placement.application)
    return PlacementPage(
        placement=placement,
        nomination=db.session.scalar(select(Nomination).where(Nomination.application_id == placement.application_id)),
        reviews=review_summary(placement.application_id),
        history=_with_actors(workflow.history(placement, for_applicant=False)),
        actions={t.action for t in workflow.allowed_actions(placement, actor)},
        label=workflow.get("placement").label(placement.status, False),
        zone=zone,
        today=placements.local_today(zone, now or utcnow()),
        can_check_in=placement.status in CHECK_IN_STATES,
        answers=answers,
    )


def _with_actors(history: list[StatusChange]) -> list[StatusChange]:
    """Load who made each change in one query, so that the page reads their names without one query per entry."""
    actor_ids = {change.actor_id for change in history if change.actor_id is not None}
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    for change in history:
        set_committed_value(change, "actor", actors.get(change.actor_id))
    return history


def offer_terms(placement: Placement) -> dict:
    """The form to change an offer, prefilled with the offer as it stands (the answer-by day in the hub's zone)."""
    expires_on = None
    if placement.offer_expires_at is not None:
        expires_on = placement.offer_expires_at.astimezone(ZoneInfo(placements.hub_zone(placement))).date()
    return {"starts_on": placement.starts_on, "ends_on": placement.ends_on, "desks": placement.desks,
            "benches": placement.benches, "offer_expires_on": expires_on, "conditions": placement.conditions or ""}


def offer_defaults(placement: Placement, now: datetime | None = None) -> dict:
    """The offer form prefilled from what the startup asked for, inside the call's window:
    its desired start and months, desks and benches, and two weeks to answer."""
    application, call = placement.application, placement.application.call
    today = placements.local_today(placements.hub_zone(placement), now or utcnow())
    starts_on = placement.starts_on or application.desired_start or call.residency_starts_on
    starts_on = min(max(starts_on, call.residency_starts_on), call.residency_ends_on)
    ends_on = placement.ends_on
    if ends_on is None and application.months:
        ends_on = min(add_months(starts_on, application.months) - timedelta(days=1), call.residency_ends_on)
    expires_on = min(today + timedelta(days=14), starts_on - timedelta(days=1))
    return {
        "starts_on": starts_on,
        "ends_on": ends_on,
        "desks": placement.desks if placement.desks is not None else application.desks,
        "benches": placement.benches if placement.benches is not None else application.benches,
        "offer_expires_on": expires_on if expires_on > today else None,
        "conditions": placement.conditions or "",
    }
