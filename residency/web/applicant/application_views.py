"""The startup's applications: start, draft, attach, submit, withdraw."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from residency.core.i18n import gettext as _
from flask_login import current_user, login_required

from residency.domain.applications import dossier
from residency.domain.applications import services as applications
from residency.domain.review import feedback
from residency.web.access import role_required
from residency.core import limits
from residency.core.attachments import open_stored
from residency.core.errors import Conflict, Invalid, ServiceError
from residency.web.formtools import apply_field_errors
from residency.domain.programme.queries import public_call
from residency.core.db import utcnow
from residency.web.applicant.application_forms import WithdrawForm, application_form
from residency.web.applicant.blueprint import bp
from residency.web.downloads import pdf_download


@bp.post("/calls/<int:call_id>/apply")
@role_required("applicant")
def apply(call_id: int):
    """Open a draft for the chosen startup (or continue the one it has)."""
    call = public_call(call_id) or abort(404)
    startups = current_user.organisations("startup")
    chosen = request.form.get("startup_id", type=int)
    startup = next((s for s in startups if s.id == chosen), None) if chosen else (startups[0] if len(startups) == 1 else None)
    if startup is None:
        abort(404)
    try:
        application = applications.start(call=call, startup=startup, actor=current_user)
    except Conflict as refusal:
        existing = applications.active_application(call.id, startup.id)
        flash(str(refusal.message), "error")
        if existing is not None:
            return redirect(url_for("applicant.application", application_id=existing.id))
        return redirect(url_for("public.call", call_id=call.id))
    flash(_("Your draft is open. Save at any time; nothing is sent until you submit."), "success")
    return redirect(url_for("applicant.application", application_id=application.id))


def _render(application, form, status=200, conflicts=(), withdraw_form=None):
    page = applications.application_page(application, current_user)
    return render_template(
        "applicant/application.html", application=application, form=form, editable=page.editable,
        withdraw_form=withdraw_form or WithdrawForm(formdata=None), can_withdraw=page.can_withdraw,
        page=page, values=page.values, edits=page.edits, labels=page.labels,
        timeline=page.timeline, deadline=page.deadline, now=utcnow(), label=page.label, conflicts=conflicts,
        reviewer_feedback=feedback.applicant_feedback(application),
    ), status


@bp.route("/applications/<int:application_id>", methods=["GET", "POST"])
@login_required
def application(application_id: int):
    """The application form while it is a draft (or changes are requested); a read-only copy after."""
    app_ = applications.own_application(current_user, application_id)
    form = application_form(applications.form_of_application(app_))
    if request.method == "GET":
        form.fill(applications.values_of(app_))
        form.loaded_edit_id.data = str(applications.latest_edit_id(app_))
        return _render(app_, form)
    if not form.validate_on_submit():
        return _render(app_, form, 422)
    loaded = _edit_id(form.loaded_edit_id.data)
    intent = request.form.get("intent", "save")
    remove = intent[7:] if intent.startswith("remove-") else ""
    try:
        saved = applications.save_form(
            application=app_, actor=current_user, values=form.values(), loaded_edit_id=loaded, uploads=form.uploads(),
            remove_attachment_id=limits.parse_id(remove), submit=intent == "submit")
        refusal = saved.refusal
    except ServiceError as error:  # nothing was saved
        refusal = error
    if refusal is not None:
        # The refusal's own sentence first (it names the file or the rule), then each field's message.
        form.form_errors.append(str(refusal.message))
        apply_field_errors(form, refusal)
        form.loaded_edit_id.data = str(applications.latest_edit_id(app_))
        return _render(app_, form, 409 if isinstance(refusal, Conflict) else 422)
    if saved.submitted:
        flash(_("Your application is submitted. A receipt with a copy of your answers is on its way by e-mail."), "success")
        return redirect(url_for("applicant.application", application_id=app_.id))
    flash(_("Saved."), "success")
    return redirect(url_for("applicant.application", application_id=app_.id))


@bp.get("/applications/<int:application_id>/dossier.pdf")
@login_required
def dossier_pdf(application_id: int):
    """The application as a PDF, for the startup's members (404 for anyone else)."""
    return pdf_download(dossier.applicant_pdf(current_user, application_id))


def _edit_id(value) -> int | None:
    """The hidden field's edit number (0 before any edit); None for what no edit can be."""
    try:
        return limits.parse_int(value, 0, limits.MAX_ID)
    except ValueError:
        return None


@bp.post("/applications/<int:application_id>/withdraw")
@role_required("applicant")
def withdraw(application_id: int):
    """Withdraw with a reason, until the cluster has decided."""
    app_ = applications.application_for(current_user, application_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            applications.withdraw(application=app_, actor=current_user, reason=form.reason.data or "")
        except Invalid as error:
            # No reason given: the message under the field, as for any bad input.
            apply_field_errors(form, error)
            if not form.reason.errors:
                form.reason.errors = [_("Please say why you withdraw the application.")]
        else:
            flash(_("The application is withdrawn."), "info")
            return redirect(url_for("applicant.dashboard"))
    # The page again, with what was typed and the message under the field; nothing changed.
    app_ = applications.own_application(current_user, application_id)
    shown = application_form(applications.form_of_application(app_), formdata=None)
    shown.fill(applications.values_of(app_))
    shown.loaded_edit_id.data = str(applications.latest_edit_id(app_))
    return _render(app_, shown, 422, withdraw_form=form)


@bp.get("/applications/<int:application_id>/attachments/<int:attachment_id>")
@login_required
def attachment(application_id: int, attachment_id: int):
    """Download an attachment: the startup's members and the staff who may see the application."""
    found = applications.attachment_for(user=current_user, application_id=application_id, attachment_id=attachment_id)
    stored = open_stored(found.stored_name) or abort(404)
    if stored.path is not None:  # a file of this machine's folder
        response = send_file(stored.path, mimetype=found.content_type, as_attachment=True,
                             download_name=found.download_name, max_age=0)
    else:  # from the database, read in chunks while it is sent
        response = send_file(stored.file, mimetype=found.content_type, as_attachment=True,
                             download_name=found.download_name, max_age=0, conditional=False, etag=found.sha256)
        response.content_length = stored.size
    response.headers["Cache-Control"] = "private, no-store"
    return response
