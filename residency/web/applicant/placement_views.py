"""The startup's placement: the hub's offer with Accept and Decline, then the residency's status.

Members of the startup only; anyone else gets 404.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from residency.domain.placements import services as placements
from residency.core.errors import Conflict
from residency.core.i18n import format_day
from residency.domain.placements import queries as services
from residency.web.applicant.blueprint import bp


@bp.get("/placements/<int:placement_id>")
@login_required
def placement(placement_id: int):
    """The offer (dates, desks, benches, conditions, answer-by time in the hub's zone) or the residency's status."""
    return render_template("applicant/placement.html", page=services.startup_placement(current_user, placement_id))


@bp.post("/placements/<int:placement_id>/<any(accept, decline):decision>")
@login_required
def answer(placement_id: int, decision: str):
    """Accept or decline the hub's offer before it lapses."""
    page = services.startup_placement(current_user, placement_id)
    try:
        placements.answer_offer(placement=page.placement, actor=current_user, accept=decision == "accept")
    except Conflict as refusal:
        page = services.startup_placement(current_user, placement_id)
        return render_template("applicant/placement.html", page=page, refusal=str(refusal.message)), 409
    if decision == "accept":
        flash(_("You accepted the offer. %(hub)s has been told; welcome on %(day)s.", hub=page.placement.hub.name,
                day=format_day(page.placement.starts_on)), "success")
    else:
        flash(_("You declined the offer. %(hub)s has been told.", hub=page.placement.hub.name), "info")
    return redirect(url_for("applicant.placement", placement_id=placement_id))
