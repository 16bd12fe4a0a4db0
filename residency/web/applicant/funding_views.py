"""The startup's funding applications during the residency: apply to a scheme of
its route's funder, draft the budget, submit, answer change requests, accept the
grant offer, request instalments and submit reports.

Members of the startup only. Anyone else gets 404 on these pages; the funder's
officers, who read the application in their own area, get 403 when they post
here. A refusal is shown on the page with what was typed kept (422 bad input,
409 not possible now).
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from residency.core.i18n import gettext as _
from flask_login import current_user, login_required

from residency.domain.funding import report_files
from residency.domain.funding import services as funding
from residency.web.access import role_required
from residency.core import limits
from residency.core.errors import Conflict, Invalid
from residency.web.formtools import apply_field_errors
from residency.domain.funding.labels import labels
from residency.core.i18n import format_money
from residency.domain.funding import queries as services
from residency.web.applicant.funding_forms import (
    AcceptGrantForm,
    DeclineGrantForm,
    FundingForm,
    ReportAttachmentForm,
    ReportForm,
)
from residency.web.downloads import send_stored
from residency.web.applicant.blueprint import bp


def _render(page, form=None, status=200, refusal=None, report_forms=None, summary=None, accept_form=None,
            decline_form=None, file_forms=None):
    if form is None and page.editable:
        form = FundingForm.of(page.fa)
    forms = {line.report.id: ReportForm(formdata=None, prefix=f"report-{line.report.id}", data={"text": line.report.text})
             for line in page.reports}
    forms.update(report_forms or {})
    uploads = {line.report.id: ReportAttachmentForm(formdata=None, prefix=f"files-{line.report.id}") for line in page.reports}
    uploads.update(file_forms or {})
    return render_template("applicant/funding.html", page=page, form=form, refusal=refusal, summary=summary,
                           report_forms=forms, file_forms=uploads, max_report_files=report_files.MAX_REPORT_ATTACHMENTS,
                           max_description=funding.MAX_DESCRIPTION,
                           accept_form=accept_form or AcceptGrantForm(formdata=None, prefix="accept"),
                           decline_form=decline_form or DeclineGrantForm(formdata=None, prefix="decline"), **labels()), status


def _refused(funding_id: int, error, **kw):
    """Show the page again with the refusal; the service rolled back, so nothing changed."""
    return _render(services.page(current_user, funding_id), status=error.status_code, refusal=str(error.message), **kw)


@bp.get("/funding")
@role_required("applicant")
def funding_list():
    """Each startup's funding applications and the schemes it may apply to during its residency."""
    return render_template("applicant/funding_list.html", overviews=services.overview(current_user), **labels())


@bp.post("/funding/apply")
@role_required("applicant")
def funding_apply():
    """Open a draft to a scheme; the residency rule is checked now, the others at submission."""
    startup = services.startup_of(current_user, limits.parse_id(request.form.get("startup_id")))
    scheme = services.scheme_of(limits.parse_id(request.form.get("scheme_id")) or 0)
    try:
        fa = funding.start(scheme=scheme, startup=startup, actor=current_user)
    except Conflict as refusal:
        return render_template("applicant/funding_list.html", overviews=services.overview(current_user),
                               refusal=str(refusal.message), **labels()), 409
    flash(_("Your draft to %(scheme)s is open. Save at any time; nothing is sent until you submit.", scheme=scheme.name),
          "success")
    return redirect(url_for("applicant.funding_application", funding_id=fa.id))


@bp.get("/funding/<int:funding_id>")
@login_required
def funding_application(funding_id: int):
    """The draft's form, or what was submitted with the decision, instalments and reports."""
    return _render(services.page(current_user, funding_id))


@bp.post("/funding/<int:funding_id>")
@login_required
def funding_save(funding_id: int):
    """Save the draft, or save and submit it; every scheme rule that refuses is named."""
    fa = funding.funding_for(current_user, funding_id)
    form = FundingForm()
    if not form.validate_on_submit():
        return _render(services.page(current_user, funding_id), form, 422)
    submitting = request.form.get("intent") == "submit"
    try:
        if submitting:
            outcome = funding.save_and_submit(fa=fa, actor=current_user, values=form.values(), budget=form.budget_rows())
        else:
            totals = funding.save_draft(fa=fa, actor=current_user, values=form.values(), budget=form.budget_rows())
    except Invalid as error:
        # What was typed stays in the form; the summary says the draft was not saved.
        apply_field_errors(form, error)
        return _render(services.page(current_user, funding_id), form, 422,
                       summary=_("Nothing was saved. Please correct the marked fields:"))
    except Conflict as error:
        return _refused(funding_id, error)
    if submitting and not outcome.submitted:
        # The draft is saved; the scheme's rules refused the submission, each named under its field.
        apply_field_errors(form, outcome)
        return _render(services.page(current_user, funding_id), form, 422,
                       summary=_("Your draft is saved, but it cannot be submitted yet:"))
    if submitting:
        flash(_("Your funding application is submitted to %(funder)s.", funder=fa.scheme.funder.name), "success")
    else:
        flash(_("Saved. Total costs %(total)s; you ask for %(asked)s.", total=format_money(totals.total_costs, fa.scheme.currency),
                asked=format_money(totals.amount_requested, fa.scheme.currency)), "success")
    return redirect(url_for("applicant.funding_application", funding_id=fa.id))


@bp.post("/funding/<int:funding_id>/accept")
@login_required
def funding_accept(funding_id: int):
    """Accept the grant offer before it lapses, once the startup ticked that it accepts it."""
    fa = funding.answerable_by(current_user, funding_id)
    form = AcceptGrantForm(prefix="accept")
    if not form.validate_on_submit():
        return _render(services.page(current_user, funding_id), status=422, accept_form=form)
    try:
        funding.accept_offer(fa=fa, actor=current_user)
    except Conflict as error:
        return _refused(funding_id, error)
    flash(_("You accepted the grant of %(amount)s. Request the first instalment below.",
            amount=format_money(fa.granted_amount, fa.scheme.currency)), "success")
    return redirect(url_for("applicant.funding_application", funding_id=fa.id))


@bp.post("/funding/<int:funding_id>/decline")
@login_required
def funding_decline(funding_id: int):
    """Say no to the grant offer, with an optional reason for the funder."""
    fa = funding.answerable_by(current_user, funding_id)
    form = DeclineGrantForm(prefix="decline")
    if not form.validate_on_submit():
        return _render(services.page(current_user, funding_id), status=422, decline_form=form)
    try:
        funding.decline_offer(fa=fa, actor=current_user, reason=form.reason.data or "")
    except Conflict as error:
        return _refused(funding_id, error, decline_form=form)
    flash(_("You declined the grant offer. %(funder)s has been told.", funder=fa.scheme.funder.name), "info")
    return redirect(url_for("applicant.funding_application", funding_id=fa.id))


@bp.post("/funding/<int:funding_id>/instalments/<int:index>")
@login_required
def funding_request_instalment(funding_id: int, index: int):
    """Request an instalment of the plan once what it follows is approved."""
    fa = funding.funding_for(current_user, funding_id)
    try:
        disbursement = funding.request_instalment(fa=fa, actor=current_user, index=index)
    except Conflict as error:
        return _refused(funding_id, error)
    flash(_("You requested %(amount)s. %(funder)s records it when it is paid.",
            amount=format_money(disbursement.amount, fa.scheme.currency), funder=fa.scheme.funder.name), "success")
    return redirect(url_for("applicant.funding_application", funding_id=fa.id) + "#instalments")


@bp.post("/funding/<int:funding_id>/reports/<int:report_id>")
@login_required
def funding_submit_report(funding_id: int, report_id: int):
    """Submit a due report, or resubmit one the funder returned."""
    fa = funding.funding_for(current_user, funding_id)
    report = services.report_of(current_user, fa, report_id)
    form = ReportForm(prefix=f"report-{report.id}")
    if not form.validate_on_submit():
        return _render(services.page(current_user, funding_id), status=422, report_forms={report.id: form})
    try:
        funding.submit_report(report=report, actor=current_user, text=form.text.data or "")
    except Invalid as error:
        apply_field_errors(form, error)
        return _render(services.page(current_user, funding_id), status=422, report_forms={report.id: form})
    except Conflict as error:
        return _refused(funding_id, error, report_forms={report.id: form})
    flash(_("Your report is submitted to %(funder)s.", funder=fa.scheme.funder.name), "success")
    return redirect(url_for("applicant.funding_application", funding_id=fa.id) + "#reports")


@bp.post("/funding/<int:funding_id>/reports/<int:report_id>/attachments")
@login_required
def funding_report_attach(funding_id: int, report_id: int):
    """Attach a file to a report not yet submitted (or returned); a refused file is named on the page."""
    fa = funding.funding_for(current_user, funding_id)
    report = services.report_of(current_user, fa, report_id)
    form = ReportAttachmentForm(prefix=f"files-{report.id}")
    upload = form.attachment.data if form.validate_on_submit() else None
    if not upload or not upload.filename:
        if not form.errors:
            form.attachment.errors = [_("Choose a file to attach.")]
        return _render(services.page(current_user, funding_id), status=422, file_forms={report.id: form})
    try:
        attachment = report_files.add_attachment(report=report, actor=current_user, filename=upload.filename,
                                                 data=upload.read())
    except Invalid as error:
        apply_field_errors(form, error)
        return _render(services.page(current_user, funding_id), status=422, file_forms={report.id: form},
                       refusal=str(error.message))
    except Conflict as error:
        return _refused(funding_id, error)
    flash(_("%(name)s is attached to the report.", name=attachment.filename), "success")
    return redirect(url_for("applicant.funding_application", funding_id=fa.id) + f"#report-{report.id}")


@bp.post("/funding/<int:funding_id>/reports/<int:report_id>/attachments/<int:attachment_id>/remove")
@login_required
def funding_report_detach(funding_id: int, report_id: int, attachment_id: int):
    """Remove a file from a report not yet submitted."""
    fa = funding.funding_for(current_user, funding_id)
    report = services.report_of(current_user, fa, report_id)
    try:
        report_files.remove_attachment(report=report, actor=current_user, attachment_id=attachment_id)
    except Conflict as error:
        return _refused(funding_id, error)
    flash(_("The file is removed from the report."), "info")
    return redirect(url_for("applicant.funding_application", funding_id=fa.id) + f"#report-{report.id}")


@bp.get("/funding/<int:funding_id>/reports/<int:report_id>/attachments/<int:attachment_id>")
@login_required
def funding_report_attachment(funding_id: int, report_id: int, attachment_id: int):
    """Download a report's file: whoever may see the report (the startup, the funder's officers,
    programme administrators); 404 for anyone else."""
    found = report_files.attachment_for(user=current_user, report_id=report_id, attachment_id=attachment_id)
    if found.report.funding_application_id != funding_id:
        abort(404)
    return send_stored(found.stored_name, content_type=found.content_type, download_name=found.download_name,
                       etag=found.sha256)
