"""Review joins the application workflow: a nomination an administrator forces gets its record."""
from __future__ import annotations

from sqlalchemy import func, select

from residency.core import workflow
from residency.core.extensions import db
from residency.domain.applications.models import Application
from residency.domain.review.models import Nomination


def record_forced_nomination(application: Application, change, data: dict) -> None:
    """A forced (or re-entered by revert) nomination has a Nomination like any other: the one the
    application had before is reused; otherwise the administrator's reason is its rationale and it
    ranks last. (``nominations.nominate`` writes its own for an ordinary nomination.)"""
    if not change.forced:
        return
    if db.session.scalar(select(Nomination.id).where(Nomination.application_id == application.id)) is not None:
        return
    rank = (db.session.scalar(select(func.max(Nomination.rank)).where(Nomination.call_id == application.call_id)) or 0) + 1
    db.session.add(Nomination(application_id=application.id, call_id=application.call_id, rationale=change.reason or "",
                              rank=rank, nominated_by_id=change.actor_id, created_at=change.created_at))
    db.session.flush()


def register() -> None:
    workflow.on_enter("application", "nominated", record_forced_nomination)
