"""The startup's area: its organisation, members and applications."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from residency.core.i18n import gettext as _
from flask_login import current_user, login_required

from residency.web.access import member_or_404, role_required
from residency.core.errors import Invalid
from residency.web.formtools import apply_field_errors
from residency.domain.accounts import startups as services
from residency.domain.applications import dashboard as startup_pages
from residency.domain.impact.services import surveys_of
from residency.domain.placements.queries import placements_of_applications
from residency.web.applicant.forms import JoinForm, StartupForm
from residency.web.applicant.blueprint import bp



def _render_start(create_form, join_form, status=200, duplicate=None):
    return render_template(
        "applicant/start.html", create_form=create_form, join_form=join_form, duplicate=duplicate,
        open_requests=services.open_requests_of(current_user),
    ), status


@bp.get("/start")
@login_required
def start():
    """A new account registers its startup or asks to join one."""
    return _render_start(StartupForm(prefix="create"), JoinForm(prefix="join"))


@bp.post("/start")
@login_required
def create():
    """Register a startup; a number already registered is refused with an offer to ask to join instead."""
    form, join_form = StartupForm(prefix="create"), JoinForm(prefix="join", formdata=None)
    duplicate = None
    if form.validate_on_submit():
        try:
            startup = services.create_startup(actor=current_user, **form.values())
        except services.AlreadyRegistered as error:
            apply_field_errors(form, error)
            duplicate = error.organisation if error.joinable else None
            join_form.country.data, join_form.org_number.data = error.organisation.country, error.organisation.org_number
        except Invalid as error:
            apply_field_errors(form, error)
        else:
            flash(_("%(name)s is registered, and you are its first member.", name=startup.name), "success")
            return redirect(url_for("applicant.dashboard"))
    return _render_start(form, join_form, 422, duplicate)


@bp.post("/join")
@login_required
def join():
    """Ask the members of a registered startup to let you in."""
    form, create_form = JoinForm(prefix="join"), StartupForm(prefix="create", formdata=None)
    if form.validate_on_submit():
        try:
            join_request = services.request_to_join(actor=current_user, country=form.country.data,
                                               org_number=form.org_number.data, message=form.message.data)
        except Invalid as error:
            apply_field_errors(form, error)
        else:
            flash(_("Your request to join %(name)s is sent. Its members decide, and you will get an e-mail.",
                    name=join_request.organisation.name), "success")
            return redirect(url_for("applicant.start"))
    return _render_start(create_form, form, 422)


@bp.get("/")
@role_required("applicant")
def dashboard():
    """The user's startups, their members, join requests and applications, and the calls open to them."""
    return render_template("applicant/dashboard.html", dashboard=startup_pages.dashboard(
        current_user, placements_of=placements_of_applications, surveys_of=surveys_of, args=request.args))


@bp.get("/organisations/<int:organisation_id>")
@login_required
def organisation(organisation_id: int):
    """A startup's profile, members and open join requests (members only)."""
    return render_template("applicant/organisation.html", overview=startup_pages.startup_overview(
        current_user, organisation_id, placements_of=placements_of_applications, args=request.args))


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@login_required
def edit(organisation_id: int):
    """Change the startup's profile (members only)."""
    startup = member_or_404(organisation_id, "startup")
    form = StartupForm(obj=startup)
    if form.validate_on_submit():
        try:
            services.update_startup(actor=current_user, organisation_id=startup.id, **form.values())
        except Invalid as error:
            apply_field_errors(form, error)
        else:
            flash(_("The profile of %(name)s is saved.", name=startup.name), "success")
            return redirect(url_for("applicant.organisation", organisation_id=startup.id))
    return render_template("applicant/edit.html", form=form, startup=startup), 422 if form.errors else 200


@bp.post("/organisations/<int:organisation_id>/join-requests/<int:request_id>/<any(approve, decline):decision>")
@login_required
def decide(organisation_id: int, request_id: int, decision: str):
    """A member approves or declines a request to join the startup."""
    decided = services.decide_join_request(actor=current_user, organisation_id=organisation_id,
                                           request_id=request_id, approve=decision == "approve")
    if decided.approved:
        flash(_("%(name)s is now a member of %(organisation)s.", name=decided.user.name,
                organisation=decided.organisation.name), "success")
    else:
        flash(_("You declined the request of %(name)s.", name=decided.user.name), "info")
    return redirect(url_for("applicant.organisation", organisation_id=organisation_id))
