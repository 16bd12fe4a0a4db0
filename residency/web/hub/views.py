"""The hub area: the hub's capacity and the calls of the routes it hosts."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from residency.core.i18n import gettext as _
from flask_login import current_user

from residency.core import workflow
from residency.web.access import role_required
from residency.core.errors import Invalid
from residency.web.formtools import apply_field_errors
from residency.core.i18n import format_day
from residency.domain.placements import hubs as services
from residency.web.hub.forms import CapacityForm, ConfirmForm
from residency.web.hub.blueprint import bp



@bp.get("/")
@role_required("hub_admin")
def dashboard():
    """The user's hubs, their capacity periods and the calls of the routes they host."""
    return render_template("hub/dashboard.html", overviews=services.dashboard(current_user), call_label=workflow.get("call").label)


@bp.route("/<int:hub_id>/capacity", methods=["GET", "POST"])
@role_required("hub_admin")
def capacity(hub_id: int):
    """List the hub's capacity periods and add one (404 for a hub that is not the user's)."""
    form = CapacityForm()
    if form.validate_on_submit():
        try:
            period = services.add_capacity(actor=current_user, hub_id=hub_id, starts_on=form.starts_on.data,
                                           ends_on=form.ends_on.data, desks=form.desks.data, benches=form.benches.data)
        except Invalid as error:
            apply_field_errors(form, error)
        else:
            flash(_("Capacity from %(start)s to %(end)s is added.", start=format_day(period.starts_on),
                    end=format_day(period.ends_on)), "success")
            return redirect(url_for("hub.capacity", hub_id=hub_id))
    overview = services.hub_overview(current_user, hub_id)
    return render_template("hub/capacity.html", overview=overview, form=form), 422 if form.errors else 200


@bp.get("/<int:hub_id>/capacity/<int:capacity_id>/delete")
@role_required("hub_admin")
def confirm_delete_capacity(hub_id: int, capacity_id: int):
    """Ask before deleting a capacity period: what it holds, and a button that deletes it."""
    period = services.capacity_period(current_user, hub_id, capacity_id)
    return render_template("hub/capacity_delete.html", period=period, hub=period.hub, form=ConfirmForm(formdata=None))


@bp.post("/<int:hub_id>/capacity/<int:capacity_id>/delete")
@role_required("hub_admin")
def delete_capacity(hub_id: int, capacity_id: int):
    """Delete one of the hub's capacity periods once confirmed on its own page (404 for a hub that is
    not the user's); a post without the confirmation shows that page."""
    services.capacity_period(current_user, hub_id, capacity_id)
    form = ConfirmForm()
    form.validate_on_submit() or abort(400)
    if form.confirmed.data != "yes":
        return redirect(url_for("hub.confirm_delete_capacity", hub_id=hub_id, capacity_id=capacity_id))
    starts_on, ends_on = services.delete_capacity(actor=current_user, hub_id=hub_id, capacity_id=capacity_id)
    flash(_("Capacity from %(start)s to %(end)s is deleted.", start=format_day(starts_on), end=format_day(ends_on)), "info")
    return redirect(url_for("hub.capacity", hub_id=hub_id))
