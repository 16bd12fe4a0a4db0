"""The hub's placements: inbox, occupancy, and one placement with its actions.

Every page and POST here answers 403 to users who administer no hub and 404 to
administrators of another hub. A refusal (not enough space on named days, not
allowed now) is shown in plain words on the placement's page with what was
typed kept; nothing changes.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from residency.core.i18n import gettext as _
from flask_login import current_user

from residency.core import pagination
from residency.domain.placements import services as placements
from residency.web.access import role_required
from residency.core.errors import Invalid, ServiceError
from residency.web.formtools import apply_field_errors
from residency.core.i18n import format_day, format_in_zone, format_month
from residency.domain.placements import hub_queries as services
from residency.domain.placements.dossier import hub_pdf
from residency.web.hub.forms import (
    CheckInForm,
    CompleteForm,
    ExtendForm,
    OfferForm,
    ReasonForm,
    TerminateForm,
)
from residency.web.hub.blueprint import bp
from residency.web.downloads import pdf_download

HUB = "hub_admin"

# Each action's form, under a prefix of its own so that one page can hold them all.
FORMS = {
    "offer": (OfferForm, "offer"),
    "amend_offer": (OfferForm, "amend"),
    "withdraw_offer": (ReasonForm, "withdraw"),
    "waitlist": (ReasonForm, "waitlist"),
    "reject": (ReasonForm, "reject"),
    "extend": (ExtendForm, "extend"),
    "terminate": (TerminateForm, "terminate"),
    "complete": (CompleteForm, "complete"),
    "check_in": (CheckInForm, "checkin"),
}


@bp.get("/<int:hub_id>/inbox")
@role_required(HUB)
def inbox(hub_id: int):
    """Nominees waiting for a decision in the cluster's rank order, then offers and residencies;
    each section pages on its own (``waiting_page``, ``offered_page``, ``running_page``, ``closed_page``)."""
    pages = {section: pagination.page_number(request.args, f"{section}_page") for section in services.INBOX_SECTIONS}
    return render_template("hub/inbox.html", inbox=services.inbox(current_user, hub_id, pages))


@bp.get("/<int:hub_id>/occupancy")
@role_required(HUB)
def occupancy(hub_id: int):
    """Desks and benches month by month: capacity against booked and offered."""
    asked = request.args.get("from")
    first = services.parse_month(asked)
    error = _("Choose a month like 2030-03; the current month is shown.") if asked and first is None else None
    return render_template("hub/occupancy.html", occupancy=services.occupancy(current_user, hub_id, first), month_error=error,
                           month_label=format_month)


def _form(action: str, formdata=None, **data):
    cls, prefix = FORMS[action]
    if formdata is None:
        return cls(formdata=None, prefix=prefix, data=data or None)
    return cls(prefix=prefix)


def _render(page, status: int = 200, refusal: str | None = None, **given):
    placement = page.placement
    forms = {f"{action}_form": _form(action) for action in FORMS}
    forms["offer_form"] = _form("offer", **services.offer_defaults(placement))
    forms["amend_offer_form"] = _form("amend_offer", **services.offer_terms(placement))
    forms["complete_form"] = _form("complete", checked_out_on=min(placement.ends_on, page.today) if placement.ends_on else None)
    forms["checkin_form"] = _form("check_in", checked_in_on=placement.checked_in_on or placement.starts_on)
    forms.update(given)
    return render_template("hub/placement.html", page=page, refusal=refusal, **forms), status


def _act(placement_id: int, action: str, perform, success):
    """Validate the action's form, call its one service, and either flash and redirect or
    show the page again with the refusal and the typed values (422 bad input, 409 not now)."""
    placement = services.hub_placement(current_user, placement_id)
    form = _form(action, formdata=True)
    status, refusal = 422, None
    if form.validate_on_submit():
        try:
            perform(placement, form)
        except ServiceError as error:
            status = error.status_code
            if isinstance(error, Invalid):
                apply_field_errors(form, error)
                if str(error.message) not in form.form_errors:
                    form.form_errors.insert(0, str(error.message))
            else:
                refusal = str(error.message)
        else:
            flash(success(placement), "success")
            return redirect(url_for("hub.placement", placement_id=placement.id))
    page = services.placement_page(current_user, placement_id)
    shown = page.can_check_in if action == "check_in" else action in page.actions
    if refusal is not None and shown:
        # One summary: in the form it refuses, when the page still shows that form; above the page otherwise.
        form.form_errors.insert(0, refusal)
        refusal = None
    key = "checkin_form" if action == "check_in" else f"{action}_form"
    return _render(page, status, refusal, **{key: form})


@bp.get("/placements/<int:placement_id>")
@role_required(HUB)
def placement(placement_id: int):
    """A placement at the hub: the application, nomination, reviews, history and what may be done now."""
    return _render(services.placement_page(current_user, placement_id))


@bp.get("/placements/<int:placement_id>/dossier.pdf")
@role_required(HUB)
def dossier_pdf(placement_id: int):
    """The nominee's application as a PDF, with its status history."""
    return pdf_download(hub_pdf(current_user, placement_id))


@bp.post("/placements/<int:placement_id>/offer")
@role_required(HUB)
def offer(placement_id: int):
    def perform(p, f):
        placements.offer(placement=p, actor=current_user, starts_on=f.starts_on.data, ends_on=f.ends_on.data,
                         desks=f.desks.data, benches=f.benches.data, offer_expires_on=f.offer_expires_on.data,
                         conditions=f.conditions.data or "")

    return _act(placement_id, "offer", perform, lambda p: _(
        "%(startup)s is offered a residency from %(start)s to %(end)s and has been e-mailed; the offer lapses %(when)s.",
        startup=p.application.startup.name, start=format_day(p.starts_on), end=format_day(p.ends_on),
        when=format_in_zone(p.offer_expires_at, placements.hub_zone(p))))


@bp.post("/placements/<int:placement_id>/amend-offer")
@role_required(HUB)
def amend_offer(placement_id: int):
    def perform(p, f):
        placements.amend_offer(placement=p, actor=current_user, starts_on=f.starts_on.data, ends_on=f.ends_on.data,
                               desks=f.desks.data, benches=f.benches.data, offer_expires_on=f.offer_expires_on.data,
                               conditions=f.conditions.data or "")

    return _act(placement_id, "amend_offer", perform, lambda p: _(
        "The offer to %(startup)s is changed and the startup has been e-mailed: %(start)s to %(end)s, to be answered by %(when)s.",
        startup=p.application.startup.name, start=format_day(p.starts_on), end=format_day(p.ends_on),
        when=format_in_zone(p.offer_expires_at, placements.hub_zone(p))))


@bp.post("/placements/<int:placement_id>/withdraw-offer")
@role_required(HUB)
def withdraw_offer(placement_id: int):
    return _act(placement_id, "withdraw_offer",
                lambda p, f: placements.withdraw_offer(placement=p, actor=current_user, reason=f.reason.data or ""),
                lambda p: _("The offer to %(startup)s is withdrawn and the startup has been e-mailed; its space is free again.",
                            startup=p.application.startup.name))


@bp.post("/placements/<int:placement_id>/waitlist")
@role_required(HUB)
def waitlist(placement_id: int):
    return _act(placement_id, "waitlist",
                lambda p, f: placements.waitlist(placement=p, actor=current_user, reason=f.reason.data or ""),
                lambda p: _("%(startup)s is on the waitlist and has been e-mailed.", startup=p.application.startup.name))


@bp.post("/placements/<int:placement_id>/reject")
@role_required(HUB)
def reject(placement_id: int):
    return _act(placement_id, "reject",
                lambda p, f: placements.reject(placement=p, actor=current_user, reason=f.reason.data or ""),
                lambda p: _("The nomination of %(startup)s is rejected and the startup has been e-mailed.",
                            startup=p.application.startup.name))


@bp.post("/placements/<int:placement_id>/extend")
@role_required(HUB)
def extend(placement_id: int):
    return _act(placement_id, "extend",
                lambda p, f: placements.extend(placement=p, actor=current_user, ends_on=f.ends_on.data),
                lambda p: _("The residency now ends on %(day)s.", day=format_day(p.ends_on)))


@bp.post("/placements/<int:placement_id>/terminate")
@role_required(HUB)
def terminate(placement_id: int):
    return _act(placement_id, "terminate",
                lambda p, f: placements.terminate(placement=p, actor=current_user, reason=f.reason.data or "",
                                                  checked_out_on=f.checked_out_on.data),
                lambda p: _("The residency of %(startup)s is ended early and the startup has been e-mailed.",
                            startup=p.application.startup.name))


@bp.post("/placements/<int:placement_id>/complete")
@role_required(HUB)
def complete(placement_id: int):
    return _act(placement_id, "complete",
                lambda p, f: placements.complete(placement=p, actor=current_user, checked_out_on=f.checked_out_on.data),
                lambda p: _("The residency of %(startup)s is completed.", startup=p.application.startup.name))


@bp.post("/placements/<int:placement_id>/check-in")
@role_required(HUB)
def check_in(placement_id: int):
    return _act(placement_id, "check_in",
                lambda p, f: placements.record_check_in(placement=p, actor=current_user, checked_in_on=f.checked_in_on.data),
                lambda p: _("Moved in on %(day)s is recorded.", day=format_day(p.checked_in_on)))
