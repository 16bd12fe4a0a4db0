"""The startup's area: registering a startup, joining one, its profile, members and applications.

Every public function takes plain values and the acting user, checks that the
actor may act on the startup (404 when it is not theirs), and commits once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, lazyload

from residency.domain.applications import services as applications
from residency.domain.impact import services as impact
from residency.core import orgnumbers, workflow
from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.extensions import db
from residency.core.i18n import country_name
from residency.domain.accounts.models import COUNTRIES, TRACKS, JoinRequest, Membership, Organisation, User
from residency.domain.programme.models import Call, Route
from residency.domain.placements.models import Placement
from residency.core.db import utcnow
from residency.core.outbox import enqueue

PROFILE_FIELDS = ("name", "country", "org_number", "city", "founded_on", "employees", "track", "trl")


class AlreadyRegistered(Invalid):
    """The country and organisation number belong to an organisation already in the programme."""

    def __init__(self, message, field_errors: dict, organisation: Organisation):
        super().__init__(message, field_errors)
        self.organisation = organisation
        # Only a startup can be joined through the applicant's area.
        self.joinable = organisation.kind == "startup"


@dataclass
class StartupOverview:
    """A startup with its people and applications, read in a fixed number of queries."""

    organisation: Organisation
    members: list[User] = field(default_factory=list)
    join_requests: list[JoinRequest] = field(default_factory=list)
    applications: list[applications.Overview] = field(default_factory=list)
    # Application id -> (placement id, the status label the startup sees) of nominated applications.
    placements: dict[int, tuple[int, str]] = field(default_factory=dict)


@dataclass
class Dashboard:
    startups: list[StartupOverview]
    open_calls: list[Call]
    surveys: list = field(default_factory=list)


# ------------------------------------------------------------------ reading


def dashboard(actor: User, now: datetime | None = None) -> Dashboard:
    """The actor's startups (profile, members, open join requests, applications) and the calls open to them."""
    now = now or utcnow()
    startups = sorted(actor.organisations("startup"), key=lambda o: (o.name.lower(), o.id))
    overviews = _overviews(startups)
    countries = sorted({o.country for o in startups})
    open_calls = []
    if countries:
        open_calls = list(db.session.scalars(
            select(Call)
            .join(Call.route)
            .where(Call.status == "published", Call.opens_at <= now, Call.closes_at > now, Route.home_country.in_(countries))
            .options(contains_eager(Call.route).lazyload(Route.funders), lazyload(Call.criteria))
            .order_by(Call.closes_at, Call.id)
        ))
    return Dashboard(startups=overviews, open_calls=open_calls, surveys=impact.surveys_of([o.id for o in startups]))


def startup_overview(actor: User, organisation_id: int) -> StartupOverview:
    """One of the actor's startups with its members, open join requests and applications."""
    return _overviews([_own_startup(actor, organisation_id)])[0]


def open_requests_of(actor: User) -> list[JoinRequest]:
    """The actor's own requests to join startups that nobody has decided yet."""
    return list(db.session.scalars(
        select(JoinRequest)
        .where(JoinRequest.user_id == actor.id, JoinRequest.decided_at.is_(None))
        .options(joinedload(JoinRequest.organisation))
        .order_by(JoinRequest.created_at)
    ))


def _overviews(startups: list[Organisation]) -> list[StartupOverview]:
    """Three queries whatever the number of startups, members, requests and applications."""
    if not startups:
        return []
    ids = [o.id for o in startups]
    by_id = {o.id: StartupOverview(organisation=o) for o in startups}

    rows = db.session.execute(
        select(User, Membership.organisation_id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id.in_(ids))
        .options(lazyload(User.memberships))
        .order_by(User.name, User.id)
    )
    for user, organisation_id in rows:
        by_id[organisation_id].members.append(user)

    requests = db.session.scalars(
        select(JoinRequest)
        .where(JoinRequest.organisation_id.in_(ids), JoinRequest.decided_at.is_(None))
        .options(joinedload(JoinRequest.user).lazyload(User.memberships), lazyload(JoinRequest.organisation))
        .order_by(JoinRequest.created_at, JoinRequest.id)
    )
    for request in requests:
        by_id[request.organisation_id].join_requests.append(request)

    # Label, timeline and next step of every application, in a fixed number of queries.
    lines = applications.overview(startup_ids=ids)
    for line in lines:
        by_id[line.application.startup_id].applications.append(line)

    # The placement of every nominated application: one more query, only when there is one.
    nominated = {line.application.id: line.application for line in lines if line.application.status == "nominated"}
    if nominated:
        for placement_id, application_id, status in db.session.execute(
                select(Placement.id, Placement.application_id, Placement.status).where(Placement.application_id.in_(list(nominated)))):
            application = nominated[application_id]
            # Hidden, like the nomination itself, until the cluster releases the call's decisions.
            if status != "pending" or application.call.decisions_released_at is not None:
                by_id[application.startup_id].placements[application_id] = (
                    placement_id, workflow.PLACEMENT.label(status, for_applicant=True))
    return [by_id[i] for i in ids]


def _own_startup(actor: User, organisation_id: int) -> Organisation:
    """The startup, if the actor is one of its members; otherwise 404."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or organisation.kind != "startup" or not actor.is_member_of(organisation.id):
        raise NotFound(_l("There is nothing here, or it is not yours to see."))
    return organisation


# ------------------------------------------------------------------ profile


def _clean_profile(values: dict, now: datetime) -> dict:
    """The profile's values checked and in canonical form, or Invalid with a message per field."""
    errors: dict[str, list] = {}
    cleaned: dict = {}

    cleaned["name"] = (values.get("name") or "").strip()
    if not cleaned["name"]:
        errors["name"] = [_l("Enter the startup's name.")]
    elif len(cleaned["name"]) > 200:
        errors["name"] = [_l("Use at most 200 characters.")]

    country = values.get("country")
    cleaned["country"] = country
    if country not in COUNTRIES:
        errors["country"] = [_l("Choose a country: Norway, Sweden, Denmark, Finland or Iceland.")]
    else:
        try:
            cleaned["org_number"] = orgnumbers.check(country, values.get("org_number") or "")
        except orgnumbers.InvalidOrgNumber as error:
            errors["org_number"] = [error.message]

    cleaned["city"] = (values.get("city") or "").strip() or None
    if cleaned["city"] and len(cleaned["city"]) > 100:
        errors["city"] = [_l("Use at most 100 characters.")]

    founded_on = values.get("founded_on")
    cleaned["founded_on"] = founded_on
    if not isinstance(founded_on, date):
        errors["founded_on"] = [_l("Enter the date the company was founded.")]
    elif founded_on > now.date():
        errors["founded_on"] = [_l("The founding date cannot be in the future.")]

    employees = values.get("employees")
    cleaned["employees"] = employees
    if not isinstance(employees, int) or employees < 0:
        errors["employees"] = [_l("Enter a number of employees of 0 or more.")]

    cleaned["track"] = values.get("track")
    if cleaned["track"] not in TRACKS:
        errors["track"] = [_l("Choose the track.")]

    trl = values.get("trl")
    cleaned["trl"] = trl
    if not isinstance(trl, int) or not 1 <= trl <= 9:
        errors["trl"] = [_l("The technology readiness level is a whole number from 1 to 9.")]

    if errors:
        raise Invalid(_l("Please correct the marked fields."), errors)
    return cleaned


def _registered(country: str, org_number: str, except_id: int | None = None) -> Organisation | None:
    stmt = select(Organisation).where(Organisation.country == country, Organisation.org_number == org_number)
    if except_id is not None:
        stmt = stmt.where(Organisation.id != except_id)
    return db.session.scalar(stmt)


def _already_registered(existing: Organisation) -> AlreadyRegistered:
    if existing.kind == "startup":
        message = _l("%(name)s is already registered with this organisation number. Ask its members to let you join instead.",
                     name=existing.name)
    else:
        message = _l("This organisation number belongs to an organisation that takes part in the programme as a partner, "
                     "not as a startup. Check the number, or contact the programme administrator.")
    return AlreadyRegistered(message, {"org_number": [message]}, existing)


def create_startup(*, actor: User, now: datetime | None = None, **values) -> Organisation:
    """Register a startup with the actor as its first member.

    Refuses (AlreadyRegistered) when the country and organisation number are taken.
    """
    now = now or utcnow()
    cleaned = _clean_profile(values, now)
    existing = _registered(cleaned["country"], cleaned["org_number"])
    if existing is not None:
        raise _already_registered(existing)
    organisation = Organisation(kind="startup", created_at=now, **cleaned)
    db.session.add(organisation)
    db.session.add(Membership(user=actor, organisation=organisation, created_at=now))
    try:
        db.session.commit()
    except IntegrityError:
        # Someone registered the same number a moment ago.
        db.session.rollback()
        existing = _registered(cleaned["country"], cleaned["org_number"])
        if existing is None:
            raise
        raise _already_registered(existing) from None
    return organisation


def update_startup(*, actor: User, organisation_id: int, now: datetime | None = None, **values) -> Organisation:
    """Change a startup's profile (members only), with the same checks as registering it."""
    now = now or utcnow()
    organisation = _own_startup(actor, organisation_id)
    cleaned = _clean_profile(values, now)
    other = _registered(cleaned["country"], cleaned["org_number"], except_id=organisation.id)
    if other is not None:
        message = _l("Another organisation is already registered with this organisation number in %(country)s.",
                     country=country_name(cleaned["country"]))
        raise Invalid(message, {"org_number": [message]})
    for name, value in cleaned.items():
        setattr(organisation, name, value)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        message = _l("Another organisation is already registered with this organisation number in %(country)s.",
                     country=country_name(cleaned["country"]))
        raise Invalid(message, {"org_number": [message]}) from None
    return organisation


# ------------------------------------------------------------------ joining


def request_to_join(*, actor: User, country: str, org_number: str, message: str | None = None,
                    now: datetime | None = None) -> JoinRequest:
    """Ask to join the startup registered under ``country`` and ``org_number``; e-mail its members."""
    now = now or utcnow()
    if country not in COUNTRIES:
        raise Invalid(_l("Please correct the marked fields."),
                      {"country": [_l("Choose a country: Norway, Sweden, Denmark, Finland or Iceland.")]})
    try:
        canonical = orgnumbers.check(country, org_number or "")
    except orgnumbers.InvalidOrgNumber as error:
        raise Invalid(error.message, {"org_number": [error.message]}) from None
    startup = db.session.scalar(select(Organisation).where(
        Organisation.kind == "startup", Organisation.country == country, Organisation.org_number == canonical))
    if startup is None:
        refusal = _l("No startup is registered in %(country)s with the organisation number %(number)s. "
                     "Check the number, or register the startup yourself.", country=country_name(country), number=canonical)
        raise Invalid(refusal, {"org_number": [refusal]})
    if actor.is_member_of(startup.id):
        refusal = _l("You are already a member of %(name)s.", name=startup.name)
        raise Invalid(refusal, {"org_number": [refusal]})
    if _open_request(actor.id, startup.id) is not None:
        refusal = _l("You have already asked to join %(name)s; its members have been told and will decide.", name=startup.name)
        raise Invalid(refusal, {"org_number": [refusal]})
    members = list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == startup.id).options(lazyload(User.memberships)).order_by(User.id)
    ))
    if not members:
        refusal = _l("%(name)s has no members who could let you in. Please contact the programme administrator.",
                     name=startup.name)
        raise Invalid(refusal, {"org_number": [refusal]})

    request = JoinRequest(user=actor, organisation=startup, message=(message or "").strip() or None, created_at=now)
    db.session.add(request)
    try:
        db.session.flush()
    except IntegrityError:
        # A second click raced the first: one open request per person and startup.
        db.session.rollback()
        refusal = _l("You have already asked to join %(name)s; its members have been told and will decide.", name=startup.name)
        raise Invalid(refusal, {"org_number": [refusal]}) from None
    for member in members:
        enqueue(
            recipient=member,
            template="join_request",
            context={"name": actor.name, "email": actor.email, "organisation": startup.name, "organisation_id": startup.id},
            dedup_key=f"join-request:{request.id}:user-{member.id}",
        )
    db.session.commit()
    return request


def _open_request(user_id: int, organisation_id: int) -> JoinRequest | None:
    return db.session.scalar(select(JoinRequest).where(
        JoinRequest.user_id == user_id, JoinRequest.organisation_id == organisation_id, JoinRequest.decided_at.is_(None)))


def decide_join_request(*, actor: User, organisation_id: int, request_id: int, approve: bool,
                        now: datetime | None = None) -> JoinRequest:
    """A member approves or declines a request to join their startup; the requester is e-mailed."""
    now = now or utcnow()
    startup = _own_startup(actor, organisation_id)
    request = db.session.get(JoinRequest, request_id)
    if request is None or request.organisation_id != startup.id:
        raise NotFound(_l("There is nothing here, or it is not yours to see."))
    # Compare-and-set: of two members deciding at once, exactly one wins.
    result = db.session.execute(
        update(JoinRequest)
        .where(JoinRequest.id == request.id, JoinRequest.decided_at.is_(None))
        .values(decided_at=now, decided_by_id=actor.id, approved=approve),
        execution_options={"synchronize_session": "fetch"},
    )
    if result.rowcount != 1:
        raise Conflict(_l("This request has already been decided by another member."))
    requester = request.user
    if approve and not requester.is_member_of(startup.id):
        db.session.add(Membership(user=requester, organisation=startup, created_at=now))
    enqueue(
        recipient=requester,
        template="join_decided",
        context={"organisation": startup.name, "approved": approve},
        dedup_key=f"join-decided:{request.id}",
    )
    db.session.commit()
    return request
