"""The funder's area: the routes whose residents may apply to the funder, and their calls."""
from __future__ import annotations

from dataclasses import dataclass, field

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from residency.core.errors import NotFound
from residency.core.extensions import db
from residency.domain.programme.models import Call, Route, route_funder
from residency.domain.accounts.models import User


@dataclass
class RouteOverview:
    route: Route
    calls: list[Call] = field(default_factory=list)


def funder_ids(actor: User) -> list[int]:
    """The funders the actor is an officer of: what the funder's pages show."""
    return [o.id for o in actor.organisations("funder")]


def _with_calls(routes: list[Route]) -> list[RouteOverview]:
    by_id = {r.id: RouteOverview(route=r) for r in routes}
    if by_id:
        for call in db.session.scalars(
            select(Call).where(Call.route_id.in_(list(by_id)))
            .order_by(Call.opens_at.desc(), Call.id.desc())
        ):
            by_id[call.route_id].calls.append(call)
    return list(by_id.values())


def dashboard(actor: User) -> list[RouteOverview]:
    """The routes any of the actor's funders is eligible on, each with its calls (three queries)."""
    funders = funder_ids(actor)
    if not funders:
        return []
    routes = list(db.session.scalars(
        select(Route).where(Route.id.in_(select(route_funder.c.route_id).where(route_funder.c.funder_id.in_(funders))))
        .options(joinedload(Route.host_hub))
        .order_by(Route.home_country, Route.id)
    ))
    return _with_calls(routes)


def route_overview(actor: User, route_id: int) -> RouteOverview:
    """A route the actor's funder is eligible on, with its calls; 404 for any other route."""
    route = db.session.get(Route, route_id)
    if route is None or not set(funder_ids(actor)) & {f.id for f in route.funders}:
        raise NotFound(_l("There is nothing here, or it is not yours to see."))
    return _with_calls([route])[0]
