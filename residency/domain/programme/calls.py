"""Programme-wide services used by several areas."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import inspect, select

from residency.core import workflow
from residency.core.extensions import db
from residency.core.uow import each_in_own_unit
from residency.domain.programme.models import Call
from residency.core.db import utcnow

log = logging.getLogger(__name__)


def close_due_calls(now: datetime | None = None) -> int:
    """Close every published call whose closing time has passed (the scheduler's job): each call in a
    unit of its own, so that one that cannot be closed neither stops nor undoes the others."""
    now = now or utcnow()
    due = list(db.session.scalars(select(Call).where(Call.status == "published", Call.closes_at <= now)
                                  .order_by(Call.id)).unique())

    def skipped(call, error):
        # The identity, not ``call.id``: the rollback expired the call, and reading it must not fail again.
        log.error("close-calls: call %s could not be closed", inspect(call).identity, exc_info=error)

    return each_in_own_unit(due, lambda call: workflow.perform(call, "close", None, now=now), on_error=skipped)
