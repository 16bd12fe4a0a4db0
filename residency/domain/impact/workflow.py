"""Impact follow-up joins the placement workflow: a residency that ends schedules its surveys,
and an ending an administrator takes back takes its unanswered surveys with it."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l

from residency.core import workflow
from residency.domain.impact.services import answered_count, cancel_unanswered, schedule
from residency.domain.placements.models import Placement

# The states in which a residency is over and followed up.
ENDED = ("completed", "terminated")


def schedule_surveys(placement: Placement, change, data: dict) -> None:
    """Surveys 12, 24 and 36 months after the last day in residence (forced endings included)."""
    ended_on = data.get("ended_on") or placement.checked_out_on or placement.ends_on
    if ended_on is not None:
        schedule(placement, ended_on)


def cancel_surveys(placement: Placement, change, data: dict) -> None:
    """A residency that is no longer over (forced or reverted) has no surveys due."""
    if change.to_state not in ENDED:
        cancel_unanswered(placement)


def reopening_allowed(placement: Placement, source: str, target: str):
    """An ending can be taken back only while the startup has answered none of its surveys."""
    if source in ENDED and target not in ENDED:
        answered = answered_count(placement)
        if answered:
            return _l("The startup has already answered impact surveys of this residency (%(n)d); "
                      "its ending can no longer be taken back.", n=answered)
    return None


def register() -> None:
    for state in ENDED:
        workflow.on_enter("placement", state, schedule_surveys)
        workflow.on_leave("placement", state, cancel_surveys)
    workflow.check_correction("placement", reopening_allowed)
