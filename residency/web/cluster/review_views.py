"""Reviewer assignment, conflicts of interest, scoring, decisions, release and bulk actions.

Every page and POST here answers 403 to users without a cluster membership and
404 to staff of another cluster (the application or call is not theirs to see).
Refusals of the services (seats full, deadline passed, not allowed now) are put
back on the page in plain words; nothing changes.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from residency.core.i18n import gettext as _
from residency.core.i18n import ngettext
from flask_login import current_user

from residency.domain.applications import services as applications
from residency.domain.review import dossiers, nominations, services as reviews
from residency.core import limits, workflow
from residency.web.access import role_required
from residency.core.errors import Invalid, ServiceError
from residency.web.formtools import apply_field_errors
from residency.web.cluster.forms import ActionForm, RequestChangesForm
from residency.web.cluster.review_forms import (
    RECOMMENDATION_LABELS,
    AssignEvenlyForm,
    AssignReviewersForm,
    ConflictForm,
    DeclineForm,
    NominateForm,
    UnnominateForm,
    review_form,
)
from residency.web.cluster.blueprint import bp
from residency.web.downloads import pdf_download

STAFF = "cluster_staff"


def _application(application_id: int):
    """The application, if the current user is staff of its nominating cluster (404 otherwise)."""
    return reviews.cluster_application(current_user, application_id)


def _refuse(form, refusal: ServiceError) -> tuple[int, str | None]:
    """Say why the service refused (it undid what it began); return the status code and,
    for a rule that stands in the way (not allowed now, seats full, deadline passed),
    the message to show above the page, since the form may not be shown at all."""
    if isinstance(refusal, Invalid):
        apply_field_errors(form, refusal)
        message = str(refusal.message)
        if message not in form.form_errors:
            form.form_errors.insert(0, message)
        return refusal.status_code, None
    return refusal.status_code, str(refusal.message)


def _own_review_form(app_, panel):
    review = panel.my_review
    data = {}
    if review is not None:
        data = {f"score_{s.criterion_id}": s.score for s in review.scores}
        data.update(recommendation=review.recommendation, comment=review.comment,
                    applicant_comment=review.applicant_comment)
    return review_form(app_.call, formdata=None, data=data)


def _render_application(app_, status: int = 200, refusal: str | None = None, **given):
    panel = reviews.review_panel(application=app_, viewer=current_user)
    forms = dict(
        changes_form=RequestChangesForm(formdata=None),
        assign_form=AssignReviewersForm(formdata=None, prefix="assign"),
        conflict_form=ConflictForm(formdata=None, prefix="conflict"),
        nominate_form=NominateForm(formdata=None, prefix="nominate"),
        decline_form=DeclineForm(formdata=None, prefix="decline"),
        unnominate_form=UnnominateForm(formdata=None, prefix="unnominate"),
    )
    forms.update(given)
    if "review_form" not in forms:
        forms["review_form"] = _own_review_form(app_, panel)
    forms["assign_form"].reviewers.choices = [(u.id, u.name) for u in panel.staff]
    return render_template(
        "cluster/application.html", application=app_, panel=panel, refusal=refusal, action_form=ActionForm(formdata=None),
        actions={t.action for t in workflow.allowed_actions(app_, current_user)},
        answer_sections=applications.answers_in_order(app_),
        history=workflow.history(app_, for_applicant=False), label=workflow.get("application").label(app_.status, False),
        nomination=nominations.nomination_of(app_.id), seats_taken=nominations.seats_taken(app_.call),
        recommendation_labels=RECOMMENDATION_LABELS, review_open=app_.status in reviews.OPEN_STATES, **forms,
    ), status


def _back(app_, anchor: str | None = None):
    return redirect(url_for("cluster.application", application_id=app_.id, _anchor=anchor))


# ------------------------------------------------------------ the application


@bp.get("/applications/<int:application_id>")
@role_required(STAFF)
def application(application_id: int):
    """An application to one of the cluster's calls: decision, reviews, answers, attachments and history."""
    return _render_application(_application(application_id))


@bp.get("/applications/<int:application_id>/dossier.pdf")
@role_required(STAFF)
def dossier_pdf(application_id: int):
    """The application as a PDF with its status history (404 for staff of another cluster)."""
    return pdf_download(dossiers.cluster_pdf(current_user, application_id))


@bp.post("/applications/<int:application_id>/start-review")
@role_required(STAFF)
def start_review(application_id: int):
    app_ = _application(application_id)
    ActionForm().validate_on_submit() or abort(400)
    try:
        applications.start_review(application=app_, actor=current_user)
    except ServiceError as refusal:
        flash(str(refusal.message), "error")
    else:
        flash(_("Review started."), "success")
    return _back(app_)


@bp.post("/applications/<int:application_id>/request-changes")
@role_required(STAFF)
def request_changes(application_id: int):
    """Ask the startup for changes with a message and a date to answer by."""
    app_ = _application(application_id)
    form = RequestChangesForm()
    status, refusal = 422, None
    if form.validate_on_submit():
        try:
            applications.request_changes(application=app_, actor=current_user, message=form.message.data,
                                         respond_by=form.respond_by.data)
        except ServiceError as error:
            status, refusal = _refuse(form, error)
        else:
            flash(_("The startup is asked to make changes and has been e-mailed."), "success")
            return _back(app_)
    return _render_application(app_, status, refusal, changes_form=form)


@bp.post("/applications/<int:application_id>/reviewers")
@role_required(STAFF)
def assign_reviewers(application_id: int):
    """Assign staff members of the cluster as reviewers, by hand."""
    app_ = _application(application_id)
    form = AssignReviewersForm(prefix="assign")
    status, refusal = 422, None
    if form.validate_on_submit():
        try:
            made = reviews.assign(application=app_, actor=current_user, reviewer_ids=form.reviewers.data)
        except ServiceError as error:
            status, refusal = _refuse(form, error)
        else:
            flash(_("Assigned as reviewers: %(names)s.", names=", ".join(a.reviewer.name for a in made)), "success")
            return _back(app_, "reviewers")
    return _render_application(app_, status, refusal, assign_form=form)


@bp.post("/applications/<int:application_id>/conflict")
@role_required(STAFF)
def declare_conflict(application_id: int):
    """The current user declares a conflict of interest and is excluded from this application."""
    app_ = _application(application_id)
    form = ConflictForm(prefix="conflict")
    status, refusal = 422, None
    if form.validate_on_submit():
        try:
            reviews.declare_conflict(application=app_, actor=current_user, reason=form.reason.data)
        except ServiceError as error:
            status, refusal = _refuse(form, error)
        else:
            flash(_("Your conflict of interest is recorded. You will not review this application."), "success")
            return _back(app_, "reviewers")
    return _render_application(app_, status, refusal, conflict_form=form)


@bp.post("/applications/<int:application_id>/review")
@role_required(STAFF)
def save_review(application_id: int):
    """Save the current user's review as a draft, or submit it."""
    app_ = _application(application_id)
    form = review_form(app_.call)
    submit = request.form.get("intent") == "submit"
    status, refusal = 422, None
    if form.validate_on_submit():
        try:
            reviews.save_review(application=app_, actor=current_user, scores=form.scores(),
                                recommendation=form.recommendation.data, comment=form.comment.data,
                                applicant_comment=form.applicant_comment.data, submit=submit).or_raise()
        except ServiceError as error:  # an incomplete submission is kept as a draft all the same
            status, refusal = _refuse(form, error)
        else:
            flash(_("Your review is submitted.") if submit else _("Your review is saved as a draft."), "success")
            return _back(app_, "reviews")
    return _render_application(app_, status, refusal, review_form=form)


@bp.post("/applications/<int:application_id>/nominate")
@role_required(STAFF)
def nominate(application_id: int):
    """Nominate with a rationale and a rank, within the call's seats and before its deadline."""
    app_ = _application(application_id)
    form = NominateForm(prefix="nominate")
    status, refusal = 422, None
    if form.validate_on_submit():
        try:
            made = nominations.nominate(application=app_, actor=current_user, rationale=form.rationale.data,
                                        rank=form.rank.data)
        except ServiceError as error:
            status, refusal = _refuse(form, error)
        else:
            flash(_("Nominated as number %(rank)d.", rank=made.rank) + " " + _released_note(app_), "success")
            return _back(app_)
    return _render_application(app_, status, refusal, nominate_form=form)


@bp.post("/applications/<int:application_id>/decline")
@role_required(STAFF)
def decline(application_id: int):
    """Decline with an internal reason (staff only) and a message for the startup."""
    app_ = _application(application_id)
    form = DeclineForm(prefix="decline")
    status, refusal = 422, None
    if form.validate_on_submit():
        try:
            nominations.decline(application=app_, actor=current_user, reason=form.reason.data, message=form.message.data)
        except ServiceError as error:
            status, refusal = _refuse(form, error)
        else:
            flash(_("Declined.") + " " + _released_note(app_), "success")
            return _back(app_)
    return _render_application(app_, status, refusal, decline_form=form)


@bp.post("/applications/<int:application_id>/unnominate")
@role_required(STAFF)
def unnominate(application_id: int):
    """Take a nomination back while the hub has not acted on it; the seat is free again."""
    app_ = _application(application_id)
    form = UnnominateForm(prefix="unnominate")
    status, refusal = 422, None
    if form.validate_on_submit():
        try:
            nominations.unnominate(application=app_, actor=current_user, reason=form.reason.data)
        except ServiceError as error:
            status, refusal = _refuse(form, error)
        else:
            flash(_("The nomination is taken back: the application is under review again and its seat is free."), "success")
            return _back(app_)
    return _render_application(app_, status, refusal, unnominate_form=form)


def _released_note(app_) -> str:
    if app_.call.decisions_released_at is None:
        return _("The startup learns of it when the call's decisions are released.")
    return _("The decisions of this call are released, so the startup has been e-mailed.")


# ------------------------------------------------------------------ release


@bp.route("/calls/<int:call_id>/release", methods=["GET", "POST"])
@role_required(STAFF)
def release(call_id: int):
    """Preview every decision e-mail of the call, then send them all at once."""
    form = ActionForm()
    if request.method == "POST":
        nominations.cluster_call(call_id, current_user)
        form.validate_on_submit() or abort(400)
        try:
            sent = nominations.release(call_id=call_id, actor=current_user)
        except ServiceError as refusal:
            flash(str(refusal.message), "error")
        else:
            flash(ngettext("The decisions are released: %(num)d startup is e-mailed.",
                           "The decisions are released: %(num)d startups are e-mailed.", sent), "success")
        return redirect(url_for("cluster.release", call_id=call_id))
    call, items, undecided = nominations.release_mails(call_id=call_id, actor=current_user)
    return render_template("cluster/release.html", call=call, items=items, undecided=undecided, action_form=form,
                           mail_count=sum(len(mails) for _item, mails in items),
                           seats_taken=nominations.seats_taken(call), label=workflow.get("application").label)


# ------------------------------------------------------------- bulk actions


def _posted_ids(name: str = "application_id") -> list[int]:
    """The ticked records' ids; what no record can have (not a number, beyond an id column) is left out."""
    return [i for i in (limits.parse_id(v) for v in request.form.getlist(name)) if i is not None]


def _results(call, title, outcomes):
    return render_template("cluster/bulk_results.html", call=call, title=title, outcomes=outcomes)


@bp.get("/calls/<int:call_id>/bulk/assign")
@role_required(STAFF)
def bulk_assign(call_id: int):
    """Preview an even spread of reviewers over the call's undecided applications."""
    call = nominations.cluster_call(call_id, current_user)
    form = AssignEvenlyForm(formdata=request.args or None)
    plan, status = None, 200
    if form.validate():
        try:
            call, plan = reviews.plan_even_assignment(call_id=call.id, actor=current_user,
                                                      per_application=form.per_application.data)
        except Invalid as error:
            status, _message = _refuse(form, error)
    else:
        status = 422
    return render_template("cluster/bulk_assign.html", call=call, form=form, plan=plan,
                           action_form=ActionForm(formdata=None)), status


@bp.post("/calls/<int:call_id>/bulk/assign")
@role_required(STAFF)
def bulk_assign_confirm(call_id: int):
    """Assign exactly the previewed reviewers, application by application."""
    call = nominations.cluster_call(call_id, current_user)
    ActionForm().validate_on_submit() or abort(400)
    plan: dict[int, list[int]] = {}
    for pair in request.form.getlist("pair"):
        app_id, _sep, reviewer_id = pair.partition(":")
        app_id, reviewer_id = limits.parse_id(app_id), limits.parse_id(reviewer_id)
        if app_id is not None and reviewer_id is not None:
            plan.setdefault(app_id, []).append(reviewer_id)
    outcomes = reviews.assign_planned(call_id=call.id, actor=current_user, plan=list(plan.items()))
    return _results(call, _("Reviewers assigned"), outcomes)


@bp.route("/calls/<int:call_id>/bulk/start-review", methods=["GET", "POST"])
@role_required(STAFF)
def bulk_start_review(call_id: int):
    """Preview, then start the review of every submitted application of the call."""
    call = nominations.cluster_call(call_id, current_user)
    if request.method == "POST":
        ActionForm().validate_on_submit() or abort(400)
        outcomes = reviews.start_review_many(call_id=call.id, actor=current_user, application_ids=_posted_ids())
        return _results(call, _("Reviews started"), outcomes)
    call, apps = reviews.start_review_preview(call_id=call.id, actor=current_user)
    return render_template("cluster/bulk_start_review.html", call=call, apps=apps, action_form=ActionForm(formdata=None),
                           label=workflow.get("application").label)


@bp.route("/calls/<int:call_id>/bulk/decline", methods=["GET", "POST"])
@role_required(STAFF)
def bulk_decline(call_id: int):
    """Preview, then decline every application under review that is not nominated."""
    call = nominations.cluster_call(call_id, current_user)
    if request.method == "GET":
        call, apps = nominations.decline_preview(call_id=call.id, actor=current_user)
        return render_template("cluster/bulk_decline.html", call=call, apps=apps, form=DeclineForm(formdata=None),
                               label=workflow.get("application").label)
    form = DeclineForm()
    ids = _posted_ids()
    status = 422
    if form.validate_on_submit():
        try:
            outcomes = nominations.decline_many(call_id=call.id, actor=current_user, application_ids=ids,
                                                reason=form.reason.data, message=form.message.data)
        except Invalid as error:
            status, _message = _refuse(form, error)
        else:
            return _results(call, _("Applications declined"), outcomes)
    # The same list as the preview the user confirmed, not a new one.
    return render_template("cluster/bulk_decline.html", call=call, apps=nominations.applications_in(call, ids), form=form,
                           label=workflow.get("application").label), status
