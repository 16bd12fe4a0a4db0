"""Programme-wide services used by several areas."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from residency.core import workflow
from residency.core.extensions import db
from residency.domain.programme.models import Call
from residency.core.db import utcnow


def close_due_calls(now: datetime | None = None) -> int:
    """Close every published call whose closing time has passed (the scheduler's job)."""
    now = now or utcnow()
    due = list(db.session.scalars(select(Call).where(Call.status == "published", Call.closes_at <= now)).unique())
    for call in due:
        workflow.perform(call, "close", None, now=now)
    db.session.commit()
    return len(due)
