"""What a startup reads about its placement at the host hub (answers go through ``placements.answer_offer``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from residency.domain.placements import services as placements
from residency.core import workflow
from residency.core.errors import NotFound
from residency.domain.placements.models import Placement
from residency.core.models import StatusChange
from residency.domain.accounts.models import User
from residency.core.db import utcnow


@dataclass
class StartupPlacement:
    placement: Placement
    label: str
    history: list[StatusChange]
    zone: str
    can_answer: bool
    expired: bool


def visible_to_startup(placement: Placement) -> bool:
    """A nomination stays unknown to the startup until the cluster releases the call's decisions;
    once the hub has acted the startup has been told anyway."""
    return placement.status != "pending" or placement.application.call.decisions_released_at is not None


def startup_placement(actor: User, placement_id: int, now: datetime | None = None) -> StartupPlacement:
    """A placement of one of the actor's startups; 404 for anyone else, hub staff included."""
    now = now or utcnow()
    placement = placements.placement_for(actor, placement_id)
    if workflow.APPLICANT not in workflow.roles_on(placement, actor) or not visible_to_startup(placement):
        raise NotFound(_l("There is nothing here, or it is not yours to see."))
    expired = placement.status == "offered" and placement.offer_expires_at is not None and placement.offer_expires_at <= now
    return StartupPlacement(
        placement=placement,
        label=workflow.PLACEMENT.label(placement.status, for_applicant=True),
        history=workflow.history(placement, for_applicant=True),
        zone=placements.hub_zone(placement),
        can_answer=not expired and any(t.action == "accept" for t in workflow.allowed_actions(placement, actor)),
        expired=expired,
    )
