"""Every periodic job, in one list. Each job is a thin call into a service;
the scheduler process (``flask --app residency scheduler``) runs them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from residency.core.outbox import deliver_due, send_digests
from residency.domain.funding.services import lapse_expired_grant_offers
from residency.domain.insight import summaries as insight_summaries
from residency.domain.placements.services import complete_finished_residencies, lapse_expired_offers, start_due_residencies
from residency.domain.programme.calls import close_due_calls
from residency.domain.reminders.services import sweep


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    seconds: int
    run: Callable[[], object]
    options: dict = field(default_factory=dict)  # APScheduler job options over the scheduler's defaults


JOBS = [
    # One run at a time; a late run is never dropped, and missed ones collapse into one. Each run
    # is bounded (MAIL_TIMEOUT per SMTP step, the lease for the batch), so none blocks the next for long.
    PeriodicJob("deliver-outbox", 30, deliver_due, {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}),
    PeriodicJob("close-calls", 300, close_due_calls),
    PeriodicJob("lapse-offers", 60, lapse_expired_offers),
    PeriodicJob("start-residencies", 600, start_due_residencies),
    PeriodicJob("complete-residencies", 600, complete_finished_residencies),
    PeriodicJob("lapse-grant-offers", 60, lapse_expired_grant_offers),
    PeriodicJob("reminders", 300, sweep),
    PeriodicJob("digests", 3600, send_digests),
    # The insight page's funnel and decision times, counted afresh (the page says as of when).
    PeriodicJob("insight-summaries", insight_summaries.EVERY_SECONDS, insight_summaries.refresh),
]
