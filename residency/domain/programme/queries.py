"""What a visitor may read: the programme and its calls."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from residency.core import pagination
from residency.core.db import utcnow
from residency.core.extensions import db
from residency.domain.programme.models import Call, Route


def _with_route(stmt):
    route = joinedload(Call.route)
    return stmt.options(route.joinedload(Route.host_hub), route.joinedload(Route.cluster))


def _closed_clause(now: datetime):
    return or_(Call.status == "closed", and_(Call.status == "published", Call.closes_at <= now))


def public_calls(now: datetime | None = None) -> list[Call]:
    """Published calls that are open or open later, soonest closing first (one query; route,
    hub and cluster joined). Closed calls are a list of their own (``closed_calls``)."""
    now = now or utcnow()
    return list(db.session.scalars(_with_route(
        select(Call).where(Call.status == "published", Call.closes_at > now).order_by(Call.closes_at, Call.id)
    )).unique())


def closed_calls(page: int = 1, now: datetime | None = None, per_page: int = pagination.PER_PAGE) -> pagination.Page:
    """One page of the calls that have closed, the latest first: a count and a select."""
    now = now or utcnow()
    return pagination.by_offset(
        _with_route(select(Call).where(_closed_clause(now)).order_by(Call.closes_at.desc(), Call.id.desc())),
        select(func.count()).select_from(Call).where(_closed_clause(now)), page, per_page)


def public_call(call_id: int) -> Call | None:
    """A published or closed call with everything its page shows: route, hub, cluster, funders, criteria."""
    route = joinedload(Call.route)
    call = db.session.get(Call, call_id, options=[
        route.joinedload(Route.host_hub), route.joinedload(Route.cluster), route.selectinload(Route.funders),
        selectinload(Call.criteria)])
    if call is None or call.status not in ("published", "closed"):
        return None
    return call
