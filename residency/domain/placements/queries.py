"""What a startup reads about its placement at the host hub (answers go through ``placements.answer_offer``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import select

from residency.domain.placements import services as placements
from residency.core import workflow
from residency.core.errors import NotFound
from residency.core.extensions import db
from residency.domain.applications.rules import decisions_released
from residency.domain.placements.models import Placement
from residency.domain.placements.rules import CANCELLED, NOMINATION_ONLY, visible_to_startup
from residency.core.models import StatusChange
from residency.domain.accounts.models import Organisation, User
from residency.core.db import utcnow


@dataclass
class StartupPlacement:
    placement: Placement
    label: str
    history: list[StatusChange]
    zone: str
    can_answer: bool
    expired: bool
    # The version of the offer's terms shown (``services.terms_version``); an answer carries it back.
    terms: int | None = None


def startup_placement(actor: User, placement_id: int, now: datetime | None = None) -> StartupPlacement:
    """A placement of one of the actor's startups; 404 for anyone else, hub staff included."""
    now = now or utcnow()
    placement = placements.placement_for(actor, placement_id)
    if workflow.APPLICANT not in workflow.roles_on(placement, actor) or not visible_to_startup(placement):
        raise NotFound(_l("There is nothing here, or it is not yours to see."))
    expired = placement.status == "offered" and placement.offer_expires_at is not None and placement.offer_expires_at <= now
    return StartupPlacement(
        placement=placement,
        label=workflow.get("placement").label(placement.status, for_applicant=True),
        history=workflow.history(placement, for_applicant=True),
        zone=placements.hub_zone(placement),
        can_answer=not expired and any(t.action == "accept" for t in workflow.allowed_actions(placement, actor)),
        expired=expired,
        terms=placements.terms_version(placement) if placement.status == "offered" else None,
    )


class PlacementLine(NamedTuple):
    """What the startup's dashboard shows of a placement: a link, its status, its dates and,
    while it is an offer, the time to answer by (in the hub's zone)."""

    id: int
    label: str
    status: str
    starts_on: date | None
    ends_on: date | None
    answer_by: datetime | None
    zone: str


def placements_of_applications(applications) -> dict[int, PlacementLine]:
    """Application id -> the placement the startup may know of (``PlacementLine``; it reads as
    ``(placement id, the status the startup sees)`` too).

    One query, and none when no application is nominated (the applicant's dashboard).
    """
    nominated = {a.id: a for a in applications if a.status == "nominated"}
    if not nominated:
        return {}
    result = {}
    label = workflow.get("placement").label
    for placement_id, application_id, status, starts_on, ends_on, expires_at, hub_zone in db.session.execute(
            select(Placement.id, Placement.application_id, Placement.status, Placement.starts_on, Placement.ends_on,
                   Placement.offer_expires_at, Organisation.timezone)
            .join(Organisation, Organisation.id == Placement.hub_id)
            .where(Placement.application_id.in_(list(nominated)))):
        # Hidden, like the nomination itself, until the cluster releases the call's decisions.
        if status != NOMINATION_ONLY or decisions_released(nominated[application_id].call):
            # A cancelled placement is never the startup's to see (``rules.visible_to_startup``).
            if status == CANCELLED:
                continue
            result[application_id] = PlacementLine(
                placement_id, label(status, for_applicant=True), status, starts_on, ends_on,
                expires_at if status == "offered" else None, hub_zone or nominated[application_id].call.timezone)
    return result
