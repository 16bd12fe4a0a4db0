"""Impact follow-up joins the placement workflow: a residency that ends schedules its surveys."""
from __future__ import annotations

from residency.core import workflow
from residency.domain.impact.services import schedule
from residency.domain.placements.models import Placement


def schedule_surveys(placement: Placement, change, data: dict) -> None:
    """Surveys 12, 24 and 36 months after the last day in residence (forced endings included)."""
    ended_on = data.get("ended_on") or placement.checked_out_on or placement.ends_on
    if ended_on is not None:
        schedule(placement, ended_on)


def register() -> None:
    workflow.on_enter("placement", "completed", schedule_surveys)
    workflow.on_enter("placement", "terminated", schedule_surveys)
