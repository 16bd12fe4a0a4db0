"""Programme insight: figures for dashboards, scoped to what the viewer may see.

Programme administrators see everything; a cluster sees the calls of its routes;
a hub sees its placements (and the calls of the routes it hosts); a funder sees
its schemes (and the residencies they fund). Everything here only reads, and
each figure costs a fixed number of queries whatever the number of rows: rows
are fetched once and aggregated in Python, where money stays ``Decimal``.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select

from residency.core import limits
from residency.core.errors import Forbidden, NotFound
from residency.core.extensions import db
from residency.domain.accounts.scope import Scope
from residency.domain.funding import scope as funding_scope
from residency.domain.placements import scope as placement_scope
from residency.domain.placements.hub_queries import add_months, parse_month
from residency.domain.impact.models import SURVEY_MONTHS, ImpactSurvey
from residency.domain.accounts.models import COUNTRIES, TRACKS, Organisation, User
from residency.domain.applications.models import Application
from residency.domain.programme.models import Call, HubCapacity, Route
from residency.domain.funding.models import Disbursement, FundingApplication, FundingScheme
from residency.domain.placements.models import Placement
from residency.core.models import StatusChange
from residency.core.db import utcnow
from residency.domain.funding.models import GRANTED_STATES
from residency.domain.placements.services import HOLDING

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
DECISIONS = ("nomination", "offer", "grant")
DECISION_LABELS = {
    "nomination": _l("Nomination or decline"),
    "offer": _l("Placement offer"),
    "grant": _l("Funding grant"),
}
MONTHS_SHOWN = 12
TRACK_LABELS = {
    "drugs": _l("Drugs"),
    "devices": _l("Devices"),
    "diagnostics": _l("Diagnostics"),
    "digital_health": _l("Digital health"),
    "bioindustrials": _l("Bioindustrials"),
    "other": _l("Other"),
}


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


def _stages_reached(submitted: bool, status: str, placement_status: str | None) -> list[str]:
    reached = ["applied"]
    if submitted or status in ("nominated", "not_nominated", "under_review"):
        reached.append("submitted")
    if status == "nominated":
        reached.append("nominated")
        for stage in ("offered", "accepted", "active", "completed"):
            if placement_status in REACHED[stage]:
                reached.append(stage)
    return reached


def _filtered(stmt, filters: Filters):
    if filters.call_id is not None:
        stmt = stmt.where(Call.id == filters.call_id)
    if filters.route_id is not None:
        stmt = stmt.where(Route.id == filters.route_id)
    if filters.country is not None:
        stmt = stmt.where(Organisation.country == filters.country)
    if filters.track is not None:
        stmt = stmt.where(func.coalesce(Application.track, Organisation.track) == filters.track)
    return stmt


def funnel(scope: Scope, filters: Filters) -> Funnel:
    """Applications per call by stage reached (one query). Withdrawn applications are left out
    of every stage, so each stage is a subset of the one before."""
    hub = Organisation.__table__.alias("hub")
    ever_submitted = exists().where(StatusChange.workflow == "application", StatusChange.record_id == Application.id,
                                    StatusChange.action == "submit")
    stmt = (select(Call.id, Call.title, Route.id, Route.home_country, hub.c.name, Organisation.country,
                   func.coalesce(Application.track, Organisation.track), Application.status, Placement.status,
                   ever_submitted)
            .select_from(Application)
            .join(Call, Application.call_id == Call.id)
            .join(Route, Call.route_id == Route.id)
            .join(hub, hub.c.id == Route.host_hub_id)
            .join(Organisation, Application.startup_id == Organisation.id)
            .outerjoin(Placement, Placement.application_id == Application.id)
            .where(Application.status != "withdrawn", staffed_calls_clause(scope))
            .order_by(Call.opens_at.desc(), Call.id))
    rows = db.session.execute(_filtered(stmt, filters)).all()
    calls: dict[int, FunnelRow] = {}
    totals = dict.fromkeys(STAGES, 0)
    by_route, by_country, by_track = {}, {}, {}
    for call_id, title, route_id, home, hub_name, country, track, status, placement_status, submitted in rows:
        row = calls.setdefault(call_id, FunnelRow(call_id, title))
        route_label = f"{home} → {hub_name}"
        for stage in _stages_reached(bool(submitted), status, placement_status):
            row.counts[stage] += 1
            totals[stage] += 1
            for bucket, key in ((by_route, route_label), (by_country, country), (by_track, track or "other")):
                bucket.setdefault(key, dict.fromkeys(STAGES, 0))[stage] += 1
    return Funnel(calls=list(calls.values()), totals=totals, by_route=sorted(by_route.items()),
                  by_country=sorted(by_country.items()), by_track=sorted(by_track.items()))


# ------------------------------------------------------------------ decision times


@dataclass
class DecisionTime:
    decision: str
    label: object
    median_days: Decimal | None
    count: int


def _days(delta: timedelta) -> Decimal:
    return Decimal(int(delta.total_seconds())) / Decimal(86400)


def _median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return Decimal(statistics.median(values)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def decision_times(scope: Scope, filters: Filters) -> list[DecisionTime]:
    """Median days from first submission to the first decision, from the audit trail (three queries)."""
    result = {d: [] for d in DECISIONS}
    if sees_calls(scope):
        base = (select(Application.id).join(Call, Application.call_id == Call.id).join(Route, Call.route_id == Route.id)
                .join(Organisation, Application.startup_id == Organisation.id).where(staffed_calls_clause(scope)))
        app_ids = _filtered(base, filters).scalar_subquery()
        submitted, decided = {}, {}
        for record_id, action, at in db.session.execute(
                select(StatusChange.record_id, StatusChange.action, StatusChange.created_at)
                .where(StatusChange.workflow == "application", StatusChange.record_id.in_(app_ids),
                       StatusChange.action.in_(("submit", "nominate", "decline")))
                .order_by(StatusChange.id)):
            if action == "submit":
                submitted.setdefault(record_id, at)
            elif record_id in submitted:
                decided.setdefault(record_id, at)
        result["nomination"] = [_days(decided[r] - submitted[r]) for r in decided]
        for application_id, at in db.session.execute(
                select(Placement.application_id, func.min(StatusChange.created_at))
                .join(Placement, and_(StatusChange.workflow == "placement", StatusChange.record_id == Placement.id))
                .where(StatusChange.action == "offer", Placement.application_id.in_(app_ids))
                .group_by(Placement.application_id)):
            if application_id in submitted:
                result["offer"].append(_days(at - submitted[application_id]))
    if sees_funding(scope):
        ids = select(FundingApplication.id).join(FundingScheme, FundingApplication.scheme_id == FundingScheme.id).where(
            funding_scope.scheme_clause(scope)).scalar_subquery()
        submitted, granted = {}, {}
        for record_id, action, at in db.session.execute(
                select(StatusChange.record_id, StatusChange.action, StatusChange.created_at)
                .where(StatusChange.workflow == "funding", StatusChange.record_id.in_(ids),
                       StatusChange.action.in_(("submit", "grant")))
                .order_by(StatusChange.id)):
            if action == "submit":
                submitted.setdefault(record_id, at)
            elif record_id in submitted:
                granted.setdefault(record_id, at)
        result["grant"] = [_days(granted[r] - submitted[r]) for r in granted]
    shown = [d for d in DECISIONS if (d == "grant" and sees_funding(scope)) or (d != "grant" and sees_calls(scope))]
    return [DecisionTime(d, DECISION_LABELS[d], _median(result[d]), len(result[d])) for d in shown]


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
    (booked or offered) on any day against the capacity on that day (three queries)."""
    if not sees_hubs(scope):
        return []
    first = (first_month or (now or utcnow()).date()).replace(day=1)
    last = add_months(first, MONTHS_SHOWN) - timedelta(days=1)
    days = (last - first).days + 1
    hubs = db.session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.kind == "hub", _hubs_clause(scope, Organisation.id)).order_by(Organisation.name)).all()
    zero = lambda: {"desks": [0] * days, "benches": [0] * days}  # noqa: E731
    cap, use = defaultdict(zero), defaultdict(zero)

    def spread(target, starts_on, ends_on, desks, benches):
        for i in range(max(0, (starts_on - first).days), min(days, (ends_on - first).days + 1)):
            target["desks"][i] += desks
            target["benches"][i] += benches

    for hub_id, starts_on, ends_on, desks, benches in db.session.execute(
            select(HubCapacity.hub_id, HubCapacity.starts_on, HubCapacity.ends_on, HubCapacity.desks, HubCapacity.benches)
            .where(_hubs_clause(scope, HubCapacity.hub_id), HubCapacity.starts_on <= last, HubCapacity.ends_on >= first)):
        spread(cap[hub_id], starts_on, ends_on, desks, benches)
    for hub_id, starts_on, ends_on, desks, benches in db.session.execute(
            select(Placement.hub_id, Placement.starts_on, Placement.ends_on, Placement.desks, Placement.benches)
            .where(_hubs_clause(scope, Placement.hub_id), Placement.status.in_(HOLDING),
                   Placement.starts_on <= last, Placement.ends_on >= first)):
        spread(use[hub_id], starts_on, ends_on, desks, benches)
    result = []
    for hub_id, name in hubs:
        months = []
        for m in range(MONTHS_SHOWN):
            start = add_months(first, m)
            lo, hi = (start - first).days, (add_months(start, 1) - first).days
            c, u = cap[hub_id], use[hub_id]
            busiest_d = max(range(lo, hi), key=lambda i: (u["desks"][i], -c["desks"][i]))
            busiest_b = max(range(lo, hi), key=lambda i: (u["benches"][i], -c["benches"][i]))
            months.append(MonthOccupancy(start, u["desks"][busiest_d], c["desks"][busiest_d],
                                         u["benches"][busiest_b], c["benches"][busiest_b]))
        result.append(HubOccupancy(hub_id, name, months))
    return result


# ------------------------------------------------------------------ funding


@dataclass
class FundingTotals:
    currency: str
    requested: Decimal = Decimal("0.00")
    granted: Decimal = Decimal("0.00")
    paid: Decimal = Decimal("0.00")
    applications: int = 0


def funding(scope: Scope) -> list[FundingTotals]:
    """Requested (submitted at least once), granted and paid, per currency (two queries).
    Sums are made in Python so that every amount stays an exact Decimal."""
    if not sees_funding(scope):
        return []
    totals: dict[str, FundingTotals] = {}
    ever_submitted = exists().where(StatusChange.workflow == "funding", StatusChange.record_id == FundingApplication.id,
                                    StatusChange.action == "submit")
    for currency, status, requested, granted in db.session.execute(
            select(FundingScheme.currency, FundingApplication.status, FundingApplication.amount_requested,
                   FundingApplication.granted_amount)
            .join(FundingScheme, FundingApplication.scheme_id == FundingScheme.id)
            .where(funding_scope.scheme_clause(scope), or_(FundingApplication.status != "draft", ever_submitted))):
        row = totals.setdefault(currency, FundingTotals(currency))
        row.applications += 1
        row.requested += requested or Decimal("0.00")
        if status in GRANTED_STATES and granted is not None:
            row.granted += granted
    for currency, amount in db.session.execute(
            select(FundingScheme.currency, Disbursement.amount)
            .join(FundingApplication, Disbursement.funding_application_id == FundingApplication.id)
            .join(FundingScheme, FundingApplication.scheme_id == FundingScheme.id)
            .where(funding_scope.scheme_clause(scope), Disbursement.paid_at.is_not(None))):
        totals.setdefault(currency, FundingTotals(currency)).paid += amount
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
    """Submitted impact surveys summed by 12, 24 and 36 months; money per currency (one query)."""
    rounds = {m: ImpactRound(m) for m in SURVEY_MONTHS}
    for (months_after, currency, employees, revenue, capital, export, patents, products, partnerships) in db.session.execute(
            select(ImpactSurvey.months_after, ImpactSurvey.currency, ImpactSurvey.employees, ImpactSurvey.revenue,
                   ImpactSurvey.capital_raised, ImpactSurvey.export_revenue, ImpactSurvey.patents_filed,
                   ImpactSurvey.products_launched, ImpactSurvey.partnerships_with_host)
            .join(Placement, ImpactSurvey.placement_id == Placement.id)
            .where(ImpactSurvey.submitted_at.is_not(None), _placements_clause(scope))):
        r = rounds[months_after]
        r.surveys += 1
        r.employees += employees or 0
        r.patents += patents or 0
        r.products += products or 0
        r.partnerships += partnerships or 0
        money = r.money.setdefault(currency, {"revenue": Decimal("0.00"), "capital_raised": Decimal("0.00"),
                                              "export_revenue": Decimal("0.00")})
        money["revenue"] += revenue or 0
        money["capital_raised"] += capital or 0
        money["export_revenue"] += export or 0
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


def dashboard(actor: User, args, now: datetime | None = None) -> Dashboard:
    """Everything the insight page shows, for the viewer's scope and the filters in ``args``."""
    scope = scope_for(actor)
    filters = parse_filters(args, scope)
    first_month = parse_month(args.get("month"))
    occ = occupancy(scope, first_month, now)
    return Dashboard(
        scope=scope, filters=filters, choices=filter_choices(scope),
        funnel=funnel(scope, filters) if sees_calls(scope) else None,
        decision_times=decision_times(scope, filters), occupancy=occ,
        first_month=(first_month or (now or utcnow()).date()).replace(day=1) if sees_hubs(scope) else None,
        funding=funding(scope), impact=impact(scope), sees_funding=sees_funding(scope),
    )
