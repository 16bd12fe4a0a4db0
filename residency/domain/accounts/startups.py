"""The startup's area: registering a startup, joining one, its profile and members.

Every public service takes plain values and the acting user, checks that the
actor may act on the startup (404 when it is not theirs), and runs in one unit
of work. What the startup reads about its applications is ``applications.dashboard``.
"""
from __future__ import annotations

from datetime import date, datetime

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from residency.core import orgnumbers
from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.extensions import db
from residency.core.i18n import country_name
from residency.core.uow import savepoint, service
from residency.domain.accounts.models import COUNTRIES, TRACKS, JoinRequest, Membership, Organisation, User
from residency.domain.accounts.queries import members as members_of_startup
from residency.domain.accounts.services import organisation_of_member
from residency.core.db import utcnow
from residency.core.outbox import enqueue


class AlreadyRegistered(Invalid):
    """The country and organisation number belong to an organisation already in the programme."""

    def __init__(self, message, field_errors: dict, organisation: Organisation):
        super().__init__(message, field_errors)
        self.organisation = organisation
        # Only a startup can be joined through the applicant's area.
        self.joinable = organisation.kind == "startup"


# ------------------------------------------------------------------ reading


def open_requests_of(actor: User) -> list[JoinRequest]:
    """The actor's own requests to join startups that nobody has decided yet."""
    return list(db.session.scalars(
        select(JoinRequest)
        .where(JoinRequest.user_id == actor.id, JoinRequest.decided_at.is_(None))
        .options(joinedload(JoinRequest.organisation))
        .order_by(JoinRequest.created_at)
    ))


def own_startup(actor: User, organisation_id: int) -> Organisation:
    """The startup, if the actor is one of its members; otherwise 404."""
    return organisation_of_member(actor, organisation_id, "startup")


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


@service
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
    try:
        with savepoint():
            db.session.add(organisation)
            db.session.add(Membership(user=actor, organisation=organisation, created_at=now))
            db.session.flush()
    except IntegrityError:
        # Someone registered the same number a moment ago.
        existing = _registered(cleaned["country"], cleaned["org_number"])
        if existing is None:
            raise
        raise _already_registered(existing) from None
    return organisation


@service
def update_startup(*, actor: User, organisation_id: int, now: datetime | None = None, **values) -> Organisation:
    """Change a startup's profile (members only), with the same checks as registering it."""
    now = now or utcnow()
    organisation = own_startup(actor, organisation_id)
    cleaned = _clean_profile(values, now)
    other = _registered(cleaned["country"], cleaned["org_number"], except_id=organisation.id)
    if other is not None:
        message = _l("Another organisation is already registered with this organisation number in %(country)s.",
                     country=country_name(cleaned["country"]))
        raise Invalid(message, {"org_number": [message]})
    try:
        with savepoint():
            for name, value in cleaned.items():
                setattr(organisation, name, value)
            db.session.flush()
    except IntegrityError:
        message = _l("Another organisation is already registered with this organisation number in %(country)s.",
                     country=country_name(cleaned["country"]))
        raise Invalid(message, {"org_number": [message]}) from None
    return organisation


# ------------------------------------------------------------------ joining


@service
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
    members = members_of_startup(startup.id)
    if not members:
        refusal = _l("%(name)s has no members who could let you in. Please contact the programme administrator.",
                     name=startup.name)
        raise Invalid(refusal, {"org_number": [refusal]})

    request = JoinRequest(user=actor, organisation=startup, message=(message or "").strip() or None, created_at=now)
    try:
        with savepoint():
            db.session.add(request)
            db.session.flush()
    except IntegrityError:
        # A second click raced the first: one open request per person and startup.
        refusal = _l("You have already asked to join %(name)s; its members have been told and will decide.", name=startup.name)
        raise Invalid(refusal, {"org_number": [refusal]}) from None
    for member in members:
        enqueue(
            recipient=member,
            template="join_request",
            context={"name": actor.name, "email": actor.email, "organisation": startup.name, "organisation_id": startup.id},
            dedup_key=f"join-request:{request.id}:user-{member.id}",
        )
    return request


def _open_request(user_id: int, organisation_id: int) -> JoinRequest | None:
    return db.session.scalar(select(JoinRequest).where(
        JoinRequest.user_id == user_id, JoinRequest.organisation_id == organisation_id, JoinRequest.decided_at.is_(None)))


@service
def decide_join_request(*, actor: User, organisation_id: int, request_id: int, approve: bool,
                        now: datetime | None = None) -> JoinRequest:
    """A member approves or declines a request to join their startup; the requester is e-mailed."""
    now = now or utcnow()
    startup = own_startup(actor, organisation_id)
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
    db.session.flush()
    return request
