"""Programme insight: figures for dashboards, scoped to what the viewer may see.

Programme administrators see everything; a cluster sees the calls of its routes;
a hub sees its placements (and the calls of the routes it hosts); a funder sees
its schemes (and the residencies they fund). Everything here only reads, and
each figure costs a fixed number of queries whatever the number of rows, and is
aggregated in the database (counts, ``money_sum``, ``median_by``, running sums), so only
the figures, never the records, come back. The funnel and the decision times, which would
read every application and much of the audit trail, are read from summary tables the
scheduler rebuilds (``summaries``), once it has built them.
"""
from __future__ import annotations

import threading
from dataclasses import astuple, dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import Date, Integer, String, and_, case, cast, exists, func, literal, null, or_, select, true, type_coerce, union_all
from sqlalchemy.orm import aliased

from residency.core import limits, pagination
from residency.core.errors import Forbidden, NotFound
from residency.core.extensions import db
from residency.domain.accounts.scope import Scope
from residency.domain.funding import scope as funding_scope
from residency.domain.placements import scope as placement_scope
from residency.domain.placements.hub_queries import add_months, parse_month
from residency.domain.impact.models import SURVEY_MONTHS, ImpactSurvey
from residency.domain.accounts.models import COUNTRIES, TRACKS, Organisation, User
from residency.domain.applications.models import Application
from residency.domain.applications.rules import ever_submitted_clause
from residency.domain.programme.models import Call, HubCapacity, Route
from residency.domain.programme.labels import route_label
from residency.domain.accounts.labels import TRACK_LABELS
from residency.domain.funding.models import Disbursement, FundingApplication, FundingScheme
from residency.domain.placements.models import Placement
from residency.core.models import StatusChange
from residency.core.db import day_after, median_by, money_sum, seconds_between, utcnow
from residency.domain.funding.models import GRANTED_STATES
from residency.domain.placements.services import HOLDING
from residency.domain.insight.models import DECISIONS, InsightDecision, InsightFunnel, InsightRefresh

# The funnel, stage by stage; each application counts in every stage it has reached.
STAGES = ("applied", "submitted", "nominated", "offered", "accepted", "active", "completed")
STAGE_LABELS = {
    "applied": _l("Applied"),
    "submitted": _l("Submitted"),
    "nominated": _l("Nominated"),
    "offered": _l("Offered"),
    "accepted": _l("Accepted"),
    "active": _l("In residence"),
    "completed": _l("Completed"),
}
# Placement states that imply the placement reached the stage.
REACHED = {
    "offered": {"offered", "accepted", "declined", "lapsed", "active", "completed", "terminated"},
    "accepted": {"accepted", "active", "completed", "terminated"},
    "active": {"active", "completed", "terminated"},
    "completed": {"completed"},
}
DECISION_LABELS = {
    "nomination": _l("Nomination or decline"),
    "offer": _l("Placement offer"),
    "grant": _l("Funding grant"),
}
MONTHS_SHOWN = 12


# ------------------------------------------------------------------ scope


def scope_for(actor: User) -> Scope:
    """The viewer's scope; 403 for someone with no staff role (an applicant, say)."""
    scope = Scope.of(actor)
    if not scope.staff:
        raise Forbidden(_l("Insight is for programme, cluster, hub and funder staff."))
    return scope


def sees_calls(scope: Scope) -> bool:
    return scope.admin or bool(scope.cluster_ids or scope.hub_ids)


def sees_hubs(scope: Scope) -> bool:
    return scope.admin or bool(scope.hub_ids)


def sees_funding(scope: Scope) -> bool:
    return scope.admin or bool(scope.funder_ids)


def staffed_calls_clause(scope: Scope):
    """SQL: calls in scope, those of the cluster's routes or of the routes the hub hosts (join ``Route`` first)."""
    return or_(scope.everything(), scope.clusters(Route.cluster_id), scope.hubs(Route.host_hub_id))


def _hubs_clause(scope: Scope, column):
    return or_(scope.everything(), scope.hubs(column))


def _placements_clause(scope: Scope):
    """SQL: placements in scope: at the viewer's hub, in the cluster's calls, or funded by the funder's schemes."""
    return or_(placement_scope.staff_clause(scope), funding_scope.funded_placements_clause(scope))


# ------------------------------------------------------------------ filters


@dataclass
class Filters:
    call_id: int | None = None
    route_id: int | None = None
    country: str | None = None
    track: str | None = None


def _int(value) -> int | None:
    """A filter's id; a number no record can have is 0, which is found nowhere (404)."""
    try:
        return limits.parse_int(value) if value not in (None, "") else None
    except limits.OutOfBounds:
        return 0
    except (TypeError, ValueError):
        return None


def parse_filters(args, scope: Scope) -> Filters:
    """Filters from GET parameters. A call or route outside the viewer's scope answers 404,
    as if it did not exist; unknown countries and tracks are ignored."""
    filters = Filters(call_id=_int(args.get("call")), route_id=_int(args.get("route")),
                      country=args.get("country") if args.get("country") in COUNTRIES else None,
                      track=args.get("track") if args.get("track") in TRACKS else None)
    if filters.call_id is not None:
        found = db.session.scalar(select(Call.id).join(Route, Call.route_id == Route.id).where(
            Call.id == filters.call_id, staffed_calls_clause(scope)))
        if found is None:
            raise NotFound(_l("There is nothing here, or it is not yours to see."))
    if filters.route_id is not None:
        found = db.session.scalar(select(Route.id).where(Route.id == filters.route_id, staffed_calls_clause(scope)))
        if found is None:
            raise NotFound(_l("There is nothing here, or it is not yours to see."))
    return filters


def filter_choices(scope: Scope) -> dict:
    """The calls and routes the viewer may filter by (two queries)."""
    if not sees_calls(scope):
        return {"calls": [], "routes": []}
    calls = db.session.execute(select(Call.id, Call.title).join(Route, Call.route_id == Route.id)
                               .where(staffed_calls_clause(scope)).order_by(Call.opens_at.desc(), Call.id)).all()
    hub = Organisation.__table__.alias("hub")
    routes = db.session.execute(select(Route.id, Route.home_country, hub.c.name).join(hub, hub.c.id == Route.host_hub_id)
                                .where(staffed_calls_clause(scope)).order_by(Route.home_country, hub.c.name)).all()
    return {"calls": calls, "routes": routes}


# ------------------------------------------------------------------ sources
# The funnel and the decision times read a source with the columns of the summary tables
# (``models.InsightFunnel``, ``models.InsightDecision``): the tables themselves, rebuilt by the
# scheduler (``summaries.refresh``), or the same rows counted from the records within the query
# (``funnel_rows``, ``decision_rows``, from which the tables are rebuilt). Scope and filters
# apply to either alike, so both give the same figures.


def funnel_rows():
    """SQL: the rows of ``InsightFunnel`` counted from the records: applications not withdrawn
    by call, home country and track, and how many of them reached each stage."""
    nominated = Application.status == "nominated"
    track = func.coalesce(Application.track, Organisation.track)

    def count(condition):
        return func.count(case((condition, 1)))

    return (select(Application.call_id.label("call_id"), Organisation.country.label("country"), track.label("track"),
                   func.count().label("applied"), count(ever_submitted_clause()).label("submitted"),
                   count(nominated).label("nominated"),
                   *(count(and_(nominated, Placement.status.in_(REACHED[s]))).label(s) for s in STAGES[3:]))
            .select_from(Application)
            .join(Organisation, Application.startup_id == Organisation.id)
            .outerjoin(Placement, Placement.application_id == Application.id)
            .where(Application.status != "withdrawn")
            .group_by(Application.call_id, Organisation.country, track))


def _first_entries(workflow: str, to_states: tuple, name: str, after=None):
    """SQL: (record_id, at) of each record's first entry into one of ``to_states`` (at or after
    ``after.c.at`` of the same record, if given): read by workflow and target state from
    ``ix_status_change_transition`` alone, never by reading the trail."""
    change = aliased(StatusChange, name=f"{name}_change")
    stmt = select(change.record_id.label("record_id"), func.min(change.created_at).label("at")).where(
        change.workflow == workflow, change.to_state.in_(to_states))
    if after is not None:
        stmt = stmt.join(after, and_(after.c.record_id == change.record_id, change.created_at >= after.c.at))
    return stmt.group_by(change.record_id).subquery(name)


def decision_rows():
    """SQL: the rows of ``InsightDecision`` from the audit trail, with the whole seconds each
    decision took from the record's first submission (its first entry into "submitted"): each
    application's first nomination or decline after it and its placement's first offer, and
    each funding application's first grant after it."""
    submitted = _first_entries("application", ("submitted",), "first_submit")
    decided = _first_entries("application", ("nominated", "not_nominated"), "first_decision", after=submitted)
    placement_offered = _first_entries("placement", ("offered",), "first_offer")
    funding_submitted = _first_entries("funding", ("submitted",), "first_funding_submit")
    granted = _first_entries("funding", ("granted",), "first_grant", after=funding_submitted)
    track = func.coalesce(Application.track, Organisation.track)

    def of_applications(decision: str, at, *joins):
        stmt = select(literal(decision).label("decision"), Application.call_id.label("call_id"),
                      cast(null(), Integer).label("scheme_id"), Organisation.country.label("country"),
                      track.label("track"), seconds_between(submitted.c.at, at).label("seconds")).select_from(submitted)
        for target, on in joins:
            stmt = stmt.join(target, on)
        return (stmt.join(Application, Application.id == submitted.c.record_id)
                .join(Organisation, Application.startup_id == Organisation.id))

    nominations = of_applications("nomination", decided.c.at, (decided, decided.c.record_id == submitted.c.record_id))
    offers = of_applications("offer", placement_offered.c.at,
                             (Placement, Placement.application_id == submitted.c.record_id),
                             (placement_offered, placement_offered.c.record_id == Placement.id))
    grants = (select(literal("grant"), cast(null(), Integer), FundingApplication.scheme_id, cast(null(), String),
                     cast(null(), String), seconds_between(funding_submitted.c.at, granted.c.at))
              .select_from(granted)
              .join(funding_submitted, funding_submitted.c.record_id == granted.c.record_id)
              .join(FundingApplication, FundingApplication.id == granted.c.record_id))
    return union_all(nominations, offers, grants)


def _funnel_source(summary: bool):
    return InsightFunnel.__table__ if summary else funnel_rows().subquery("funnel_rows")


def _decision_source(summary: bool):
    return InsightDecision.__table__ if summary else decision_rows().subquery("decision_rows")


def _filter_clauses(source, filters: Filters) -> list:
    """SQL: the page's filters on a source's rows (the route's needs ``Route`` joined)."""
    clauses = []
    if filters.call_id is not None:
        clauses.append(source.c.call_id == filters.call_id)
    if filters.route_id is not None:
        clauses.append(Route.id == filters.route_id)
    if filters.country is not None:
        clauses.append(source.c.country == filters.country)
    if filters.track is not None:
        clauses.append(source.c.track == filters.track)
    return clauses


# ------------------------------------------------------------------ funnel


@dataclass
class FunnelRow:
    call_id: int
    title: str
    counts: dict = field(default_factory=lambda: dict.fromkeys(STAGES, 0))


@dataclass
class Funnel:
    calls: list[FunnelRow]
    totals: dict
    by_route: list[tuple[str, dict]]
    by_country: list[tuple[str, dict]]
    by_track: list[tuple[str, dict]]


def funnel(scope: Scope, filters: Filters, summary: bool = False) -> Funnel:
    """Applications per call by stage reached (one query, counted in the database by call, home
    country and track; the few rows are then added up by route, country and track). Withdrawn
    applications are left out of every stage, so each stage is a subset of the one before.
    ``summary``: read the summary table instead of counting the records."""
    source = _funnel_source(summary)
    hub = Organisation.__table__.alias("hub")
    stmt = (select(source.c.call_id, Call.title, Route.home_country, hub.c.name, source.c.country, source.c.track,
                   *(source.c[s] for s in STAGES))
            .select_from(source)
            .join(Call, source.c.call_id == Call.id)
            .join(Route, Call.route_id == Route.id)
            .join(hub, hub.c.id == Route.host_hub_id)
            .where(staffed_calls_clause(scope), *_filter_clauses(source, filters))
            .order_by(Call.opens_at.desc(), Call.id))
    calls: dict[int, FunnelRow] = {}
    totals = dict.fromkeys(STAGES, 0)
    by_route, by_country, by_track = {}, {}, {}
    for call_id, title, home, hub_name, country, track, *counts in db.session.execute(stmt):
        row = calls.setdefault(call_id, FunnelRow(call_id, title))
        buckets = [row.counts, totals] + [bucket.setdefault(key, dict.fromkeys(STAGES, 0)) for bucket, key in (
            (by_route, route_label(home, hub_name)), (by_country, country), (by_track, track or "other"))]
        for stage, n in zip(STAGES, counts):
            for bucket in buckets:
                bucket[stage] += n
    return Funnel(calls=list(calls.values()), totals=totals, by_route=sorted(by_route.items()),
                  by_country=sorted(by_country.items()), by_track=sorted(by_track.items()))


# ------------------------------------------------------------------ decision times


@dataclass
class DecisionTime:
    decision: str
    label: object
    median_days: Decimal | None
    count: int


def _days(median_seconds) -> Decimal | None:
    """A median of whole seconds (a float, exact: at most a half) in days to one decimal."""
    if median_seconds is None:
        return None
    return (Decimal(median_seconds) / Decimal(86400)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def decision_times(scope: Scope, filters: Filters, summary: bool = False) -> list[DecisionTime]:
    """Median days from the first submission to the first decision, and how many decisions, from
    the audit trail (one query: the medians are made in the database). The filters apply to the
    decisions on applications; grants are those of the viewer's schemes."""
    shown = [d for d in DECISIONS if (d == "grant" and sees_funding(scope)) or (d != "grant" and sees_calls(scope))]
    if not shown:
        return []
    source = _decision_source(summary)
    of_calls = _filter_clauses(source, filters)
    stmt = select(source.c.decision, source.c.seconds).select_from(source)
    if not scope.admin or filters.route_id is not None:
        stmt = (stmt.outerjoin(Call, source.c.call_id == Call.id).outerjoin(Route, Call.route_id == Route.id))
    if not scope.admin:
        stmt = stmt.outerjoin(FundingScheme, source.c.scheme_id == FundingScheme.id)
    rows = stmt.where(or_(and_(source.c.decision != "grant", staffed_calls_clause(scope), *of_calls),
                          and_(source.c.decision == "grant", funding_scope.scheme_clause(scope)))).subquery("decided")
    dialect = db.session.get_bind().dialect.name
    found = {decision: (median, count) for decision, median, count in
             db.session.execute(median_by(dialect, rows.c.seconds, rows.c.decision))}
    return [DecisionTime(d, DECISION_LABELS[d], _days(found.get(d, (None, 0))[0]), found.get(d, (None, 0))[1])
            for d in shown]


# ------------------------------------------------------------------ occupancy


@dataclass
class MonthOccupancy:
    month: date
    desks_used: int
    desks_capacity: int
    benches_used: int
    benches_capacity: int


@dataclass
class HubOccupancy:
    hub_id: int
    name: str
    months: list[MonthOccupancy]


def occupancy(scope: Scope, first_month: date | None = None, now: datetime | None = None) -> list[HubOccupancy]:
    """For every hub in scope and each of twelve months: the most desks and benches held
    (booked or offered) on any day against the capacity on that day (one query).

    In the database: every capacity row and holding placement becomes a change on its first
    day (in the window) and the day after its last; the running sums of the changes, per hub in
    day order, are what is held and available from each change to the next; month starts are
    changes of nothing, so each stretch lies in one month. The busiest stretch of each month
    (the most held, then the least capacity, as for one day) gives the figures."""
    if not sees_hubs(scope):
        return []
    first = (first_month or (now or utcnow()).date()).replace(day=1)
    months = [add_months(first, m) for m in range(MONTHS_SHOWN)]
    last = add_months(first, MONTHS_SHOWN) - timedelta(days=1)
    hubs = select(Organisation.id.label("hub_id"), Organisation.name.label("name")).where(
        Organisation.kind == "hub", _hubs_clause(scope, Organisation.id))
    starts = union_all(*(select(literal(m, Date).label("day")) for m in months)).subquery("month_starts")
    in_hubs = hubs.subquery("hubs_in_scope")
    zero = lambda: literal(0)  # noqa: E731 - a column of its own each time it is selected
    no_month = cast(null(), Date)

    def changes(model, held: bool, *where):
        """A row's first day in the window adds its desks and benches; the day after its last takes them away."""
        spaces = (zero(), zero(), model.desks, model.benches) if held else (model.desks, model.benches, zero(), zero())
        taken = (zero(), zero(), -model.desks, -model.benches) if held else (-model.desks, -model.benches, zero(), zero())
        overlaps = (_hubs_clause(scope, model.hub_id), model.starts_on <= last, model.ends_on >= first, *where)
        return [select(model.hub_id, case((model.starts_on < first, first), else_=model.starts_on), no_month, *spaces)
                .where(*overlaps),
                select(model.hub_id, day_after(model.ends_on), no_month, *taken).where(*overlaps, model.ends_on < last)]

    events = union_all(
        select(in_hubs.c.hub_id, starts.c.day, starts.c.day.label("month"), zero().label("desks_capacity"),
               zero().label("benches_capacity"), zero().label("desks_used"), zero().label("benches_used"))
        .select_from(in_hubs).join(starts, true()),
        *changes(HubCapacity, False),
        *changes(Placement, True, Placement.status.in_(HOLDING)),
    ).subquery("changes")
    in_order = {"partition_by": events.c.hub_id, "order_by": events.c.day}
    levels = (select(events.c.hub_id, func.max(func.max(events.c.month)).over(**in_order).label("month"),
                     *(func.sum(func.sum(events.c[k])).over(**in_order).label(k)
                       for k in ("desks_capacity", "benches_capacity", "desks_used", "benches_used")))
              .group_by(events.c.hub_id, events.c.day).subquery("levels"))
    by_month = {"partition_by": (levels.c.hub_id, levels.c.month)}
    ranked = select(levels, func.row_number().over(order_by=(levels.c.desks_used.desc(), levels.c.desks_capacity),
                                                   **by_month).label("desks_rank"),
                    func.row_number().over(order_by=(levels.c.benches_used.desc(), levels.c.benches_capacity),
                                           **by_month).label("benches_rank")).subquery("ranked")
    hub = hubs.subquery("hub")

    def busiest(rank, column):
        return func.max(case((rank == 1, column)))

    stmt = (select(hub.c.hub_id, hub.c.name, type_coerce(ranked.c.month, Date),
                   busiest(ranked.c.desks_rank, ranked.c.desks_used), busiest(ranked.c.desks_rank, ranked.c.desks_capacity),
                   busiest(ranked.c.benches_rank, ranked.c.benches_used),
                   busiest(ranked.c.benches_rank, ranked.c.benches_capacity))
            .select_from(hub).join(ranked, ranked.c.hub_id == hub.c.hub_id)
            .where(or_(ranked.c.desks_rank == 1, ranked.c.benches_rank == 1))
            .group_by(hub.c.hub_id, hub.c.name, ranked.c.month)
            .order_by(hub.c.name, hub.c.hub_id, ranked.c.month))
    result: dict[int, HubOccupancy] = {}
    for hub_id, name, month, *figures in db.session.execute(stmt):
        result.setdefault(hub_id, HubOccupancy(hub_id, name, [])).months.append(
            MonthOccupancy(month, *(int(f) for f in figures)))
    return list(result.values())


# ------------------------------------------------------------------ funding


@dataclass
class FundingTotals:
    currency: str
    requested: Decimal = Decimal("0.00")
    granted: Decimal = Decimal("0.00")
    paid: Decimal = Decimal("0.00")
    applications: int = 0


def funding(scope: Scope) -> list[FundingTotals]:
    """Requested (submitted at least once), granted and paid, per currency (two queries, summed
    in the database with ``money_sum``, so every amount stays an exact Decimal)."""
    if not sees_funding(scope):
        return []
    totals: dict[str, FundingTotals] = {}
    # A draft counts if it was ever submitted (an administrator may have put it back): it entered
    # "submitted" once, found by workflow and target state in ix_status_change_transition.
    ever_submitted = exists().where(StatusChange.workflow == "funding", StatusChange.to_state == "submitted",
                                    StatusChange.record_id == FundingApplication.id)
    granted = case((FundingApplication.status.in_(GRANTED_STATES), FundingApplication.granted_amount))
    for currency, applications, requested, granted_sum in db.session.execute(
            select(FundingScheme.currency, func.count(), money_sum(FundingApplication.amount_requested), money_sum(granted))
            .join(FundingScheme, FundingApplication.scheme_id == FundingScheme.id)
            .where(funding_scope.scheme_clause(scope), or_(FundingApplication.status != "draft", ever_submitted))
            .group_by(FundingScheme.currency)):
        totals[currency] = FundingTotals(currency, requested=requested, granted=granted_sum, applications=applications)
    for currency, paid in db.session.execute(
            select(FundingScheme.currency, money_sum(Disbursement.amount))
            .join(FundingApplication, Disbursement.funding_application_id == FundingApplication.id)
            .join(FundingScheme, FundingApplication.scheme_id == FundingScheme.id)
            .where(funding_scope.scheme_clause(scope), Disbursement.paid_at.is_not(None))
            .group_by(FundingScheme.currency)):
        totals.setdefault(currency, FundingTotals(currency)).paid = paid
    return [totals[c] for c in sorted(totals)]


# ------------------------------------------------------------------ impact


@dataclass
class ImpactRound:
    months_after: int
    surveys: int = 0
    employees: int = 0
    patents: int = 0
    products: int = 0
    partnerships: int = 0
    # currency -> {"revenue", "capital_raised", "export_revenue"}
    money: dict = field(default_factory=dict)


def impact(scope: Scope) -> list[ImpactRound]:
    """Submitted impact surveys summed by 12, 24 and 36 months; money per currency (one query,
    summed in the database by round and currency)."""
    rounds = {m: ImpactRound(m) for m in SURVEY_MONTHS}
    total = lambda column: func.coalesce(func.sum(column), 0)  # noqa: E731
    for (months_after, currency, surveys, employees, patents, products, partnerships, revenue, capital,
         export) in db.session.execute(
            select(ImpactSurvey.months_after, ImpactSurvey.currency, func.count(), total(ImpactSurvey.employees),
                   total(ImpactSurvey.patents_filed), total(ImpactSurvey.products_launched),
                   total(ImpactSurvey.partnerships_with_host), money_sum(ImpactSurvey.revenue),
                   money_sum(ImpactSurvey.capital_raised), money_sum(ImpactSurvey.export_revenue))
            .join(Placement, ImpactSurvey.placement_id == Placement.id)
            .where(ImpactSurvey.submitted_at.is_not(None), _placements_clause(scope))
            .group_by(ImpactSurvey.months_after, ImpactSurvey.currency)):
        r = rounds[months_after]
        r.surveys += surveys
        r.employees += employees
        r.patents += patents
        r.products += products
        r.partnerships += partnerships
        r.money[currency] = {"revenue": revenue, "capital_raised": capital, "export_revenue": export}
    return [rounds[m] for m in SURVEY_MONTHS]


# ------------------------------------------------------------------ the page


@dataclass
class Dashboard:
    scope: Scope
    filters: Filters
    choices: dict
    funnel: Funnel | None
    decision_times: list[DecisionTime]
    occupancy: list[HubOccupancy]
    first_month: date | None
    funding: list[FundingTotals]
    impact: list[ImpactRound]
    sees_funding: bool
    # When the figures were counted (the summary tables' last rebuild: the funnel and decision times
    # are read from them, the rest is counted once per rebuild and kept); None: counted for this page.
    counted_at: datetime | None = None
    # The page of the funnel's calls shown (``calls_page``): a programme's calls grow without end.
    calls_page: pagination.Page | None = None
    # The summary tables' generation the figures are of (None: counted for this page), for what
    # is kept with them (``kept``: the page drawn from them, say).
    generation: tuple | None = None


def kept(generation: tuple, key: tuple, compute):
    """The page ``compute`` draws, kept with the summary generation its figures are of: drawn again once the
    scheduler has rebuilt the summaries (every server sees the new generation in the database)."""
    return _PAGES.get(generation, key, compute)


def refreshed_at() -> tuple[int, datetime] | None:
    """The summary tables' generation (a new one each rebuild) and when it was built; None before
    the first rebuild (one query)."""
    row = db.session.execute(select(InsightRefresh.id, InsightRefresh.refreshed_at)
                             .order_by(InsightRefresh.id.desc()).limit(1)).first()
    return None if row is None else (row[0], row[1])


# What the page reads from the summary tables is the same until the scheduler rebuilds them, so
# each process keeps it per generation, viewer's scope and filters: the first view after a rebuild
# counts (a few queries over the summary rows), later ones only read. Older generations are dropped.
class _Kept:
    """What was made from one summary generation, at most ``size`` things (all dropped at the next generation,
    or when full: a new generation comes every few minutes)."""

    def __init__(self, size: int):
        self.size, self.generation, self.things, self.lock = size, None, {}, threading.Lock()

    def get(self, generation: tuple, key: tuple, compute):
        with self.lock:
            if self.generation == generation and key in self.things:
                return self.things[key]
        value = compute()
        with self.lock:
            if self.generation != generation or len(self.things) >= self.size:
                self.generation, self.things = generation, {}
            self.things[key] = value
        return value


_FIGURES = _Kept(1000)
# Drawn pages are some 120 KB each: a few dozen scopes, filters and languages at a time.
_PAGES = _Kept(64)


def _from_summary(generation: tuple, key: tuple, compute):
    return _FIGURES.get(generation, key, compute)


def dashboard(actor: User, args, now: datetime | None = None) -> Dashboard:
    """Everything the insight page shows, for the viewer's scope and the filters in ``args``.
    Once the scheduler has built the summary tables, the funnel and the decision times are those
    of the last rebuild (``counted_at``); until then they are counted from the records."""
    scope = scope_for(actor)
    filters = parse_filters(args, scope)
    first_month = parse_month(args.get("month"))
    shown_month = (first_month or (now or utcnow()).date()).replace(day=1)
    built = refreshed_at() if sees_calls(scope) or sees_funding(scope) else None
    if built is None:
        generation = counted_at = None
        the_funnel = funnel(scope, filters) if sees_calls(scope) else None
        times = decision_times(scope, filters)
        spaces, money, surveys = occupancy(scope, first_month, now), funding(scope), impact(scope)
    else:
        generation, counted_at = built
        # The generation's time too: generation numbers start afresh in another database.
        generation = (generation, counted_at)
        key = (scope, astuple(filters))
        the_funnel = _from_summary(generation, ("funnel",) + key, lambda: funnel(scope, filters, summary=True)) \
            if sees_calls(scope) else None
        times = _from_summary(generation, ("decisions",) + key, lambda: decision_times(scope, filters, summary=True))
        # Occupancy, funding and impact are counted from the records once per rebuild, then kept with it.
        spaces = _from_summary(generation, ("occupancy", scope, shown_month), lambda: occupancy(scope, first_month, now))
        money = _from_summary(generation, ("funding", scope), lambda: funding(scope))
        surveys = _from_summary(generation, ("impact", scope), lambda: impact(scope))
    return Dashboard(
        scope=scope, filters=filters, choices=filter_choices(scope), funnel=the_funnel, decision_times=times,
        occupancy=spaces, first_month=shown_month if sees_hubs(scope) else None,
        funding=money, impact=surveys, sees_funding=sees_funding(scope), counted_at=counted_at,
        calls_page=None if the_funnel is None else _calls_page(the_funnel, pagination.page_number(args, CALLS_PAGE)),
        generation=generation,
    )


CALLS_PAGE = "calls_page"


def _calls_page(the_funnel: Funnel, asked: int) -> pagination.Page:
    """One page of the funnel's calls, newest first (the funnel is counted whole: totals and splits need every call)."""
    total = len(the_funnel.calls)
    shown = pagination.shown_page(asked, total)
    start = (shown - 1) * pagination.PER_PAGE
    return pagination.numbered(the_funnel.calls[start:start + pagination.PER_PAGE], asked, total, param=CALLS_PAGE)
