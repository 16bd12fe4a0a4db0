"""What a visitor may read: the programme and its calls."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from residency.core.extensions import db
from residency.domain.programme.models import Call, Route


def public_calls() -> list[Call]:
    """Published and closed calls, soonest closing first (one query; route, hub and cluster joined)."""
    route = joinedload(Call.route)
    return list(db.session.scalars(
        select(Call).where(Call.status.in_(("published", "closed")))
        .options(route.joinedload(Route.host_hub), route.joinedload(Route.cluster))
        .order_by(Call.closes_at, Call.id)
    ).unique())


def public_call(call_id: int) -> Call | None:
    """A published or closed call with everything its page shows: route, hub, cluster, funders, criteria."""
    route = joinedload(Call.route)
    call = db.session.get(Call, call_id, options=[
        route.joinedload(Route.host_hub), route.joinedload(Route.cluster), route.selectinload(Route.funders),
        selectinload(Call.criteria)])
    if call is None or call.status not in ("published", "closed"):
        return None
    return call
