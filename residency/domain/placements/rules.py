"""Rules about placements that pages, exports, the API and the calendar share.

- an offer can no longer be answered once its time is up, even before the scheduler lapses it;
- a pending placement is a nomination, and a nomination stays unknown to the startup until the
  cluster releases the call's decisions (``applications.rules``); once the hub has acted the
  startup has been told anyway.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_

from residency.domain.applications import rules as application_rules
from residency.domain.placements.models import Placement

# The one state in which the placement is still only the (unreleased) nomination.
NOMINATION_ONLY = "pending"


def visible_to_startup(placement: Placement) -> bool:
    """Whether the startup may know of this placement."""
    return placement.status != NOMINATION_ONLY or application_rules.decisions_released(placement.application.call)


def visible_to_startup_clause():
    """SQL: placements the startup may know of (join ``Application`` and ``Call`` first)."""
    return or_(Placement.status != NOMINATION_ONLY, application_rules.decisions_released_clause())


def offer_expired(placement: Placement, now: datetime) -> bool:
    """An offer lapses at its expiry even before the scheduler marks it lapsed: it can no longer be answered."""
    return placement.status == "offered" and placement.offer_expires_at is not None and placement.offer_expires_at <= now


def offer_expired_clause(now: datetime):
    """SQL: offers whose time to answer has passed."""
    return and_(Placement.status == "offered", Placement.offer_expires_at <= now)
