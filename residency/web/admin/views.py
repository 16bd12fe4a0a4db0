"""The programme administrator's area: organisations, invitations, routes,
calls, status corrections and the outbox.

Views parse the form, call one service, flash and redirect; the services
decide. Every view is for programme administrators only.
"""
from __future__ import annotations

from functools import lru_cache

from flask import abort, flash, redirect, render_template, request, url_for
from residency.core.i18n import gettext as _
from flask_login import current_user

from residency.core import limits, pagination, workflow
from residency.web.access import role_required
from residency.core.errors import Conflict, Invalid, ServiceError
from residency.core.i18n import country_name, timezone_choices
from residency.domain.accounts.models import ORGANISATION_KINDS
from residency.core.db import utcnow
from residency.core.outbox import display_subject as outbox_subject
from residency.core.outbox_models import DELIVERY_STATES
from residency.web.formtools import add_blank_rows, add_row_asked, apply_field_errors, row_values
from residency.domain.accounts.labels import DELIVERY_LABELS, TRACK_LABELS
from residency.domain.applications import dossier
from residency.domain.applications import services as applications
from residency.domain.programme import services
from residency.domain.programme.labels import route_label
from residency.web.admin.forms import (
    CALL_ACTION_LABELS,
    INVITATION_STATE_LABELS,
    KIND_LABELS,
    WORKFLOW_TITLES,
    AuditSearchForm,
    CallForm,
    ConfirmForm,
    ExtensionForm,
    CorrectionForm,
    InvitationForm,
    OrganisationForm,
    RouteCloseForm,
    RouteForm,
)
from residency.web.admin.blueprint import bp
from residency.web.downloads import pdf_download

ADMIN = "programme_admin"


@bp.context_processor
def labels():
    return dict(KIND_LABELS=KIND_LABELS, TRACK_LABELS=TRACK_LABELS,
                CALL_ACTION_LABELS=CALL_ACTION_LABELS, INVITATION_STATE_LABELS=INVITATION_STATE_LABELS,
                DELIVERY_LABELS=DELIVERY_LABELS, WORKFLOW_TITLES=WORKFLOW_TITLES, CALL_WORKFLOW=workflow.get("call"), admin_zone=_admin_zone(),
                workflow_of=workflow.get)


def _admin_zone() -> str:
    """Times that belong to no call are shown in the operator's zone (memberships are already loaded)."""
    if not current_user.is_authenticated:
        return "UTC"
    zones = [org.timezone for org in current_user.organisations("operator") if org.timezone]
    return zones[0] if zones else "UTC"


@lru_cache(maxsize=1)
def _timezones() -> tuple[str, ...]:
    return tuple(timezone_choices())


def _actor():
    """The logged-in administrator as a model instance (services store it on rows)."""
    return current_user._get_current_object()


_refused = apply_field_errors


def _status(form) -> int:
    return 422 if form.errors else 200


# ------------------------------------------------------------------ overview


@bp.get("/")
@role_required(ADMIN)
def dashboard():
    """Counts at a glance and the way to every administration page."""
    return render_template("admin/dashboard.html", overview=services.overview(), active="dashboard",
                           workflows=services.correctable_workflows())


# --------------------------------------------------------------- organisations


@bp.get("/organisations")
@role_required(ADMIN)
def organisations():
    """One page of organisations by kind and name, of one kind or all."""
    kind = request.args.get("kind") if request.args.get("kind") in ORGANISATION_KINDS else None
    return render_template("admin/organisations.html", page=services.list_organisations(kind, pagination.page_number(request.args)),
                           kind=kind, kinds=ORGANISATION_KINDS, active="organisations")


def _organisation_form_page(form, organisation=None):
    status = _status(form)
    kind = organisation.kind if organisation is not None else form.kind.data
    return render_template("admin/organisation_form.html", form=form, organisation=organisation, kind=kind,
                           timezones=_timezones(), active="organisations"), status


def _organisation_fields(form) -> dict:
    return dict(name=form.name.data, country=form.country.data, org_number=form.org_number.data, city=form.city.data,
                timezone_name=form.timezone.data, website=form.website.data, founded_on=form.founded_on.data,
                employees=form.employees.data, track=form.track.data or None, trl=form.trl.data)


@bp.route("/organisations/new", methods=["GET", "POST"])
@role_required(ADMIN)
def organisation_new():
    """Register a cluster, hub, funder, operator or startup."""
    form = OrganisationForm()
    if request.method == "GET":
        # Startups usually register themselves; staff organisations are the common case here.
        form.kind.data = request.args["kind"] if request.args.get("kind") in ORGANISATION_KINDS else "cluster"
    if form.validate_on_submit():
        try:
            org = services.create_organisation(_actor(), kind=form.kind.data, **_organisation_fields(form))
        except Invalid as error:
            _refused(form, error)
        else:
            flash(_("%(name)s is registered.", name=org.name), "success")
            return redirect(url_for(".organisations", kind=org.kind))
    return _organisation_form_page(form)


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@role_required(ADMIN)
def organisation_edit(organisation_id: int):
    organisation = services.get_organisation(organisation_id)
    form = OrganisationForm(obj=organisation)
    del form.kind  # an organisation keeps its kind: roles and routes depend on it
    if request.method == "GET":
        form.org_number.data = organisation.org_number
    if form.validate_on_submit():
        try:
            services.update_organisation(_actor(), organisation.id, **_organisation_fields(form))
        except Invalid as error:
            _refused(form, error)
        else:
            flash(_("The details of %(name)s are saved.", name=organisation.name), "success")
            return redirect(url_for(".organisations", kind=organisation.kind))
    return _organisation_form_page(form, organisation)


# ----------------------------------------------------------------- invitations


@bp.get("/invitations")
@role_required(ADMIN)
def invitations():
    """One page of invitations, newest first, in one state or all."""
    state = request.args.get("state") if request.args.get("state") in services.INVITATION_STATES else None
    return render_template("admin/invitations.html", page=services.list_invitations(state, pagination.page_number(request.args)),
                           state=state, states=services.INVITATION_STATES, form=ConfirmForm(), active="invitations")


def _staff_organisation_choices() -> list:
    return [("", _("Choose an organisation"))] + [
        (org.id, f"{org.name} ({KIND_LABELS[org.kind]})") for org in services.organisations_of_kind(*services.STAFF_KINDS)]


@bp.route("/invitations/new", methods=["GET", "POST"])
@role_required(ADMIN)
def invitation_new():
    """Invite a staff member of a cluster, hub, funder or the operator by e-mail."""
    form = InvitationForm()
    form.organisation_id.choices = _staff_organisation_choices()
    if request.method == "GET" and limits.parse_id(request.args.get("organisation_id")):
        form.organisation_id.data = limits.parse_id(request.args.get("organisation_id"))
    if form.validate_on_submit():
        try:
            invitation = services.invite_staff(_actor(), email=form.email.data, organisation_id=form.organisation_id.data)
        except Invalid as error:
            _refused(form, error)
        else:
            flash(_("An invitation to join %(organisation)s is on its way to %(email)s.",
                    organisation=invitation.organisation.name, email=invitation.email), "success")
            return redirect(url_for(".invitations"))
    return render_template("admin/invitation_form.html", form=form, active="invitations"), _status(form)


@bp.post("/invitations/<int:invitation_id>/revoke")
@role_required(ADMIN)
def invitation_revoke(invitation_id: int):
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            invitation = services.revoke_invitation(_actor(), invitation_id)
        except Conflict as error:
            flash(str(error.message), "error")
        else:
            flash(_("The invitation to %(email)s is withdrawn; its link no longer works.", email=invitation.email), "success")
    return redirect(url_for(".invitations"))


# ---------------------------------------------------------------------- routes


@bp.get("/routes")
@role_required(ADMIN)
def routes():
    """One page of routes by home country and hub."""
    return render_template("admin/routes.html", page=services.routes_page(pagination.page_number(request.args)),
                           active="routes")


def _route_choices(form):
    choose = [("", _("Choose"))]
    form.host_hub_id.choices = choose + [(o.id, f"{o.name} ({country_name(o.country)})")
                                         for o in services.organisations_of_kind("hub")]
    form.cluster_id.choices = choose + [(o.id, o.name) for o in services.organisations_of_kind("cluster")]
    form.funder_ids.choices = [(o.id, f"{o.name} ({country_name(o.country)})") for o in services.organisations_of_kind("funder")]
    return form


@bp.route("/routes/new", methods=["GET", "POST"])
@role_required(ADMIN)
def route_new():
    """Open a route from a home country to a host hub."""
    form = _route_choices(RouteForm())
    if form.validate_on_submit():
        try:
            route = services.create_route(_actor(), home_country=form.home_country.data, host_hub_id=form.host_hub_id.data,
                                          cluster_id=form.cluster_id.data, funder_ids=form.funder_ids.data)
        except Invalid as error:
            _refused(form, error)
        else:
            flash(_("The route from %(country)s to %(hub)s is open; you can now create calls on it.",
                    country=country_name(route.home_country), hub=route.host_hub.name), "success")
            return redirect(url_for(".routes"))
    return render_template("admin/route_form.html", form=form, active="routes"), _status(form)


def _route_page(route, form, close_form=None, status=200):
    return render_template("admin/route_form.html", form=form, route=route, has_calls=services.route_has_calls(route),
                           close_form=close_form or RouteCloseForm(formdata=None, prefix="close"),
                           route_label=workflow.get("route").label(route.status, False), active="routes"), status


@bp.route("/routes/<int:route_id>/edit", methods=["GET", "POST"])
@role_required(ADMIN)
def route_edit(route_id: int):
    """Change a route's funders (and, while it has no calls, its country, hub and cluster); close or reopen it."""
    route = services.get_route(route_id)
    if request.method == "GET":
        form = _route_choices(RouteForm(formdata=None, data={
            "home_country": route.home_country, "host_hub_id": route.host_hub_id, "cluster_id": route.cluster_id,
            "funder_ids": [f.id for f in route.funders]}))
    else:
        form = _route_choices(RouteForm())
    if form.validate_on_submit():
        try:
            services.update_route(_actor(), route_id, home_country=form.home_country.data, host_hub_id=form.host_hub_id.data,
                                  cluster_id=form.cluster_id.data, funder_ids=form.funder_ids.data)
        except Invalid as error:
            _refused(form, error)
        else:
            flash(_("The route from %(country)s to %(hub)s is saved.", country=country_name(route.home_country),
                    hub=route.host_hub.name), "success")
            return redirect(url_for(".routes"))
    return _route_page(route, form, status=_status(form))


@bp.post("/routes/<int:route_id>/close")
@role_required(ADMIN)
def route_close(route_id: int):
    """Close a route to new calls, with a reason for the audit trail."""
    route = services.get_route(route_id)
    form = RouteCloseForm(prefix="close")
    if form.validate_on_submit():
        try:
            services.close_route(_actor(), route_id, reason=form.reason.data or "")
        except ServiceError as error:
            if isinstance(error, Invalid):
                apply_field_errors(form, error)
            else:
                form.form_errors.insert(0, str(error.message))
            status = error.status_code
        else:
            flash(_("The route from %(country)s to %(hub)s is closed to new calls; its calls run to their end.",
                    country=country_name(route.home_country), hub=route.host_hub.name), "success")
            return redirect(url_for(".routes"))
    else:
        status = 422
    return _route_page(route, _route_choices(RouteForm(formdata=None, obj=None, data={
        "home_country": route.home_country, "host_hub_id": route.host_hub_id, "cluster_id": route.cluster_id,
        "funder_ids": [f.id for f in route.funders]})), form, status)


@bp.post("/routes/<int:route_id>/reopen")
@role_required(ADMIN)
def route_reopen(route_id: int):
    route = services.get_route(route_id)
    ConfirmForm().validate_on_submit() or abort(400)
    try:
        services.reopen_route(_actor(), route_id)
    except ServiceError as error:
        flash(str(error.message), "error")
    else:
        flash(_("The route from %(country)s to %(hub)s is open for new calls again.",
                country=country_name(route.home_country), hub=route.host_hub.name), "success")
    return redirect(url_for(".routes"))


# ----------------------------------------------------------------------- calls


@bp.get("/calls")
@role_required(ADMIN)
def calls():
    """One page of calls, newest opening first, in one status or all."""
    status = request.args.get("status") if request.args.get("status") in workflow.get("call").states else None
    return render_template("admin/calls.html", page=services.list_calls(status, pagination.page_number(request.args)),
                           status=status, now=utcnow(), active="calls")


def _call_fields(form) -> dict:
    return dict(title=form.title.data, description=form.description.data, timezone_name=form.timezone.data,
                opens_at=form.opens_at.data, closes_at=form.closes_at.data,
                nomination_deadline=form.nomination_deadline.data, decision_deadline=form.decision_deadline.data,
                seats=form.seats.data, residency_starts_on=form.residency_starts_on.data,
                residency_ends_on=form.residency_ends_on.data, criteria=row_values(form.criteria),
                feedback_in_decision_email=form.feedback_in_decision_email.data)


def _call_form_page(form, call=None, routes=()):
    add_blank_rows(form.criteria, at_least=3)
    return render_template("admin/call_form.html", form=form, call=call, routes=routes, timezones=_timezones(),
                           active="calls"), _status(form)


@bp.route("/calls/new", methods=["GET", "POST"])
@role_required(ADMIN)
def call_new():
    """Create a draft call; times are typed as local times in the call's zone."""
    routes = services.list_routes(open_only=True)
    form = CallForm()
    form.route_id.choices = [("", _("Choose a route"))] + [
        (r.id, route_label(r.home_country, r.host_hub.name)) for r in routes]
    if request.method == "GET" and limits.parse_id(request.args.get("route_id")):
        chosen = next((r for r in routes if r.id == limits.parse_id(request.args.get("route_id"))), None)
        if chosen is not None:
            form.route_id.data, form.timezone.data = chosen.id, chosen.host_hub.timezone
    if add_row_asked(form.criteria, request.form):
        return _call_form_page(form, routes=routes)
    if form.validate_on_submit():
        try:
            call = services.create_call(_actor(), route_id=form.route_id.data, **_call_fields(form))
        except Invalid as error:
            _refused(form, error)
        else:
            flash(_("The call “%(title)s” is saved as a draft. Publish it when it is ready.", title=call.title), "success")
            return redirect(url_for(".call", call_id=call.id))
    return _call_form_page(form, routes=routes)


@bp.get("/calls/<int:call_id>")
@role_required(ADMIN)
def call(call_id: int):
    """One call: its dates in its own zone, criteria, and the lifecycle buttons."""
    call = services.get_call(call_id)
    return _call_page(call, _extension_form(call, formdata=None))


def _extension_form(call, **kwargs) -> ExtensionForm:
    form = ExtensionForm(**kwargs)
    form.startup_id.choices = [(0, _("Choose a startup"))] + [(s.id, s.name) for s in services.startups_of_country(call.route.home_country)]
    return form


def _call_page(call, extension_form, status=200):
    actions = [t.action for t in workflow.allowed_actions(call, current_user)]
    return render_template("admin/call.html", call=call, actions=actions, form=ConfirmForm(), now=utcnow(),
                           editable=call.status in services.EDITABLE_CALL_STATES, active="calls",
                           extension_form=extension_form, extensions=applications.extensions_of(call)), status


@bp.post("/calls/<int:call_id>/extensions")
@role_required(ADMIN)
def call_extension(call_id: int):
    """Give one startup a later deadline for this call (each grant is kept as a record)."""
    call = services.get_call(call_id)
    form = _extension_form(call)
    if form.validate_on_submit():
        try:
            applications.extend_deadline(actor=_actor(), call=call, startup_id=form.startup_id.data,
                                         local_closes_at=form.closes_at.data, reason=form.reason.data)
        except Invalid as error:
            _refused(form, error)
        else:
            flash(_("The deadline is extended for this startup."), "success")
            return redirect(url_for(".call", call_id=call.id))
    return _call_page(call, form, 422)


@bp.route("/calls/<int:call_id>/edit", methods=["GET", "POST"])
@role_required(ADMIN)
def call_edit(call_id: int):
    call = services.get_call(call_id)
    if call.status not in services.EDITABLE_CALL_STATES:
        flash(_("Only draft and published calls can be edited."), "error")
        return redirect(url_for(".call", call_id=call.id))
    form = CallForm(data=dict(
        title=call.title, description=call.description, timezone=call.timezone, seats=call.seats,
        opens_at=services.utc_to_local(call.opens_at, call.timezone),
        closes_at=services.utc_to_local(call.closes_at, call.timezone),
        nomination_deadline=services.utc_to_local(call.nomination_deadline, call.timezone),
        decision_deadline=services.utc_to_local(call.decision_deadline, call.timezone),
        residency_starts_on=call.residency_starts_on, residency_ends_on=call.residency_ends_on,
        criteria=services.criteria_rows(call), feedback_in_decision_email=call.feedback_in_decision_email))
    del form.route_id  # a call stays on its route
    if add_row_asked(form.criteria, request.form):
        return _call_form_page(form, call)
    if form.validate_on_submit():
        try:
            services.update_call(_actor(), call.id, **_call_fields(form))
        except Invalid as error:
            _refused(form, error)
        except Conflict as error:
            flash(str(error.message), "error")
            return redirect(url_for(".call", call_id=call.id))
        else:
            flash(_("The call “%(title)s” is saved.", title=call.title), "success")
            return redirect(url_for(".call", call_id=call.id))
    return _call_form_page(form, call)


@bp.post("/calls/<int:call_id>/<any(publish, close, reopen, archive):action>")
@role_required(ADMIN)
def call_status(call_id: int, action: str):
    """Move a call along its lifecycle; the workflow's refusal is shown as it is."""
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            call = services.change_call_status(_actor(), call_id, action)
        except (Conflict, Invalid) as error:
            flash(str(error.message), "error")
        else:
            flash(_("The call “%(title)s” is now %(state)s.", title=call.title,
                    state=workflow.get("call").label(call.status, False).lower()), "success")
    return redirect(url_for(".call", call_id=call_id))


# ------------------------------------------------------- force and revert


@bp.get("/workflow")
@role_required(ADMIN)
def workflow_find():
    """The record-finder form on the dashboard lands here and goes to the record's page."""
    name, record_id = request.args.get("workflow", ""), limits.parse_id(request.args.get("record_id"))
    if record_id is None or limits.has_control_characters(name):
        flash(_("Enter the record's number."), "error")
        return redirect(url_for(".dashboard"))
    return redirect(url_for(".workflow_record", workflow_name=name or "none", record_id=record_id))


@bp.get("/audit")
@role_required(ADMIN)
def audit():
    """Every status change of every record, newest first, searched by kind of record, record, who and when."""
    form = AuditSearchForm(request.args)
    valid = form.validate()
    search = services.AuditSearch(zone=_admin_zone())
    if valid:
        search = services.AuditSearch(workflow=form.workflow.data or None, record_id=form.record_id.data,
                                      actor=form.actor.data or "", since=form.since.data, until=form.until.data,
                                      zone=_admin_zone())
    page = services.search_audit(search, pagination.Cursor.from_args(request.args))
    return render_template("admin/audit.html", form=form, page=page, searched=valid and search != services.AuditSearch(zone=_admin_zone()),
                           active="audit"), 200 if valid else 422


@bp.route("/workflow/<workflow_name>/<int:record_id>", methods=["GET", "POST"])
@role_required(ADMIN)
def workflow_record(workflow_name: str, record_id: int):
    """A record's audit trail, and forcing or reverting its status with a reason."""
    wf, record = services.workflow_record(workflow_name, record_id)
    form = CorrectionForm()
    form.target.choices = [("", _("Choose a status"))] + [
        (state, wf.label(state, False)) for state in wf.states if state != record.status]
    if form.validate_on_submit():
        try:
            change = services.correct_status(_actor(), wf.name, record.id, action=form.action.data,
                                             reason=form.reason.data, target=form.target.data or None)
        except (Invalid, Conflict) as error:
            _refused(form, error)
        else:
            flash(_("The status is now %(state)s; the reason is in the audit trail.",
                    state=wf.label(change.to_state, False)), "success")
            return redirect(url_for(".workflow_record", workflow_name=wf.name, record_id=record.id))
    return render_template("admin/workflow.html", wf=wf, record=record, form=form, zone=services.record_zone(record),
                           page=services.audit_trail(wf, record, pagination.Cursor.from_args(request.args)),
                           active="workflow"), _status(form)


@bp.get("/applications/<int:application_id>/dossier.pdf")
@role_required(ADMIN)
def application_pdf(application_id: int):
    """An application as a PDF with its status history."""
    return pdf_download(dossier.admin_pdf(_actor(), application_id))


# ---------------------------------------------------------------------- outbox


@bp.get("/outbox")
@role_required(ADMIN)
def outbox():
    """The outbox newest first, one keyset page at a time, in one delivery state or all."""
    delivery = request.args.get("delivery") if request.args.get("delivery") in DELIVERY_STATES else None
    result = services.list_outbox(delivery, pagination.Cursor.from_args(request.args))
    return render_template("admin/outbox.html", page=result, delivery=delivery, states=DELIVERY_STATES,
                           form=ConfirmForm(), subject_of=outbox_subject, active="outbox")


@bp.get("/outbox/<int:message_id>")
@role_required(ADMIN)
def outbox_message(message_id: int):
    """One message: subject, recipient, the text and HTML as the recipient reads them, its delivery
    and who cancelled or resent it, with the cancel or resend button."""
    return render_template("admin/outbox_message.html", page=services.outbox_message(message_id), form=ConfirmForm(),
                           active="outbox")


@bp.post("/outbox/<int:message_id>/resend")
@role_required(ADMIN)
def outbox_resend(message_id: int):
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            message = services.resend_message(_actor(), message_id)
        except Conflict as error:
            flash(str(error.message), "error")
        else:
            flash(_("The message to %(recipient)s is queued again.", recipient=message.recipient), "success")
    return redirect(request.form.get("next") if _local_path(request.form.get("next")) else url_for(".outbox"))


@bp.post("/outbox/<int:message_id>/cancel")
@role_required(ADMIN)
def outbox_cancel(message_id: int):
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            message = services.cancel_message(_actor(), message_id)
        except Conflict as error:
            flash(str(error.message), "error")
        else:
            flash(_("The message to %(recipient)s is cancelled; it will not be sent.", recipient=message.recipient),
                  "success")
    return redirect(request.form.get("next") if _local_path(request.form.get("next")) else url_for(".outbox"))


def _local_path(target: str | None) -> bool:
    return bool(target) and target.startswith("/") and not target.startswith("//") and "\\" not in target
