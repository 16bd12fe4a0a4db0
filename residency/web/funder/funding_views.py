"""The funder's funding desk: the queue of applications to the funder's schemes and
one application with its assessment, the grant decision, instalments and reports.

Funder officers only (403 for everyone else); an officer of another funder gets 404
on every page and POST, as does anyone for a draft. A refusal is shown on the page
with what was typed kept (422 bad input, 409 not possible now).
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from residency.core.i18n import gettext as _
from flask_login import current_user

from residency.core import limits, pagination
from residency.domain.funding import services as funding
from residency.web.access import role_required
from residency.core.errors import Invalid, ServiceError
from residency.web.formtools import apply_field_errors
from residency.domain.funding.labels import labels
from residency.core.i18n import format_in_zone, format_money
from residency.domain.funding import officer_queries as services
from residency.web.funder.funding_forms import (
    CancelForm,
    ChangesForm,
    ConfirmForm,
    GrantForm,
    NotesForm,
    PaymentForm,
    RejectForm,
    ReturnReportForm,
)
from residency.web.funder.blueprint import bp

OFFICER = "funder_officer"


@bp.get("/funding")
@role_required(OFFICER)
def funding_queue():
    """One page of the applications to the funder's schemes, by scheme, status and startup name."""
    queue = services.queue(current_user, scheme_id=limits.parse_id(request.args.get("scheme")),
                           status=request.args.get("status") or None, search=request.args.get("q", ""),
                           page=pagination.page_number(request.args))
    return render_template("funder/funding_queue.html", queue=queue, states=services.QUEUE_STATES)


def _forms(page, given: dict) -> dict:
    fa = page.fa
    forms = {
        "confirm_form": ConfirmForm(formdata=None),
        "notes_form": NotesForm(formdata=None, prefix="notes", data={"notes": fa.assessment_notes}),
        "changes_form": ChangesForm(formdata=None, prefix="changes"),
        "reject_form": RejectForm(formdata=None, prefix="reject"),
        "cancel_form": CancelForm(formdata=None, prefix="cancel"),
        "grant_form": GrantForm.proposal(services.grant_defaults(fa, page.today)).for_scheme(fa.scheme),
    }
    returns = {line.report.id: ReturnReportForm(formdata=None, prefix=f"return-{line.report.id}") for line in page.reports}
    returns.update(given.pop("return_forms", {}))
    payments = {step.disbursement.id: PaymentForm(formdata=None, prefix=f"paid-{step.disbursement.id}",
                                                  data={"paid_on": page.today, "reference": ""})
                for step in page.plan if step.disbursement is not None and step.disbursement.paid_at is None}
    payments.update(given.pop("payment_forms", {}))
    forms.update(given)
    forms["return_forms"] = returns
    forms["payment_forms"] = payments
    return forms


def _render(funding_id: int, status: int = 200, refusal: str | None = None, **given):
    page = services.page(current_user, funding_id)
    return render_template("funder/funding.html", page=page, refusal=refusal, **_forms(page, given), **labels()), status


def _act(funding_id: int, form, key: str, perform, success, anchor: str = ""):
    """Validate the form, call its one service, and flash and redirect; or show the page again
    with the refusal and what was typed (404 and 403 go to the error page)."""
    fa = services.application_of(current_user, funding_id)
    status, refusal = 422, None
    if form.validate_on_submit():
        try:
            result = perform(fa, form)
        except ServiceError as error:
            if error.status_code in (403, 404):
                raise
            status = error.status_code
            if isinstance(error, Invalid):
                apply_field_errors(form, error)
                if str(error.message) not in form.form_errors:
                    form.form_errors.insert(0, str(error.message))
            else:
                refusal = str(error.message)
        else:
            flash(success(fa, result), "success")
            return redirect(url_for("funder.funding_application", funding_id=fa.id) + anchor)
    if key.startswith(("return:", "paid:")):
        kind, record_id = key.split(":")
        given = {{"return": "return_forms", "paid": "payment_forms"}[kind]: {int(record_id): form}}
    else:
        given = {key: form}
    return _render(funding_id, status, refusal, **given)


@bp.get("/funding/<int:funding_id>")
@role_required(OFFICER)
def funding_application(funding_id: int):
    """The application, its budget and totals, the scheme's rules, notes, the decision, instalments and reports."""
    return _render(funding_id)


@bp.post("/funding/<int:funding_id>/start-assessment")
@role_required(OFFICER)
def funding_start_assessment(funding_id: int):
    return _act(funding_id, ConfirmForm(), "confirm_form",
                lambda fa, f: funding.start_assessment(fa=fa, actor=current_user),
                lambda fa, r: _("The assessment of “%(title)s” has started.", title=fa.title))


@bp.post("/funding/<int:funding_id>/notes")
@role_required(OFFICER)
def funding_notes(funding_id: int):
    return _act(funding_id, NotesForm(prefix="notes"), "notes_form",
                lambda fa, f: funding.save_notes(fa=fa, actor=current_user, notes=f.notes.data or ""),
                lambda fa, r: _("The assessment notes are saved. The startup does not see them."), "#notes")


@bp.post("/funding/<int:funding_id>/request-changes")
@role_required(OFFICER)
def funding_request_changes(funding_id: int):
    return _act(funding_id, ChangesForm(prefix="changes"), "changes_form",
                lambda fa, f: funding.request_changes(fa=fa, actor=current_user, message=f.reason.data or ""),
                lambda fa, r: _("%(startup)s is asked to make changes and has been e-mailed.", startup=fa.startup.name))


@bp.post("/funding/<int:funding_id>/grant")
@role_required(OFFICER)
def funding_grant(funding_id: int):
    fa = services.application_of(current_user, funding_id)
    return _act(funding_id, GrantForm(prefix="grant").for_scheme(fa.scheme), "grant_form",
                lambda fa, f: funding.grant(fa=fa, actor=current_user, amount=f.amount.data or "",
                                            share_percent=f.share_percent.data or "", conditions=f.conditions.data or "",
                                            offer_deadline=f.offer_deadline.data, report_due=f.report_due()),
                lambda fa, r: _("%(startup)s is offered %(amount)s and has been e-mailed; the offer lapses %(when)s.",
                                startup=fa.startup.name, amount=format_money(fa.granted_amount, fa.scheme.currency),
                                when=format_in_zone(fa.offer_expires_at, funding.funder_zone(fa.scheme))))


@bp.post("/funding/<int:funding_id>/reject")
@role_required(OFFICER)
def funding_reject(funding_id: int):
    return _act(funding_id, RejectForm(prefix="reject"), "reject_form",
                lambda fa, f: funding.reject(fa=fa, actor=current_user, reason=f.reason.data or ""),
                lambda fa, r: _("The application of %(startup)s is rejected and the startup has been e-mailed.",
                                startup=fa.startup.name))


@bp.post("/funding/<int:funding_id>/disbursements/<int:disbursement_id>/paid")
@role_required(OFFICER)
def funding_record_paid(funding_id: int, disbursement_id: int):
    """Record a requested instalment paid, with the day, the amount and the payment's reference."""
    return _act(funding_id, PaymentForm(prefix=f"paid-{disbursement_id}"), f"paid:{disbursement_id}",
                lambda fa, f: funding.record_paid(fa=fa, actor=current_user, disbursement_id=disbursement_id,
                                                  paid_on=f.paid_on.data, amount=f.amount.data or "",
                                                  reference=f.reference.data or ""),
                lambda fa, d: _("%(amount)s is recorded as paid; %(startup)s has been e-mailed.",
                                amount=format_money(d.amount, fa.scheme.currency), startup=fa.startup.name), "#instalments")


@bp.post("/funding/<int:funding_id>/reports/<int:report_id>/approve")
@role_required(OFFICER)
def funding_approve_report(funding_id: int, report_id: int):
    def perform(fa, f):
        return funding.approve_report(report=services.report_of(current_user, fa, report_id), actor=current_user)

    return _act(funding_id, ConfirmForm(), "confirm_form", perform,
                lambda fa, r: _("The report is approved."), "#reports")


@bp.post("/funding/<int:funding_id>/reports/<int:report_id>/return")
@role_required(OFFICER)
def funding_return_report(funding_id: int, report_id: int):
    def perform(fa, f):
        return funding.return_report(report=services.report_of(current_user, fa, report_id), actor=current_user,
                                     comments=f.reason.data or "")

    return _act(funding_id, ReturnReportForm(prefix=f"return-{report_id}"), f"return:{report_id}", perform,
                lambda fa, r: _("The report is returned to %(startup)s with your comments.", startup=fa.startup.name),
                "#reports")


@bp.post("/funding/<int:funding_id>/close")
@role_required(OFFICER)
def funding_close(funding_id: int):
    return _act(funding_id, ConfirmForm(), "confirm_form",
                lambda fa, f: funding.close(fa=fa, actor=current_user),
                lambda fa, r: _("The grant to %(startup)s is closed.", startup=fa.startup.name))


@bp.post("/funding/<int:funding_id>/cancel")
@role_required(OFFICER)
def funding_cancel(funding_id: int):
    return _act(funding_id, CancelForm(prefix="cancel"), "cancel_form",
                lambda fa, f: funding.cancel(fa=fa, actor=current_user, reason=f.reason.data or ""),
                lambda fa, r: _("The grant to %(startup)s is cancelled.", startup=fa.startup.name), "#cancelling")
