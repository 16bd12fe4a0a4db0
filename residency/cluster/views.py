"""The cluster area: the calls the cluster nominates for, and their applications."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import applications, workflow
from ..access import role_required
from ..errors import Invalid
from ..extensions import db
from ..formtools import apply_field_errors
from ..labels import register_filters
from . import services
from .forms import ActionForm, RequestChangesForm

bp = Blueprint("cluster", __name__, url_prefix="/cluster")
bp.record_once(register_filters)


@bp.get("/")
@role_required("cluster_staff")
def dashboard():
    """The calls of the user's clusters with the number of applications in each status."""
    return render_template("cluster/dashboard.html", lines=services.dashboard(current_user),
                           columns=services.status_columns(), clusters=current_user.organisations("cluster"),
                           call_label=workflow.CALL.label)


@bp.get("/calls/<int:call_id>")
@role_required("cluster_staff")
def call(call_id: int):
    """One call of the user's cluster with its submitted applications (404 for another cluster's call)."""
    page = services.call_page(current_user, call_id)
    return render_template("cluster/call.html", page=page, call=page.call, label=workflow.APPLICATION.label,
                           call_label=workflow.CALL.label)


@bp.route("/applications/<int:application_id>", methods=["GET"])
@role_required("cluster_staff")
def application(application_id: int):
    """An application to one of the cluster's calls: answers, attachments, full history and actions."""
    app_ = applications.application_for(current_user, application_id)
    if workflow.CLUSTER not in workflow.roles_on(app_, current_user):
        abort(404)
    return _render_application(app_, RequestChangesForm(formdata=None))


def _render_application(app_, form, status=200):
    actions = {t.action for t in workflow.allowed_actions(app_, current_user)}
    return render_template(
        "cluster/application.html", application=app_, form=form, action_form=ActionForm(formdata=None), actions=actions,
        values=applications.values_of(app_), questions=applications.QUESTIONS, sections=applications.SECTIONS,
        history=workflow.history(app_, for_applicant=False), label=workflow.APPLICATION.label(app_.status, False),
    ), status


@bp.post("/applications/<int:application_id>/start-review")
@role_required("cluster_staff")
def start_review(application_id: int):
    app_ = applications.application_for(current_user, application_id)
    ActionForm().validate_on_submit() or abort(400)
    applications.start_review(application=app_, actor=current_user)
    flash(_("Review started."), "success")
    return redirect(url_for("cluster.application", application_id=app_.id))


@bp.post("/applications/<int:application_id>/request-changes")
@role_required("cluster_staff")
def request_changes(application_id: int):
    """Ask the startup for changes with a message and a date to answer by."""
    app_ = applications.application_for(current_user, application_id)
    form = RequestChangesForm()
    if form.validate_on_submit():
        try:
            applications.request_changes(application=app_, actor=current_user, message=form.message.data,
                                         respond_by=form.respond_by.data)
        except Invalid as refusal:
            db.session.rollback()
            apply_field_errors(form, refusal)
        else:
            flash(_("The startup is asked to make changes and has been e-mailed."), "success")
            return redirect(url_for("cluster.application", application_id=app_.id))
    return _render_application(app_, form, 422)
