"""The hub's PDF of a nominee's application, from the placement's page."""
from __future__ import annotations

from residency.domain.accounts.models import User
from residency.domain.applications import dossier
from residency.domain.placements.hub_queries import hub_placement


def hub_pdf(actor: User, placement_id: int) -> dossier.Pdf:
    """The staff copy (with the history) of the application behind a placement at one of the actor's hubs:
    exactly who may open the placement's page, which shows the nominee's answers (404 or 403 otherwise)."""
    placement = hub_placement(actor, placement_id)
    return dossier.render(dossier.dossier_of(placement.application, for_applicant=False))
