"""What a startup's members read on their dashboard and on a startup's page.

Their startups with members, open join requests and applications, and the calls
open to them, in a fixed number of queries. The areas above applications add
their own lines (the placement of a nominated application, the impact surveys):
the caller passes their readers in, so this module never imports them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from residency.core import pagination
from residency.core.db import utcnow
from residency.core.extensions import db
from residency.domain.accounts.models import JoinRequest, Membership, Organisation, User
from residency.domain.accounts.startups import own_startup
from residency.domain.applications import services as applications
from residency.domain.programme.models import Call, Route

# Application objects -> {application id: (placement id, the status label the startup sees)}.
PlacementsReader = Callable[[list], dict]
# Startup ids -> the impact surveys of those startups.
SurveysReader = Callable[[list[int]], list]


@dataclass
class StartupOverview:
    """A startup with its people and applications, read in a fixed number of queries."""

    organisation: Organisation
    members: list[User] = field(default_factory=list)
    join_requests: list[JoinRequest] = field(default_factory=list)
    # A page of its applications (``applications.Overview`` rows), newest first.
    applications: pagination.Page = field(default_factory=lambda: pagination.empty(applications.APPLICATIONS_SHOWN))
    # Application id -> (placement id, the status label the startup sees) of nominated applications.
    placements: dict[int, tuple[int, str]] = field(default_factory=dict)


@dataclass
class Dashboard:
    startups: list[StartupOverview]
    open_calls: list[Call]
    surveys: list = field(default_factory=list)


def dashboard(actor: User, now: datetime | None = None, *, placements_of: PlacementsReader | None = None,
              surveys_of: SurveysReader | None = None, args: Mapping | None = None) -> Dashboard:
    """The actor's startups (profile, members, open join requests, a page of applications each, the page
    numbers from the query string ``args``) and the calls open to them."""
    now = now or utcnow()
    startups = sorted(actor.organisations("startup"), key=lambda o: (o.name.lower(), o.id))
    overviews = _overviews(startups, placements_of, args)
    countries = sorted({o.country for o in startups})
    open_calls = []
    if countries:
        open_calls = list(db.session.scalars(
            select(Call)
            .join(Call.route)
            .where(Call.status == "published", Call.opens_at <= now, Call.closes_at > now, Route.home_country.in_(countries))
            .order_by(Call.closes_at, Call.id)
        ))
    surveys = surveys_of([o.id for o in startups]) if surveys_of is not None else []
    return Dashboard(startups=overviews, open_calls=open_calls, surveys=surveys)


def startup_overview(actor: User, organisation_id: int, *, placements_of: PlacementsReader | None = None,
                     args: Mapping | None = None) -> StartupOverview:
    """One of the actor's startups with its members, open join requests and a page of its applications
    (404 if not theirs)."""
    return _overviews([own_startup(actor, organisation_id)], placements_of, args)[0]


def _overviews(startups: list[Organisation], placements_of: PlacementsReader | None,
               args: Mapping | None = None) -> list[StartupOverview]:
    """A fixed number of queries whatever the number of startups, members, requests and applications."""
    if not startups:
        return []
    ids = [o.id for o in startups]
    by_id = {o.id: StartupOverview(organisation=o) for o in startups}

    rows = db.session.execute(
        select(User, Membership.organisation_id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id.in_(ids))
        # Only names and addresses are shown: the members' own memberships are not needed.
        .options(lazyload(User.memberships))
        .order_by(User.name, User.id)
    )
    for user, organisation_id in rows:
        by_id[organisation_id].members.append(user)

    requests = db.session.scalars(
        select(JoinRequest)
        .where(JoinRequest.organisation_id.in_(ids), JoinRequest.decided_at.is_(None))
        .options(joinedload(JoinRequest.user).lazyload(User.memberships))
        .order_by(JoinRequest.created_at, JoinRequest.id)
    )
    for request in requests:
        by_id[request.organisation_id].join_requests.append(request)

    # Label, timeline and next step of a page of each startup's applications, in a fixed number of queries.
    args = args or {}
    asked = {i: pagination.page_number(args, applications.applications_page_param(i)) for i in ids}
    lines = []
    for startup_id, page in applications.overview(startup_ids=ids, pages=asked).items():
        by_id[startup_id].applications = page
        lines += page.rows

    if placements_of is not None:
        placements = placements_of([line.application for line in lines])
        for line in lines:
            if line.application.id in placements:
                by_id[line.application.startup_id].placements[line.application.id] = placements[line.application.id]
    return [by_id[i] for i in ids]
