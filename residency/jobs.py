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
    from .outbox import deliver_due

    return deliver_due()


def _close_calls():
    from .programme import close_due_calls

    return close_due_calls()


JOBS = [
    PeriodicJob("deliver-outbox", 30, _deliver_outbox),
    PeriodicJob("close-calls", 300, _close_calls),
]
