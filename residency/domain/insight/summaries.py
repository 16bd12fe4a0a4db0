"""The insight summary tables, rebuilt from the records by the scheduler ("insight-summaries").

Each rebuild replaces the funnel counts and the decision times whole, in one unit of work, from
the same queries the page would otherwise run on the records (``services.funnel_rows``,
``services.decision_rows``): the page reads exact figures as of the rebuild, and says when that
was. A rebuild is a few queries in the database (INSERT … SELECT), whatever the number of rows.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select

from residency.core.db import utcnow
from residency.core.uow import unit_of_work
from residency.domain.insight import services
from residency.domain.insight.models import InsightDecision, InsightFunnel, InsightRefresh

# How often the scheduler rebuilds them (residency/jobs.py); the page says so.
EVERY_SECONDS = 300

FUNNEL_COLUMNS = ("call_id", "country", "track") + services.STAGES
DECISION_COLUMNS = ("decision", "call_id", "scheme_id", "country", "track", "seconds")


def refresh(now: datetime | None = None) -> dict:
    """Rebuild the summary tables from the records (one unit of work); returns the rows written."""
    now = now or utcnow()
    with unit_of_work() as session:
        session.execute(delete(InsightFunnel))
        session.execute(insert(InsightFunnel).from_select(FUNNEL_COLUMNS, services.funnel_rows()))
        session.execute(delete(InsightDecision))
        session.execute(insert(InsightDecision).from_select(DECISION_COLUMNS, services.decision_rows()))
        # Counted, not the drivers' row counts (psycopg gives none for INSERT ... SELECT here).
        funnel = session.scalar(select(func.count()).select_from(InsightFunnel))
        decisions = session.scalar(select(func.count()).select_from(InsightDecision))
        # A new row, a new generation: what pages kept of the last one is dropped.
        session.execute(delete(InsightRefresh))
        session.add(InsightRefresh(refreshed_at=now))
    return {"funnel_rows": funnel, "decisions": decisions}
