"""The startup's placement: the hub's offer with Accept and Decline, then the residency's status.

Members of the startup only; anyone else gets 404. Accepting binds the startup, so it
asks for a ticked confirmation (no JavaScript needed) and carries back the version of
the terms read: an offer the hub changed meanwhile is not accepted unseen.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from residency.core.i18n import gettext as _
from flask_login import current_user, login_required

from residency.core import limits
from residency.domain.placements import services as placements
from residency.core.errors import Conflict
from residency.core.i18n import format_day
from residency.domain.placements import queries as services
from residency.web.applicant.blueprint import bp
from residency.web.applicant.forms import AcceptOfferForm


def _render(page, status: int = 200, refusal: str | None = None, accept_form=None):
    if accept_form is None:
        accept_form = AcceptOfferForm(formdata=None, prefix="accept", data={"terms": page.terms})
    else:
        accept_form.terms.data = page.terms  # an answer again is to the terms shown now
    return render_template("applicant/placement.html", page=page, refusal=refusal, accept_form=accept_form), status


@bp.get("/placements/<int:placement_id>")
@login_required
def placement(placement_id: int):
    """The offer (dates, desks, benches, conditions, answer-by time in the hub's zone) or the residency's status."""
    return _render(services.startup_placement(current_user, placement_id))


@bp.post("/placements/<int:placement_id>/<any(accept, decline):decision>")
@login_required
def answer(placement_id: int, decision: str):
    """Accept (ticked, to the terms read) or decline the hub's offer before it lapses."""
    page = services.startup_placement(current_user, placement_id)
    accepting = decision == "accept"
    form = AcceptOfferForm(prefix="accept")
    if accepting and not form.validate_on_submit():
        return _render(page, 422, accept_form=form)
    terms = limits.parse_id(form.terms.data) if accepting else None
    try:
        placements.answer_offer(placement=page.placement, actor=current_user, accept=accepting, terms=terms)
    except Conflict as refusal:
        return _render(services.startup_placement(current_user, placement_id), 409, str(refusal.message),
                       accept_form=form if accepting else None)
    if accepting:
        flash(_("You accepted the offer. %(hub)s has been told; welcome on %(day)s.", hub=page.placement.hub.name,
                day=format_day(page.placement.starts_on)), "success")
    else:
        flash(_("You declined the offer. %(hub)s has been told.", hub=page.placement.hub.name), "info")
    return redirect(url_for("applicant.placement", placement_id=placement_id))
