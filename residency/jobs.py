"""Every periodic job, in one list. Each job is a thin call into a service;
the scheduler process (``flask --app residency scheduler``) runs them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    seconds: int
    run: Callable[[], object]


def _deliver_outbox():
    from residency.core.outbox import deliver_due

    return deliver_due()


def _close_calls():
    from residency.domain.programme.calls import close_due_calls

    return close_due_calls()


def _lapse_offers():
    from residency.domain.placements.services import lapse_expired_offers

    return lapse_expired_offers()


def _start_residencies():
    from residency.domain.placements.services import start_due_residencies

    return start_due_residencies()


def _complete_residencies():
    from residency.domain.placements.services import complete_finished_residencies

    return complete_finished_residencies()


def _reminders():
    from residency.domain.reminders.services import sweep

    return sweep()


def _lapse_grant_offers():
    from residency.domain.funding.services import lapse_expired_grant_offers

    return lapse_expired_grant_offers()


def _digests():
    from residency.core.outbox import send_digests

    return send_digests()


JOBS = [
    PeriodicJob("deliver-outbox", 30, _deliver_outbox),
    PeriodicJob("close-calls", 300, _close_calls),
    PeriodicJob("lapse-offers", 60, _lapse_offers),
    PeriodicJob("start-residencies", 600, _start_residencies),
    PeriodicJob("complete-residencies", 600, _complete_residencies),
    PeriodicJob("lapse-grant-offers", 60, _lapse_grant_offers),
    PeriodicJob("reminders", 300, _reminders),
    PeriodicJob("digests", 3600, _digests),
]
