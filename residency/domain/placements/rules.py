"""Rules about placements that pages, exports, the API and the calendar share.

- an offer can no longer be answered once its time is up, even before the scheduler lapses it;
- a residency cannot end before it began: the last day at the hub (the check-out) is on or after
  the day the startup moved in and the residency's first day;
- a pending placement is a nomination, and a nomination stays unknown to the startup until the
  cluster releases the call's decisions (``applications.rules``); once the hub has acted the
  startup has been told anyway;
- a placement cancelled with its nomination (an administrator reverted it) is the cluster's and
  the hub's record only: the startup follows its application.
"""
from __future__ import annotations

from datetime import date, datetime

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import and_, or_

from residency.core.i18n import format_day
from residency.domain.applications import rules as application_rules
from residency.domain.placements.models import Placement

# The one state in which the placement is still only the (unreleased) nomination.
NOMINATION_ONLY = "pending"
# A placement whose nomination was reverted: never shown to the startup.
CANCELLED = "cancelled"
# The states in which a placement is live, and so needs its application nominated.
LIVE = ("pending", "waitlisted", "offered", "accepted", "active")


def visible_to_startup(placement: Placement) -> bool:
    """Whether the startup may know of this placement."""
    if placement.status == CANCELLED:
        return False
    return placement.status != NOMINATION_ONLY or application_rules.decisions_released(placement.application.call)


def visible_to_startup_clause():
    """SQL: placements the startup may know of (join ``Application`` and ``Call`` first)."""
    return and_(Placement.status != CANCELLED,
                or_(Placement.status != NOMINATION_ONLY, application_rules.decisions_released_clause()))


def check_out_problem(placement: Placement, checked_out_on: date | None):
    """Why the startup cannot have left the hub on ``checked_out_on``, or None. The surveys of a
    residency fall due 12, 24 and 36 months after this day: a day before the residency began would
    make them due at once."""
    if checked_out_on is None:
        return None
    if placement.checked_in_on is not None and checked_out_on < placement.checked_in_on:
        return _l("The last day at the hub cannot be before the day the startup moved in (%(day)s).",
                  day=format_day(placement.checked_in_on))
    if placement.starts_on is not None and checked_out_on < placement.starts_on:
        return _l("The last day at the hub cannot be before the residency started (%(day)s).",
                  day=format_day(placement.starts_on))
    return None


def offer_expired(placement: Placement, now: datetime) -> bool:
    """An offer lapses at its expiry even before the scheduler marks it lapsed: it can no longer be answered."""
    return placement.status == "offered" and placement.offer_expires_at is not None and placement.offer_expires_at <= now


def offer_expired_clause(now: datetime):
    """SQL: offers whose time to answer has passed."""
    return and_(Placement.status == "offered", Placement.offer_expires_at <= now)
