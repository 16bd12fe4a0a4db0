"""What a visitor may read: the programme and its calls."""
from __future__ import annotations

from sqlalchemy import select

from residency.core.extensions import db
from residency.domain.programme.models import Call


def public_calls() -> list[Call]:
    """Published and closed calls, soonest closing first (one query; route, hub and cluster joined)."""
    return list(
        db.session.scalars(select(Call).where(Call.status.in_(("published", "closed"))).order_by(Call.closes_at, Call.id)).unique()
    )


def public_call(call_id: int) -> Call | None:
    call = db.session.get(Call, call_id)
    if call is None or call.status not in ("published", "closed"):
        return None
    return call
