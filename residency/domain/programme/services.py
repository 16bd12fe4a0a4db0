"""The programme administrator's work: organisations, invitations, routes,
calls, status corrections and the outbox.

Every public function takes plain values and the acting administrator, refuses
with ``Invalid`` (field errors keyed by form field), ``Conflict`` or
``NotFound``, and runs in one unit of work (``@service``). Statuses move only
through ``workflow.perform``. Deadline extensions are ``applications.services``'.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from residency.core.i18n import lazy_gettext as _l
from residency.core.i18n import ngettext
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from residency.core import limits, orgnumbers, pagination, workflow
from residency.domain.accounts import services as accounts
from residency.core.errors import Conflict, Forbidden, Invalid, NotFound
from residency.core.extensions import db
from residency.domain.forms import services as forms
from residency.domain.forms.models import FormQuestion
from residency.core.i18n import country_name, format_clock, format_day, is_timezone
from residency.core.uow import savepoint, service
from residency.domain.accounts.models import (
    COUNTRIES,
    COUNTRY_ZONES,  # a blank time zone means the usual one of the organisation's country
    ORGANISATION_KINDS,
    TRACKS,
    Invitation,
    Organisation,
    User,
)
from residency.domain.programme.models import Call, Criterion, Route, normalise_newlines
from residency.core.outbox_models import OutboxMessage
from residency.core.models import StatusChange
from residency.core.db import utcnow
from residency.core.outbox_models import DELIVERY_STATES
from residency.core.outbox import actions_of, cancel, preview, resend

STAFF_KINDS = ("cluster", "hub", "funder", "operator")
CALL_ACTIONS = ("publish", "close", "reopen", "archive")
EDITABLE_CALL_STATES = ("draft", "published")
INVITATION_STATES = ("pending", "accepted", "expired", "revoked")
OUTBOX_PAGE_SIZE = 50
AUDIT_PAGE_SIZE = 50
PER_PAGE = 50  # rows per page of the administration's lists
MAX_WEIGHT = Decimal("999.99")  # Criterion.weight is Numeric(5, 2)


def _require_admin(actor: User | None) -> None:
    if actor is None or not actor.has_role(workflow.ADMIN):
        raise Forbidden(_l("Only a programme administrator may do this."))


def _refuse(errors: dict) -> None:
    if errors:
        raise Invalid(_l("Please correct the marked fields. Nothing was saved."), errors)


def _clean(value: str | None) -> str:
    return (value or "").strip()


# ------------------------------------------------------------------ dashboard


# The e-mail states an administrator acts on, counted whole: few rows, a range of an index each.
OUTBOX_ATTENTION = ("queued", "failed", "held")
# Sent mail grows without end; the dashboard counts what was queued in this window and has gone.
SENT_WINDOW = timedelta(days=7)


@dataclass
class Overview:
    organisations: dict
    calls: dict
    open_calls: int
    outbox: dict  # OUTBOX_ATTENTION state -> messages in it
    sent_recently: int = 0  # messages queued within SENT_WINDOW and sent


def overview(now: datetime | None = None) -> Overview:
    """Counts for the dashboard, a fixed handful of grouped queries."""
    now = now or utcnow()
    by_kind = dict(db.session.execute(select(Organisation.kind, func.count()).group_by(Organisation.kind)).all())
    by_status = dict(db.session.execute(select(Call.status, func.count()).group_by(Call.status)).all())
    open_calls = db.session.scalar(
        select(func.count()).select_from(Call).where(Call.status == "published", Call.opens_at <= now, Call.closes_at > now)
    )
    by_delivery = dict(db.session.execute(select(OutboxMessage.delivery, func.count())
                                          .where(OutboxMessage.delivery.in_(OUTBOX_ATTENTION))
                                          .group_by(OutboxMessage.delivery)).all())
    sent_recently = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.delivery == "sent", OutboxMessage.created_at >= now - SENT_WINDOW))
    return Overview(
        organisations={kind: by_kind.get(kind, 0) for kind in ORGANISATION_KINDS},
        calls={status: by_status.get(status, 0) for status in ("draft", "published", "closed", "archived")},
        open_calls=open_calls or 0,
        outbox={state: by_delivery.get(state, 0) for state in OUTBOX_ATTENTION},
        sent_recently=sent_recently or 0,
    )


# --------------------------------------------------------------- organisations


def list_organisations(kind: str | None = None, page: int = 1, per_page: int = PER_PAGE) -> pagination.Page:
    """One page of organisations by kind and name (the index on kind and name): a count and a select."""
    where = [Organisation.kind == kind] if kind in ORGANISATION_KINDS else []
    return pagination.by_offset(
        select(Organisation).where(*where).order_by(Organisation.kind, Organisation.name, Organisation.id),
        select(func.count()).select_from(Organisation).where(*where), page, per_page)


def get_organisation(organisation_id: int) -> Organisation:
    org = db.session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound(_l("There is no such organisation."))
    return org


def organisations_of_kind(*kinds: str) -> list[Organisation]:
    """For choosing in forms: organisations of these kinds, by name."""
    return list(db.session.scalars(
        select(Organisation).where(Organisation.kind.in_(kinds)).order_by(Organisation.kind, Organisation.name)
    ))


def _organisation_values(*, organisation_id, kind, name, country, org_number, city, timezone_name, website,
                         founded_on, employees, track, trl, today: date) -> dict:
    """Check an organisation's fields; return the values to store or raise Invalid."""
    errors: dict = {}
    name, city, website, timezone_name = _clean(name), _clean(city), _clean(website), _clean(timezone_name)
    if kind not in ORGANISATION_KINDS:
        errors["kind"] = [_l("Choose the kind of organisation.")]
    if not name:
        errors["name"] = [_l("Enter the organisation's name.")]
    elif len(name) > 200:
        errors["name"] = [_l("Use at most 200 characters.")]
    canonical = None
    if country not in COUNTRIES:
        errors["country"] = [_l("Choose a country: Norway, Sweden, Denmark, Finland or Iceland.")]
    else:
        try:
            canonical = orgnumbers.check(country, org_number or "")
        except orgnumbers.InvalidOrgNumber as invalid:
            errors["org_number"] = [invalid.message]
    if canonical is not None:
        holder = db.session.scalar(select(Organisation).where(
            Organisation.country == country, Organisation.org_number == canonical,
            Organisation.id != (organisation_id or 0)))
        if holder is not None:
            errors["org_number"] = [_l("%(name)s is already registered with this organisation number.", name=holder.name)]
    if len(city) > 100:
        errors["city"] = [_l("Use at most 100 characters.")]
    if not timezone_name and country in COUNTRY_ZONES:
        timezone_name = COUNTRY_ZONES[country]
    if timezone_name and not is_timezone(timezone_name):
        errors["timezone"] = [_l("Enter an IANA time zone such as Europe/Oslo or Europe/Stockholm.")]
    if website and not re.match(r"^https?://[^\s/?#]+\.[^\s/?#]+", website, re.IGNORECASE):
        errors["website"] = [_l("Enter the full address, starting with https://.")]
    elif len(website) > 300:
        errors["website"] = [_l("Use at most 300 characters.")]

    profile = dict(founded_on=None, employees=None, track=None, trl=None)
    if kind == "startup":
        if founded_on is None:
            errors["founded_on"] = [_l("Enter the date the startup was founded.")]
        elif founded_on > today:
            errors["founded_on"] = [_l("The founding date cannot be in the future.")]
        if employees is None:
            errors["employees"] = [_l("Enter the number of employees.")]
        elif employees < 0:
            errors["employees"] = [_l("The number of employees cannot be negative.")]
        if track not in TRACKS:
            errors["track"] = [_l("Choose the startup's track.")]
        if trl is None:
            errors["trl"] = [_l("Choose the technology readiness level (1 to 9).")]
        elif not 1 <= trl <= 9:
            errors["trl"] = [_l("The technology readiness level is a whole number from 1 to 9.")]
        profile = dict(founded_on=founded_on, employees=employees, track=track, trl=trl)
    _refuse(errors)
    return dict(kind=kind, name=name, country=country, org_number=canonical, city=city or None,
                timezone=timezone_name or None, website=website or None, **profile)


def _flush_organisation(org: Organisation, values: dict) -> None:
    """Store the organisation's values; a number registered meanwhile is a refusal on its field."""
    try:
        with savepoint():
            for key, value in values.items():
                setattr(org, key, value)
            db.session.add(org)
            db.session.flush()
    except IntegrityError:
        # Someone registered the same number between our check and our flush.
        raise Invalid(_l("Please correct the marked fields. Nothing was saved."),
                      {"org_number": [_l("Another organisation is already registered with this organisation number.")]})


@service
def create_organisation(actor: User, *, kind: str, name: str, country: str, org_number: str, city: str | None = None,
                        timezone_name: str | None = None, website: str | None = None, founded_on: date | None = None,
                        employees: int | None = None, track: str | None = None, trl: int | None = None,
                        now: datetime | None = None) -> Organisation:
    """Register an organisation; the organisation number is stored in its canonical form."""
    _require_admin(actor)
    now = now or utcnow()
    values = _organisation_values(organisation_id=None, kind=kind, name=name, country=country, org_number=org_number,
                                  city=city, timezone_name=timezone_name, website=website, founded_on=founded_on,
                                  employees=employees, track=track, trl=trl, today=now.date())
    org = Organisation(created_at=now)
    _flush_organisation(org, values)
    return org


@service
def update_organisation(actor: User, organisation_id: int, *, name: str, country: str, org_number: str,
                        city: str | None = None, timezone_name: str | None = None, website: str | None = None,
                        founded_on: date | None = None, employees: int | None = None, track: str | None = None,
                        trl: int | None = None, now: datetime | None = None) -> Organisation:
    """Change an organisation's details. Its kind stays: members' roles and routes depend on it."""
    _require_admin(actor)
    now = now or utcnow()
    org = get_organisation(organisation_id)
    values = _organisation_values(organisation_id=org.id, kind=org.kind, name=name, country=country, org_number=org_number,
                                  city=city, timezone_name=timezone_name, website=website, founded_on=founded_on,
                                  employees=employees, track=track, trl=trl, today=now.date())
    _flush_organisation(org, values)
    return org


# ----------------------------------------------------------------- invitations


def invitation_state(invitation: Invitation, now: datetime) -> str:
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.expires_at <= now:
        return "expired"
    return "pending"


def list_invitations(state: str | None = None, page: int = 1, now: datetime | None = None,
                     per_page: int = PER_PAGE) -> pagination.Page:
    """One page of invitations newest first, each row ``(invitation, state)``: a count and a select."""
    now = now or utcnow()
    stmt = select(Invitation)
    open_ = and_(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
    where = {
        "pending": and_(open_, Invitation.expires_at > now),
        "accepted": and_(Invitation.accepted_at.is_not(None), Invitation.revoked_at.is_(None)),
        "expired": and_(open_, Invitation.expires_at <= now),
        "revoked": Invitation.revoked_at.is_not(None),
    }.get(state)
    where = [where] if where is not None else []
    result = pagination.by_offset(
        stmt.where(*where)
        .options(joinedload(Invitation.organisation), joinedload(Invitation.invited_by).lazyload(User.memberships))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc()),
        select(func.count()).select_from(Invitation).where(*where), page, per_page)
    result.rows = [(inv, invitation_state(inv, now)) for inv in result.rows]
    return result


@service
def invite_staff(actor: User, *, email: str, organisation_id: int | None, now: datetime | None = None) -> Invitation:
    """E-mail an invitation to join a cluster, hub, funder or the operator."""
    _require_admin(actor)
    org = db.session.get(Organisation, organisation_id) if organisation_id else None
    if org is None:
        raise Invalid(_l("Please correct the marked fields. Nothing was saved."),
                      {"organisation_id": [_l("Choose a cluster, hub, funder or the operator.")]})
    if not _clean(email):
        raise Invalid(_l("Please correct the marked fields. Nothing was saved."), {"email": [_l("Enter an e-mail address.")]})
    return accounts.invite(actor=actor, email=email, organisation=org, now=now)


@service
def revoke_invitation(actor: User, invitation_id: int, now: datetime | None = None) -> Invitation:
    """Withdraw an invitation so that its link stops working."""
    _require_admin(actor)
    now = now or utcnow()
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound(_l("There is no such invitation."))
    if invitation.accepted_at is not None:
        raise Conflict(_l("This invitation was already accepted; it cannot be withdrawn."))
    if invitation.revoked_at is not None:
        raise Conflict(_l("This invitation was already withdrawn."))
    invitation.revoked_at = now
    return invitation


# ---------------------------------------------------------------------- routes


def list_routes(open_only: bool = False) -> list[Route]:
    """Routes with hub, cluster (joined) and funders (one more query), by country and hub: for choosing in forms
    (a new call only on an open route)."""
    stmt = _routes_in_order()
    if open_only:
        stmt = stmt.where(Route.status == "open")
    return list(db.session.scalars(stmt).unique())


def _routes_in_order():
    return (select(Route).join(Route.host_hub)
            .options(contains_eager(Route.host_hub), joinedload(Route.cluster), selectinload(Route.funders))
            .order_by(Route.home_country, Organisation.name, Route.id))


def routes_page(page: int = 1, per_page: int = PER_PAGE) -> pagination.Page:
    """One page of routes by country and hub, the funders of the page's routes only (one more query)."""
    return pagination.by_offset(_routes_in_order(), select(func.count()).select_from(Route), page, per_page)


def _route_parts(home_country: str, host_hub_id, cluster_id, funder_ids, route: Route | None = None):
    """The route's hub, cluster and funders as chosen, and what is wrong with them, per field."""
    errors: dict = {}
    if home_country not in COUNTRIES:
        errors["home_country"] = [_l("Choose the startups' home country.")]
    hub = db.session.get(Organisation, host_hub_id) if host_hub_id else None
    if hub is None or hub.kind != "hub":
        errors["host_hub_id"] = [_l("Choose the host hub.")]
    cluster = db.session.get(Organisation, cluster_id) if cluster_id else None
    if cluster is None or cluster.kind != "cluster":
        errors["cluster_id"] = [_l("Choose the nominating cluster.")]
    funder_ids = list(dict.fromkeys(funder_ids or []))
    funders = list(db.session.scalars(select(Organisation).where(Organisation.id.in_(funder_ids)))) if funder_ids else []
    if len(funders) != len(funder_ids) or any(f.kind != "funder" for f in funders):
        errors["funder_ids"] = [_l("Choose funders only.")]
    if hub is not None and hub.kind == "hub" and home_country in COUNTRIES:
        if hub.country == home_country:
            errors["host_hub_id"] = [_l("The host hub is in %(country)s itself; a residency route leads to a hub in another country.",
                                        country=country_name(home_country))]
        elif db.session.scalar(select(Route.id).where(Route.home_country == home_country, Route.host_hub_id == hub.id,
                                                      *([Route.id != route.id] if route is not None else []))):
            errors["host_hub_id"] = [_l("There is already a route from %(country)s to %(hub)s.",
                                        country=country_name(home_country), hub=hub.name)]
    return hub, cluster, sorted(funders, key=lambda f: funder_ids.index(f.id)), errors


@service
def create_route(actor: User, *, home_country: str, host_hub_id: int | None, cluster_id: int | None,
                 funder_ids: list[int] | None = None) -> Route:
    """Open a route: startups of ``home_country`` reside at the hub, nominated by the cluster."""
    _require_admin(actor)
    hub, cluster, funders, errors = _route_parts(home_country, host_hub_id, cluster_id, funder_ids)
    _refuse(errors)
    route = Route(home_country=home_country, host_hub=hub, cluster=cluster, funders=funders)
    try:
        with savepoint():
            db.session.add(route)
            db.session.flush()
    except IntegrityError:
        raise Invalid(_l("Please correct the marked fields. Nothing was saved."),
                      {"host_hub_id": [_l("There is already a route from this country to this hub.")]})
    return route


def get_route(route_id: int) -> Route:
    route = db.session.get(Route, route_id)
    if route is None:
        raise NotFound(_l("Not found."))
    return route


def route_has_calls(route: Route) -> bool:
    return db.session.scalar(select(Call.id).where(Call.route_id == route.id).limit(1)) is not None


@service
def update_route(actor: User, route_id: int, *, home_country: str, host_hub_id: int | None, cluster_id: int | None,
                 funder_ids: list[int] | None = None) -> Route:
    """Change a route. Its eligible funders may always change; its home country, host hub and
    nominating cluster only while it has no calls, since applications, reviews and placements
    of those calls belong to them (close the route and open another instead)."""
    _require_admin(actor)
    route = get_route(route_id)
    hub, cluster, funders, errors = _route_parts(home_country, host_hub_id, cluster_id, funder_ids, route)
    if route_has_calls(route):
        fixed = _l("The route has calls, so this stays; close the route and open a new one instead.")
        for key, before, after in (("home_country", route.home_country, home_country),
                                   ("host_hub_id", route.host_hub_id, host_hub_id),
                                   ("cluster_id", route.cluster_id, cluster_id)):
            if before != after:
                errors[key] = [fixed]
    _refuse(errors)
    route.home_country, route.host_hub, route.cluster, route.funders = home_country, hub, cluster, funders
    try:
        with savepoint():
            db.session.flush()
    except IntegrityError:
        raise Invalid(_l("Please correct the marked fields. Nothing was saved."),
                      {"host_hub_id": [_l("There is already a route from this country to this hub.")]})
    return route


@service
def close_route(actor: User, route_id: int, *, reason: str):
    """Close a route to new calls; the calls it has run to their end."""
    return workflow.perform(get_route(route_id), "close", actor, reason=reason)


@service
def reopen_route(actor: User, route_id: int):
    return workflow.perform(get_route(route_id), "reopen", actor)


# ----------------------------------------------------------------------- calls


def list_calls(status: str | None = None, page: int = 1, per_page: int = PER_PAGE) -> pagination.Page:
    """One page of calls with their route and hub, newest opening first: a count and a select."""
    where = [Call.status == status] if status else []
    return pagination.by_offset(
        # The list shows each call's route and hub; criteria and funders it never reads.
        select(Call).where(*where).options(joinedload(Call.route).joinedload(Route.host_hub))
        .order_by(Call.opens_at.desc(), Call.id.desc()),
        select(func.count()).select_from(Call).where(*where), page, per_page)


def calls_with_forms(exclude: int | None = None) -> list[Call]:
    """The calls whose form another call may copy, newest first (at most 200)."""
    stmt = (select(Call).where(select(FormQuestion.id).where(FormQuestion.call_id == Call.id).exists())
            .order_by(Call.id.desc()).limit(200))
    if exclude is not None:
        stmt = stmt.where(Call.id != exclude)
    return list(db.session.scalars(stmt))


def call_has_applications(call_id: int) -> bool:
    return forms.call_has_applications(call_id)


def get_call(call_id: int) -> Call:
    call = db.session.get(Call, call_id)
    if call is None:
        raise NotFound(_l("There is no such call."))
    return call


class ClockChange(ValueError):
    """A wall-clock time that the zone's clocks skip (``"gap"``: they go forward over it) or pass
    twice (``"overlap"``: they go back over it). ``before`` and ``after`` are what the clocks read
    just before and just after the change; ``message`` says it all to the reader."""

    def __init__(self, kind: str, local: datetime, zone: str, before: datetime, after: datetime):
        super().__init__(kind)
        self.kind, self.local, self.zone, self.before, self.after = kind, local, zone, before, after

    @property
    def message(self):
        words = dict(time=format_clock(self.local.time()), zone=self.zone, day=format_day(self.local.date()),
                     before=format_clock(self.before.time()), after=format_clock(self.after.time()))
        if self.kind == "gap":
            return _l("%(time)s does not exist in %(zone)s: on %(day)s the clocks go forward from %(before)s to "
                      "%(after)s. Choose %(after)s or later, or a time before %(before)s.", **words)
        return _l("%(time)s happens twice in %(zone)s: on %(day)s the clocks go back from %(before)s to %(after)s, "
                  "so the times from %(after)s until %(before)s come twice. Choose a time before %(after)s, or %(before)s or later.", **words)


def local_to_utc(local: datetime, zone: str) -> datetime:
    """A wall-clock time in ``zone`` as a UTC-aware instant.

    Times that do not exist (the clocks jump forward) or exist twice (the
    clocks go back) are refused (``ClockChange``) rather than guessed: a
    deadline must be one unambiguous moment, and the refusal says what the
    clocks do that night.
    """
    tz = ZoneInfo(zone)
    naive = local.replace(tzinfo=None, second=0, microsecond=0)
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        kind = "gap" if first.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) != naive else "overlap"
        before, after = _clock_change_around(naive, tz, first.utcoffset(), second.utcoffset())
        raise ClockChange(kind, naive, zone, before, after)
    return first.astimezone(timezone.utc)


def _clock_change_around(naive: datetime, tz: ZoneInfo, offset_before: timedelta, offset_after: timedelta):
    """What the clocks of ``tz`` read just before and just after the change that makes ``naive``
    skipped or doubled (fold 0 carries the offset before the change, fold 1 the one after)."""
    low = (naive - max(offset_before, offset_after)).replace(tzinfo=timezone.utc)
    high = (naive - min(offset_before, offset_after)).replace(tzinfo=timezone.utc)
    # The first instant on the new offset, to the second (the change lies between low and high).
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    change = high.replace(microsecond=0, tzinfo=None)
    return change + offset_before, change + offset_after


def utc_to_local(moment: datetime, zone: str) -> datetime:
    """The naive wall-clock time of ``moment`` in ``zone``, for a form field."""
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def parse_criteria(rows: list[dict] | None) -> list[tuple[str, Decimal, str]]:
    """Criteria as rows of ``name``, ``weight`` and optional ``guidance`` for the reviewers (as typed;
    a wholly blank row is skipped), read as (name, weight, guidance).

    Raise Invalid with each problem on its row's field (``criteria-<row>-name``, ``criteria-<row>-weight``,
    the row counted as given, blank rows included) and those of the whole list on ``criteria``."""
    criteria, errors, seen = [], {}, set()
    rows = list(rows or [])
    for number, row in enumerate(rows):
        name, weight_text = _clean(row.get("name")), str(row.get("weight") or "").strip()
        guidance = normalise_newlines(row.get("guidance")).strip()
        if not name and not weight_text and not guidance:
            continue
        problems: dict[str, list] = {}
        if (problem := limits.text_problem(guidance, limits.REASON_MAX, multiline=True)) is not None:
            problems["guidance"] = [problem]
        if not name:
            problems["name"] = [_l("Enter the criterion's name.")]
        elif len(name) > limits.NAME_MAX:
            problems["name"] = [_l("Use at most 200 characters.")]
        elif name.casefold() in seen:
            problems["name"] = [_l("“%(name)s” is listed twice.", name=name)]
        weight = None
        try:
            weight = Decimal(weight_text.replace(",", ".").replace(" ", "").replace("\u00a0", ""))
            if not weight.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            problems["weight"] = [_l("Enter the weight as a number, like 20 or 12.5.")]
        else:
            if weight <= 0:
                problems["weight"] = [_l("The weight must be more than 0.")]
            elif weight > MAX_WEIGHT or weight != weight.quantize(Decimal("0.01")):
                problems["weight"] = [_l("Use a weight up to 999.99 with at most two decimals.")]
        if problems:
            errors.update({f"criteria-{number}-{field}": messages for field, messages in problems.items()})
            continue
        seen.add(name.casefold())
        criteria.append((name, weight.quantize(Decimal("0.01")), guidance))
    if not errors:
        if not criteria:
            errors["criteria"] = [_l("Add at least one scoring criterion.")]
        elif len(criteria) > limits.CRITERIA_MAX:
            errors["criteria"] = [ngettext("Use at most %(num)d criterion.", "Use at most %(num)d criteria.",
                                           limits.CRITERIA_MAX)]
    if errors:
        raise Invalid(_l("Please correct the marked fields. Nothing was saved."), errors)
    return criteria


def criteria_rows(call: Call) -> list[dict]:
    """The criteria as rows for the edit form, weights as typed back (“12.5”, not “12.50”)."""
    return [{"name": c.name, "weight": f"{c.weight.normalize():f}", "guidance": c.guidance} for c in call.criteria]


MOMENTS = (
    ("opens_at", _l("Enter when the call opens.")),
    ("closes_at", _l("Enter when applications close.")),
    ("nomination_deadline", _l("Enter the nomination deadline.")),
    ("decision_deadline", _l("Enter the decision deadline.")),
)


def _call_values(*, route: Route, title, description, timezone_name, opens_at, closes_at, nomination_deadline,
                 decision_deadline, seats, residency_starts_on, residency_ends_on, criteria) -> dict:
    """Check a call's fields; local times become UTC instants. Raise Invalid with every problem at once."""
    errors: dict = {}
    title, description, zone = _clean(title), normalise_newlines(description).strip(), _clean(timezone_name)
    if not title:
        errors["title"] = [_l("Enter the call's title.")]
    elif len(title) > 200:
        errors["title"] = [_l("Use at most 200 characters.")]
    if not zone:
        zone = route.host_hub.timezone or COUNTRY_ZONES.get(route.host_hub.country, "")
    if not is_timezone(zone):
        errors["timezone"] = [_l("Enter an IANA time zone such as Europe/Oslo or Europe/Stockholm.")]
        zone = None

    local = dict(opens_at=opens_at, closes_at=closes_at, nomination_deadline=nomination_deadline,
                 decision_deadline=decision_deadline)
    moments: dict = {}
    for name, missing in MOMENTS:
        value = local[name]
        if value is None:
            errors.setdefault(name, [missing])
        elif zone:
            try:
                moments[name] = local_to_utc(value, zone)
            except ClockChange as problem:
                errors.setdefault(name, [problem.message])
    order = (
        ("opens_at", "closes_at", lambda a, b: a < b, _l("Applications must close after the call opens.")),
        ("closes_at", "nomination_deadline", lambda a, b: a <= b,
         _l("The nomination deadline cannot be before applications close.")),
        ("nomination_deadline", "decision_deadline", lambda a, b: a <= b,
         _l("The decision deadline cannot be before the nomination deadline.")),
    )
    for earlier, later, holds, message in order:
        if earlier in moments and later in moments and not holds(moments[earlier], moments[later]):
            errors.setdefault(later, [message])
    if seats is None:
        errors["seats"] = [_l("Enter the number of seats.")]
    elif seats <= 0:
        errors["seats"] = [_l("Offer at least one seat.")]
    elif seats > limits.SEATS_MAX:
        errors["seats"] = [limits.number_message(1, limits.SEATS_MAX)]
    if residency_starts_on is None:
        errors["residency_starts_on"] = [_l("Enter the first day of the residency window.")]
    if residency_ends_on is None:
        errors["residency_ends_on"] = [_l("Enter the last day of the residency window.")]
    elif residency_starts_on is not None and residency_starts_on >= residency_ends_on:
        errors["residency_ends_on"] = [_l("The residency window must end after it starts.")]
    try:
        criteria = parse_criteria(criteria)
    except Invalid as invalid:
        errors.update(invalid.field_errors)
        criteria = []
    _refuse(errors)
    return dict(title=title, description=description, timezone=zone, seats=seats, residency_starts_on=residency_starts_on,
                residency_ends_on=residency_ends_on, criteria=criteria, **moments)


def _set_criteria(call: Call, criteria: list[tuple[str, Decimal, str]]) -> None:
    """Keep existing criterion rows by position (later reviews may point at them); add or drop the rest."""
    existing = list(call.criteria)
    for position, (name, weight, guidance) in enumerate(criteria):
        if position < len(existing):
            row = existing[position]
            row.name, row.weight, row.position, row.guidance = name, weight, position, guidance
        else:
            call.criteria.append(Criterion(name=name, weight=weight, position=position, guidance=guidance))
    for extra in existing[len(criteria):]:
        call.criteria.remove(extra)


@service
def create_call(actor: User, *, route_id: int | None, title: str, description: str = "", timezone_name: str | None = None,
                opens_at: datetime | None, closes_at: datetime | None, nomination_deadline: datetime | None,
                decision_deadline: datetime | None, seats: int | None, residency_starts_on: date | None,
                residency_ends_on: date | None, criteria: list[dict], feedback_in_decision_email: bool = True) -> Call:
    """Create a draft call on a route; the four moments are wall-clock times in the call's zone.
    ``feedback_in_decision_email``: the reviewers' comments for the startup go into its decision e-mail."""
    _require_admin(actor)
    route = db.session.get(Route, route_id) if route_id else None
    if route is None:
        raise Invalid(_l("Please correct the marked fields. Nothing was saved."), {"route_id": [_l("Choose the call's route.")]})
    if route.status == "closed":
        raise Invalid(_l("Please correct the marked fields. Nothing was saved."),
                      {"route_id": [_l("This route is closed to new calls; reopen it first.")]})
    values = _call_values(route=route, title=title, description=description, timezone_name=timezone_name,
                          opens_at=opens_at, closes_at=closes_at, nomination_deadline=nomination_deadline,
                          decision_deadline=decision_deadline, seats=seats, residency_starts_on=residency_starts_on,
                          residency_ends_on=residency_ends_on, criteria=criteria)
    criteria = values.pop("criteria")
    call = Call(route=route, feedback_in_decision_email=bool(feedback_in_decision_email), **values)
    _set_criteria(call, criteria)
    db.session.add(call)
    db.session.flush()
    forms.start_form(call.id, home_country=route.home_country, actor_id=actor.id)
    return call


@service
def update_call(actor: User, call_id: int, *, title: str, description: str = "", timezone_name: str | None = None,
                opens_at: datetime | None, closes_at: datetime | None, nomination_deadline: datetime | None,
                decision_deadline: datetime | None, seats: int | None, residency_starts_on: date | None,
                residency_ends_on: date | None, criteria: list[dict], feedback_in_decision_email: bool | None = None) -> Call:
    """Change a draft or published call; its route stays (``feedback_in_decision_email`` None: as it was)."""
    _require_admin(actor)
    call = get_call(call_id)
    if call.status not in EDITABLE_CALL_STATES:
        raise Conflict(_l("Only draft and published calls can be edited; this one is %(state)s.",
                          state=workflow.get("call").label(call.status, False)))
    values = _call_values(route=call.route, title=title, description=description, timezone_name=timezone_name,
                          opens_at=opens_at, closes_at=closes_at, nomination_deadline=nomination_deadline,
                          decision_deadline=decision_deadline, seats=seats, residency_starts_on=residency_starts_on,
                          residency_ends_on=residency_ends_on, criteria=criteria)
    _set_criteria(call, values.pop("criteria"))
    for key, value in values.items():
        setattr(call, key, value)
    if feedback_in_decision_email is not None:
        call.feedback_in_decision_email = bool(feedback_in_decision_email)
    db.session.flush()
    return call


@service
def change_call_status(actor: User, call_id: int, action: str, now: datetime | None = None) -> Call:
    """Publish, close, reopen or archive a call through the workflow."""
    _require_admin(actor)
    if action not in CALL_ACTIONS:
        raise NotFound(_l("Not found."))
    call = get_call(call_id)
    workflow.perform(call, action, actor, now=now)
    return call


# ------------------------------------------------------- force and revert


def correctable_workflows() -> list[workflow.Workflow]:
    """The workflows whose records exist, so an administrator can correct them."""
    return workflow.registered()


def workflow_record(workflow_name: str, record_id: int):
    """The workflow and its record, or NotFound."""
    wf = workflow.get(workflow_name)
    if wf is None or wf.model is None:
        raise NotFound(_l("There is no such workflow."))
    record = db.session.get(wf.model, record_id)
    if record is None:
        raise NotFound(_l("There is no such record."))
    return wf, record


def audit_trail(wf: workflow.Workflow, record, cursor: pagination.Cursor = pagination.Cursor(),
                per_page: int = AUDIT_PAGE_SIZE) -> pagination.Page:
    """One page of a record's audit trail, oldest first by the ever-increasing id (a keyset page,
    on the index of workflow, record and id), with who made each change: a count and a select."""
    stmt = select(StatusChange).where(StatusChange.workflow == wf.name, StatusChange.record_id == record.id)
    return pagination.by_key(stmt, StatusChange.id, cursor, per_page,
                             options=(joinedload(StatusChange.actor).lazyload(User.memberships),))


@dataclass(frozen=True)
class AuditSearch:
    """What the administrator looks for in the whole audit trail; each part optional. ``since`` and
    ``until`` are days (both included) in ``zone``."""

    workflow: str | None = None
    record_id: int | None = None
    actor: str = ""
    since: date | None = None
    until: date | None = None
    zone: str = "UTC"


def _zone_midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def search_audit(search: AuditSearch, cursor: pagination.Cursor = pagination.Cursor(),
                 per_page: int = AUDIT_PAGE_SIZE) -> pagination.Page:
    """One page of every status change of every record, newest first (a keyset page on the id),
    narrowed to a kind of record, a record, an actor (part of a name or an e-mail address) and days;
    with who made each change: a count and a select."""
    stmt = select(StatusChange)
    if search.workflow:
        stmt = stmt.where(StatusChange.workflow == search.workflow)
    if search.record_id is not None:
        stmt = stmt.where(StatusChange.record_id == search.record_id)
    if search.actor.strip():
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", search.actor.strip().lower()) + "%"
        stmt = stmt.where(StatusChange.actor_id.in_(select(User.id).where(
            func.lower(User.name).like(pattern, escape="\\") | func.lower(User.email).like(pattern, escape="\\"))))
    if search.since is not None:
        stmt = stmt.where(StatusChange.created_at >= _zone_midnight(search.since, search.zone))
    if search.until is not None:
        stmt = stmt.where(StatusChange.created_at < _zone_midnight(search.until + timedelta(days=1), search.zone))
    return pagination.by_key(stmt, StatusChange.id, cursor, per_page, descending=True,
                             options=(joinedload(StatusChange.actor).lazyload(User.memberships),))


def record_zone(record) -> str:
    """The time zone a record's dates are read in: its call's."""
    call = record if isinstance(record, Call) else getattr(record, "call", None)
    return call.timezone if call is not None else "UTC"


@service
def correct_status(actor: User, workflow_name: str, record_id: int, *, action: str, reason: str | None,
                   target: str | None = None, now: datetime | None = None):
    """Force a record to ``target``, or revert it to its previous status, with a reason."""
    _require_admin(actor)
    wf, record = workflow_record(workflow_name, record_id)
    if action not in (workflow.FORCE, workflow.REVERT):
        raise Invalid(_l("Choose whether to force or revert the status."), {"action": [_l("Choose force or revert.")]})
    change = workflow.perform(record, action, actor, reason=reason,
                              target=target if action == workflow.FORCE else None, now=now)
    return change


# ---------------------------------------------------------------------- outbox


def list_outbox(delivery: str | None = None, cursor: pagination.Cursor = pagination.Cursor(),
                per_page: int = OUTBOX_PAGE_SIZE) -> pagination.Page:
    """One page of messages, newest first (by creation, then id), after or before ``cursor`` (a
    keyset page on the index of creation and id: the thousandth costs what the first costs):
    a count and a select."""
    stmt = select(OutboxMessage)
    if delivery in DELIVERY_STATES:
        stmt = stmt.where(OutboxMessage.delivery == delivery)
    return pagination.by_key(stmt, OutboxMessage.id, cursor, per_page, descending=True,
                             leading=(OutboxMessage.created_at,))


@service
def resend_message(actor: User, message_id: int) -> OutboxMessage:
    """Queue a failed, cancelled or sent message again, at once (the delivery job sends it)."""
    _require_admin(actor)
    message = _outbox_message(message_id)
    resend(message.id, actor_id=actor.id)
    db.session.refresh(message)
    return message


@service
def cancel_message(actor: User, message_id: int) -> OutboxMessage:
    """Stop a queued or failed message for good; it is never sent."""
    _require_admin(actor)
    message = _outbox_message(message_id)
    cancel(message.id, actor_id=actor.id)
    db.session.refresh(message)
    return message


@dataclass
class OutboxMessagePage:
    message: OutboxMessage
    preview: object  # outbox.Preview
    actions: list


def outbox_message(message_id: int) -> OutboxMessagePage:
    """One message as its recipient reads it (rendered now, nothing sent), with who cancelled or resent it."""
    message = _outbox_message(message_id)
    return OutboxMessagePage(message=message, preview=preview(message), actions=actions_of(message.id))


def _outbox_message(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(_l("There is no such message."))
    return message



def startups_of_country(country: str) -> list[Organisation]:
    return list(db.session.scalars(
        select(Organisation).where(Organisation.kind == "startup", Organisation.country == country).order_by(Organisation.name)))
