"""Programme insight: CSV exports of applications, placements, grants and impact surveys.

Each export streams: rows are read by keyset pagination (``id > last`` in batches
of ``BATCH`` rows, plain columns only, no ORM entities), turned into CSV one line
at a time and handed to a streamed response, so memory stays flat whatever the
number of rows. A batch is its own short statement, so no server-side cursor is
held open while the client reads.

What a viewer may export follows the same rules as the pages:

- programme administrators: everything;
- cluster staff: the applications (never drafts) to their clusters' calls and the
  placements that came from them;
- hub administrators: their hub's placements;
- funder officers: the funding applications (never drafts) under their schemes;
- startups: their own rows, as they see them on their pages (a nomination or a
  pending placement stays hidden until the cluster releases the call's decisions).

A viewer with several roles gets the union. Staff-only text (assessment notes,
review comments) is never exported.

Every column a program reads is exact and the same in every language (ids, status codes, ISO dates,
amounts like ``100000.01``); next to some of them is a column for a person, in the reader's language:
the status's label, and each amount written as the reader's language writes it in its currency
(``NOK 100,000.01``, ``100 000,01 NOK``), by the same rule as every page (``i18n.format_money``).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import chain, islice
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from residency.core.i18n import gettext as _
from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import and_, case, func, not_, or_, select
from sqlalchemy.orm import aliased

from residency.core import limits, workflow
from residency.core.csvtools import csv_stream
from residency.core.db import money_sum
from residency.core.errors import Forbidden
from residency.core.extensions import db
from residency.core.i18n import country_name, format_money
from residency.domain.accounts.labels import track_label
from residency.domain.accounts.scope import Scope
from residency.domain.applications import rules
from residency.domain.applications import scope as application_scope
from residency.domain.applications.models import APPLICATION_STATES, Application
from residency.domain.funding import scope as funding_scope
from residency.domain.programme.models import Call, Route
from residency.domain.funding.models import Disbursement, FundingApplication, FundingScheme
from residency.domain.impact.models import ImpactSurvey
from residency.domain.accounts.models import Organisation, User
from residency.domain.placements.models import Placement
from residency.domain.funding.models import FUNDING_STATES
from residency.domain.placements import scope as placement_scope
from residency.domain.placements.models import PLACEMENT_STATES
from residency.domain.insight.services import staffed_calls_clause

BATCH = 1000
KINDS = ("applications", "placements", "grants", "surveys")


# ------------------------------------------------------------------ who may export what


def allows(scope: Scope, kind: str) -> bool:
    """Whether the viewer has a role that gives rows of this export (the rows themselves follow the scope clauses)."""
    return {
        "applications": scope.admin or bool(scope.cluster_ids or scope.startup_ids),
        "placements": scope.admin or bool(scope.cluster_ids or scope.hub_ids or scope.startup_ids),
        "grants": scope.admin or bool(scope.funder_ids or scope.startup_ids),
        "surveys": scope.admin or bool(scope.startup_ids),
    }[kind]


@dataclass(frozen=True)
class ExportInfo:
    kind: str
    title: str
    description: str
    date_field: str
    statuses: list  # (code, label)


def catalogue() -> dict[str, ExportInfo]:
    def labelled(wf, states):
        return [(s, wf.label(s, for_applicant=False)) for s in states]

    return {
        "applications": ExportInfo("applications", _("Applications"),
                                   _("Applications to residency calls, with the startup, its wishes and the status."),
                                   _("Created"), labelled(workflow.get("application"), APPLICATION_STATES)),
        "placements": ExportInfo("placements", _("Placements"),
                                 _("Placements at host hubs: dates, desks, lab benches and status."),
                                 _("Residency starts"), labelled(workflow.get("placement"), PLACEMENT_STATES)),
        "grants": ExportInfo("grants", _("Grants"),
                             _("Funding applications with the amounts requested, granted and paid, to the øre or cent."),
                             _("Created"), labelled(workflow.get("funding"), FUNDING_STATES)),
        "surveys": ExportInfo("surveys", _("Impact surveys"),
                              _("Impact follow-up 12, 24 and 36 months after a residency: jobs, revenue, capital and more."),
                              _("Due"), [("due", _("Not answered yet")), ("submitted", _("Answered"))]),
    }


def available(actor: User) -> list[ExportInfo]:
    """The exports the viewer may download, in a fixed order."""
    scope = Scope.of(actor)
    every = catalogue()
    return [every[kind] for kind in KINDS if allows(scope, kind)]


def calls_for(actor: User) -> list[Call]:
    """The calls a viewer may filter by: those tied to their organisations (all calls for administrators)."""
    scope = Scope.of(actor)
    conds = [staffed_calls_clause(scope)]
    if scope.funder_ids:
        conds.append(Route.funders.any(scope.funders(Organisation.id)))
    if scope.startup_ids:
        conds.append(Call.id.in_(select(Application.call_id).where(application_scope.own_clause(scope))))
    stmt = (select(Call).join(Route, Route.id == Call.route_id).where(or_(*conds))
            .order_by(Call.closes_at.desc(), Call.id.desc()))
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class ExportsPage:
    """What the exports page shows: the exports the viewer may download and the calls to filter by."""

    exports: list[ExportInfo]
    calls: list[Call]


def page(actor: User) -> ExportsPage:
    """The exports page; 403 for a viewer who may download none of them."""
    exports = available(actor)
    if not exports:
        raise Forbidden(_l("You may not download this export."))
    return ExportsPage(exports=exports, calls=calls_for(actor))


# ------------------------------------------------------------------ filters


@dataclass(frozen=True)
class ExportFilters:
    call_id: int | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    PARAMS = {"call_id": "call", "status": "status", "date_from": "from", "date_to": "to"}

    @classmethod
    def from_args(cls, args: Mapping, kind: str) -> tuple["ExportFilters", dict]:
        """Parse a query string; values that make no sense are reported by parameter name."""
        errors: dict[str, str] = {}

        def get(name: str) -> str:
            return (args.get(cls.PARAMS[name]) or "").strip()

        call_id = None
        if get("call_id"):
            # A number no call can have (below 1, beyond an id column) is no call either.
            call_id = limits.parse_id(get("call_id"))
            if call_id is None:
                errors["call"] = str(_l("Choose one of the calls."))
        status = get("status") or None
        if status is not None and status not in {code for code, _label in catalogue()[kind].statuses}:
            errors["status"] = str(_l("Choose one of the statuses."))
            status = None

        def day(name: str) -> date | None:
            raw = get(name)
            if not raw:
                return None
            try:
                return limits.parse_day(raw)
            except limits.OutOfBounds as bound:
                errors[cls.PARAMS[name]] = str(bound.message)
                return None
            except ValueError:
                errors[cls.PARAMS[name]] = str(limits.date_format_message())
                return None

        date_from, date_to = day("date_from"), day("date_to")
        if date_from and date_to and date_from > date_to:
            errors["to"] = str(_l("The end date must not be before the start date."))
        return cls(call_id=call_id, status=status, date_from=date_from, date_to=date_to), errors


def _between(column, filters: ExportFilters, is_datetime: bool) -> list:
    """Conditions for the date range, inclusive of both days (days run midnight to midnight UTC)."""
    conds = []
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, tzinfo=timezone.utc) if is_datetime else filters.date_from
        conds.append(column >= start)
    if filters.date_to:
        if is_datetime:
            conds.append(column < datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=timezone.utc))
        else:
            conds.append(column <= filters.date_to)
    return conds


# ------------------------------------------------------------------ the exports


@dataclass
class Export:
    """A prepared export: its header and the rows, read lazily as the caller iterates."""

    kind: str
    header: list[str]
    rows: Iterator[list]

    def lines(self) -> Iterator[str]:
        return csv_stream(self.header, self.rows)

    def start(self) -> "Export":
        """Read the first batch now: whatever the database refuses is refused before the first byte
        of a streamed response, never as a download that breaks off."""
        first = list(islice(self.rows, 1))
        self.rows = chain(first, self.rows)
        return self

    @property
    def filename(self) -> str:
        return f"{self.kind}-{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M')}.csv"


def export(actor: User, kind: str, filters: ExportFilters, batch: int = BATCH) -> Export:
    """The ``kind`` export for ``actor`` under ``filters``.

    The permission check runs now (403 without any scope for this export); the rows
    are read in batches of ``batch`` as the caller iterates.
    """
    if kind not in KINDS:
        raise Forbidden(_l("There is no such export."))
    scope = Scope.of(actor)
    if not allows(scope, kind):
        raise Forbidden(_l("You may not download this export."))
    header, stmt, id_column, to_values = {
        "applications": _applications, "placements": _placements, "grants": _grants, "surveys": _surveys,
    }[kind](scope, filters)
    rows = (to_values(r) for r in _batched(stmt, id_column, batch))
    return Export(kind=kind, header=header, rows=rows)


def _batched(stmt, id_column, batch: int) -> Iterator:
    """The statement's rows in id order, ``batch`` at a time (keyset pagination: no OFFSET, no open cursor)."""
    last = None
    while True:
        page = stmt if last is None else stmt.where(id_column > last)
        rows = db.session.execute(page.order_by(id_column).limit(batch)).all()
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].id


def _memo(fn):
    """``fn`` remembered per argument for one export: labels go through the translations once, not once per row."""
    cache: dict = {}

    def get(*key):
        try:
            return cache[key]
        except KeyError:
            cache[key] = value = fn(*key)
            return value

    return get


def _with_display(amount, currency: str | None) -> tuple:
    """An amount's two columns: the exact machine value, and the amount as the reader's language writes
    it in its currency (empty where there is no amount, or no currency to write it in)."""
    if amount is None or not currency:
        return amount, ""
    return amount, format_money(amount, currency)


def _status_labels(wf):
    return _memo(lambda status, staff: wf.label(status, for_applicant=not staff))


def _applications(scope: Scope, filters: ExportFilters):
    startup = aliased(Organisation)
    staff, own = application_scope.staff_clause(scope), application_scope.own_clause(scope)
    # A startup sees a decision only once the call's decisions are released.
    hidden = and_(not_(staff), rules.decision_hidden_clause())
    status = case((hidden, rules.UNRELEASED_STATUS), else_=Application.status)
    stmt = (
        select(Application.id.label("id"), Call.id.label("call_id"), Call.title.label("call_title"),
               startup.id.label("startup_id"), startup.name.label("startup_name"), startup.org_number, startup.country,
               status.label("status"), staff.label("staff"), func.coalesce(Application.track, startup.track).label("track"),
               func.coalesce(Application.trl, startup.trl).label("trl"), Application.desired_start, Application.months,
               Application.desks, Application.benches, Application.created_at, Application.updated_at)
        .select_from(Application)
        .join(startup, startup.id == Application.startup_id)
        .join(Call, Call.id == Application.call_id)
        .join(Route, Route.id == Call.route_id)
        .where(or_(staff, own))
    )
    if filters.call_id is not None:
        stmt = stmt.where(Application.call_id == filters.call_id)
    if filters.status:
        stmt = stmt.where(status == filters.status)
    stmt = stmt.where(*_between(Application.created_at, filters, is_datetime=True))
    header = [_("Application id"), _("Call id"), _("Call"), _("Startup id"), _("Startup"), _("Organisation number"),
              _("Country"), _("Status code"), _("Status"), _("Track"), _("TRL"), _("Desired start"), _("Months"),
              _("Desks"), _("Benches"), _("Created at (UTC)"), _("Updated at (UTC)")]

    status_label, country, track = _status_labels(workflow.get("application")), _memo(country_name), _memo(track_label)

    def values(r) -> list:
        return [r.id, r.call_id, r.call_title, r.startup_id, r.startup_name, r.org_number, country(r.country),
                r.status, status_label(r.status, bool(r.staff)), track(r.track) if r.track else "",
                r.trl, r.desired_start, r.months, r.desks, r.benches, r.created_at, r.updated_at]

    return header, stmt, Application.id, values


def _placements(scope: Scope, filters: ExportFilters):
    startup, hub = aliased(Organisation), aliased(Organisation)
    staff, own = placement_scope.staff_clause(scope), placement_scope.own_clause(scope)
    stmt = (
        select(Placement.id.label("id"), Application.id.label("application_id"), Call.id.label("call_id"),
               Call.title.label("call_title"), startup.id.label("startup_id"), startup.name.label("startup_name"),
               hub.name.label("hub_name"), Placement.status, staff.label("staff"), Placement.starts_on, Placement.ends_on,
               Placement.desks, Placement.benches, Placement.offer_expires_at, Placement.checked_in_on,
               Placement.checked_out_on, Placement.created_at)
        .select_from(Placement)
        .join(Application, Application.id == Placement.application_id)
        .join(startup, startup.id == Application.startup_id)
        .join(hub, hub.id == Placement.hub_id)
        .join(Call, Call.id == Application.call_id)
        .join(Route, Route.id == Call.route_id)
        .where(or_(staff, own))
    )
    if filters.call_id is not None:
        stmt = stmt.where(Application.call_id == filters.call_id)
    if filters.status:
        stmt = stmt.where(Placement.status == filters.status)
    stmt = stmt.where(*_between(Placement.starts_on, filters, is_datetime=False))
    header = [_("Placement id"), _("Application id"), _("Call id"), _("Call"), _("Startup id"), _("Startup"), _("Hub"),
              _("Status code"), _("Status"), _("Starts on"), _("Ends on"), _("Desks"), _("Benches"),
              _("Offer expires at (UTC)"), _("Checked in on"), _("Checked out on"), _("Created at (UTC)")]

    status_label = _status_labels(workflow.get("placement"))

    def values(r) -> list:
        return [r.id, r.application_id, r.call_id, r.call_title, r.startup_id, r.startup_name, r.hub_name, r.status,
                status_label(r.status, bool(r.staff)), r.starts_on, r.ends_on, r.desks, r.benches,
                r.offer_expires_at, r.checked_in_on, r.checked_out_on, r.created_at]

    return header, stmt, Placement.id, values


def _grants(scope: Scope, filters: ExportFilters):
    startup, funder = aliased(Organisation), aliased(Organisation)
    staff, own = funding_scope.staff_clause(scope), funding_scope.own_clause(scope)
    paid = (
        select(money_sum(Disbursement.amount))
        .where(Disbursement.funding_application_id == FundingApplication.id, Disbursement.paid_at.is_not(None))
        .correlate(FundingApplication)
        .scalar_subquery()
    )
    stmt = (
        select(FundingApplication.id.label("id"), FundingScheme.name.label("scheme_name"), funder.name.label("funder_name"),
               startup.id.label("startup_id"), startup.name.label("startup_name"), FundingApplication.placement_id,
               Call.id.label("call_id"), Call.title.label("call_title"), FundingApplication.title,
               FundingApplication.status, staff.label("staff"), FundingScheme.currency, FundingApplication.period_start,
               FundingApplication.period_end, FundingApplication.own_financing, FundingApplication.amount_requested,
               FundingApplication.granted_amount, FundingApplication.granted_share_percent,
               paid.label("paid_amount"), FundingApplication.created_at)
        .select_from(FundingApplication)
        .join(FundingScheme, FundingScheme.id == FundingApplication.scheme_id)
        .join(funder, funder.id == FundingScheme.funder_id)
        .join(startup, startup.id == FundingApplication.startup_id)
        .join(Placement, Placement.id == FundingApplication.placement_id)
        .join(Application, Application.id == Placement.application_id)
        .join(Call, Call.id == Application.call_id)
        .where(or_(staff, own))
    )
    if filters.call_id is not None:
        stmt = stmt.where(Application.call_id == filters.call_id)
    if filters.status:
        stmt = stmt.where(FundingApplication.status == filters.status)
    stmt = stmt.where(*_between(FundingApplication.created_at, filters, is_datetime=True))
    header = [_("Funding application id"), _("Scheme"), _("Funder"), _("Startup id"), _("Startup"), _("Placement id"),
              _("Call id"), _("Call"), _("Title"), _("Status code"), _("Status"), _("Currency"), _("Period start"),
              _("Period end"), _("Own financing"), _("Own financing (formatted)"), _("Amount requested"),
              _("Amount requested (formatted)"), _("Granted amount"), _("Granted amount (formatted)"),
              _("Granted share (%)"), _("Paid amount"), _("Paid amount (formatted)"), _("Created at (UTC)")]

    status_label = _status_labels(workflow.get("funding"))

    def values(r) -> list:
        return [r.id, r.scheme_name, r.funder_name, r.startup_id, r.startup_name, r.placement_id, r.call_id, r.call_title,
                r.title, r.status, status_label(r.status, bool(r.staff)), r.currency, r.period_start, r.period_end,
                *_with_display(r.own_financing, r.currency), *_with_display(r.amount_requested, r.currency),
                *_with_display(r.granted_amount, r.currency), r.granted_share_percent,
                *_with_display(r.paid_amount, r.currency), r.created_at]

    return header, stmt, FundingApplication.id, values


def _surveys(scope: Scope, filters: ExportFilters):
    startup, hub = aliased(Organisation), aliased(Organisation)
    # Surveys are the startup's own answers: administrators and the startup only.
    staff, own = scope.everything(), scope.startups(ImpactSurvey.startup_id)
    stmt = (
        select(ImpactSurvey.id.label("id"), ImpactSurvey.placement_id, Call.id.label("call_id"),
               Call.title.label("call_title"), startup.id.label("startup_id"), startup.name.label("startup_name"),
               hub.name.label("hub_name"), ImpactSurvey.months_after, ImpactSurvey.due_on, ImpactSurvey.currency,
               ImpactSurvey.employees, ImpactSurvey.revenue, ImpactSurvey.capital_raised, ImpactSurvey.export_revenue,
               ImpactSurvey.patents_filed, ImpactSurvey.products_launched, ImpactSurvey.partnerships_with_host,
               ImpactSurvey.submitted_at)
        .select_from(ImpactSurvey)
        .join(startup, startup.id == ImpactSurvey.startup_id)
        .join(Placement, Placement.id == ImpactSurvey.placement_id)
        .join(hub, hub.id == Placement.hub_id)
        .join(Application, Application.id == Placement.application_id)
        .join(Call, Call.id == Application.call_id)
        .where(or_(staff, own))
    )
    if filters.call_id is not None:
        stmt = stmt.where(Application.call_id == filters.call_id)
    if filters.status == "submitted":
        stmt = stmt.where(ImpactSurvey.submitted_at.is_not(None))
    elif filters.status == "due":
        stmt = stmt.where(ImpactSurvey.submitted_at.is_(None))
    stmt = stmt.where(*_between(ImpactSurvey.due_on, filters, is_datetime=False))
    header = [_("Survey id"), _("Placement id"), _("Call id"), _("Call"), _("Startup id"), _("Startup"), _("Hub"),
              _("Months after the residency"), _("Due on"), _("Currency"), _("Employees"), _("Revenue"),
              _("Revenue (formatted)"), _("Capital raised"), _("Capital raised (formatted)"), _("Export revenue"),
              _("Export revenue (formatted)"), _("Patents filed"), _("Products launched"),
              _("Partnerships with the host"), _("Submitted at (UTC)")]

    def values(r) -> list:
        return [r.id, r.placement_id, r.call_id, r.call_title, r.startup_id, r.startup_name, r.hub_name, r.months_after,
                r.due_on, r.currency, r.employees, *_with_display(r.revenue, r.currency),
                *_with_display(r.capital_raised, r.currency), *_with_display(r.export_revenue, r.currency),
                r.patents_filed, r.products_launched, r.partnerships_with_host, r.submitted_at]

    return header, stmt, ImpactSurvey.id, values
