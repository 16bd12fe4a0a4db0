"""The JSON API under /api/v1: thin views over ``api.services``.

Callers authenticate with a personal token (``Authorization: Bearer ...``),
never with the session cookie, which is why these blueprints are exempt from
CSRF. Permission is the web pages' permission: 404 for what the caller may not
see, 403 for what they may see but not do.
"""
from __future__ import annotations

from flask import g, jsonify, request
from residency.core.i18n import lazy_gettext as _l
from flask_smorest import Blueprint

from residency.core.errors import ServiceError
from residency.domain.accounts import tokens
from residency.domain.insight import api as services
from residency.web.errors import TITLES
from residency.web.api import schemas

PAGINATION = dict(page=1, page_size=20, max_page_size=100)

calls_bp = Blueprint("api_calls", __name__, url_prefix="/api/v1/calls", description="Published and closed residency calls")
applications_bp = Blueprint("api_applications", __name__, url_prefix="/api/v1/applications",
                            description="Applications the caller may see")
placements_bp = Blueprint("api_placements", __name__, url_prefix="/api/v1/placements", description="Placements the caller may see")
funding_bp = Blueprint("api_funding", __name__, url_prefix="/api/v1/funding-applications",
                       description="Funding applications the caller may see")
reports_bp = Blueprint("api_reports", __name__, url_prefix="/api/v1/reports", description="Reports under grants")

BLUEPRINTS = (calls_bp, applications_bp, placements_bp, funding_bp, reports_bp)
PUBLIC = {calls_bp.name}


# ------------------------------------------------------------------ authentication and errors


def _unauthorized():
    response = jsonify(error=str(_l("Please log in to see this page.")),
                       message="Send a valid personal API token as 'Authorization: Bearer <token>'.")
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _authenticate():
    header = request.headers.get("Authorization", "")
    g.api_user = None
    if not header:
        return None if request.blueprint in PUBLIC else _unauthorized()
    scheme, _, secret = header.partition(" ")
    user = tokens.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        return _unauthorized()
    g.api_user = user
    return None


def _service_error(error: ServiceError):
    # The service that refused has rolled its unit of work back already.
    body = {"error": str(TITLES.get(error.status_code, TITLES[400])), "message": str(error.message)}
    if error.field_errors:
        body["errors"] = {k: [str(m) for m in v] for k, v in error.field_errors.items()}
    return jsonify(body), error.status_code


def _unprocessable(error):
    """webargs' refusals (a bad page number, a transition body without an action) in the API's shape."""
    messages = (getattr(error, "data", None) or {}).get("messages", {})
    # webargs nests the messages by location ("json", "query"); the caller wants the fields.
    flat = {}
    for location in messages.values():
        for name, problems in (location.items() if isinstance(location, dict) else []):
            flat[name] = [str(p) for p in (problems if isinstance(problems, list) else [problems])]
    body = {"error": str(TITLES[422]), "message": "The request's parameters or body are not valid."}
    if flat:
        body["errors"] = flat
    return jsonify(body), 422


for _bp in BLUEPRINTS:
    _bp.before_request(_authenticate)
    _bp.register_error_handler(ServiceError, _service_error)
    _bp.register_error_handler(422, _unprocessable)


def _viewer():
    return g.api_user


def _page(pagination_parameters, found: services.Page):
    pagination_parameters.item_count = found.total
    return found.items


# ------------------------------------------------------------------ serialising


def _record(record, **extra) -> dict:
    user = _viewer()
    status = extra.pop("status", record.status)
    return {
        "id": record.id,
        "status": status,
        "status_label": services.status_label(record, user, status),
        "actions": services.actions_for(record, user),
        **extra,
    }


def _application(a, detail: bool = False) -> dict:
    data = _record(a, status=services.application_visible_status(a, _viewer()), call_id=a.call_id, startup_id=a.startup_id,
                   startup_name=a.startup.name, track=a.track, trl=a.trl, desired_start=a.desired_start, months=a.months,
                   desks=a.desks, benches=a.benches, created_at=a.created_at, updated_at=a.updated_at)
    if detail:
        data["answers"] = services.answers_by_key(a)
    return data


def _placement(p) -> dict:
    return _record(p, application_id=p.application_id, hub_id=p.hub_id, hub_name=p.hub.name, starts_on=p.starts_on,
                   ends_on=p.ends_on, desks=p.desks, benches=p.benches, offer_expires_at=p.offer_expires_at,
                   checked_in_on=p.checked_in_on, checked_out_on=p.checked_out_on)


def _funding(fa) -> dict:
    return _record(fa, scheme_id=fa.scheme_id, scheme_name=fa.scheme.name, currency=fa.scheme.currency,
                   startup_id=fa.startup_id, placement_id=fa.placement_id, title=fa.title, period_start=fa.period_start,
                   period_end=fa.period_end, amount_requested=fa.amount_requested, granted_amount=fa.granted_amount,
                   offer_expires_at=fa.offer_expires_at, created_at=fa.created_at)


def _report(r) -> dict:
    return _record(r, funding_application_id=r.funding_application_id, kind=r.kind, due_on=r.due_on, text=r.text or "")


def _transitions_route(bp, kind: str, doc: str):
    @bp.route("/<record_id:record_id>/transitions", methods=["POST"])
    @bp.arguments(schemas.TransitionSchema)
    @bp.response(200, schemas.TransitionResultSchema)
    @bp.alt_response(401, schema=schemas.ErrorSchema, description="No valid token")
    @bp.alt_response(403, schema=schemas.ErrorSchema, description="The caller may see the record but not do this")
    @bp.alt_response(404, schema=schemas.ErrorSchema, description="Not there, or not the caller's to see")
    @bp.alt_response(409, schema=schemas.ErrorSchema, description="Not allowed in the record's current status")
    def transitions(body, record_id: int):
        return services.transition(kind, record_id, action=body["action"], actor=_viewer(), reason=body.get("reason"),
                                   details=body)

    transitions.__doc__ = doc
    return transitions


def _not_found(bp):
    return bp.alt_response(404, schema=schemas.ErrorSchema, description="Not there, or not the caller's to see")


def _needs_token(bp):
    return bp.alt_response(401, schema=schemas.ErrorSchema, description="No valid token")


# ------------------------------------------------------------------ calls


# Calls are public: a token is optional (but a bad one is refused).
OPTIONAL_TOKEN = [{}, {"bearerAuth": []}]


@calls_bp.route("")
@calls_bp.doc(security=OPTIONAL_TOKEN)
@calls_bp.response(200, schemas.CallSchema(many=True))
@calls_bp.paginate(**PAGINATION)
@_needs_token(calls_bp)
def list_calls(pagination_parameters):
    """Published and closed calls, newest first (no token needed)"""
    return _page(pagination_parameters, services.calls(pagination_parameters.page, pagination_parameters.page_size))


@calls_bp.route("/<record_id:call_id>")
@calls_bp.doc(security=OPTIONAL_TOKEN)
@calls_bp.response(200, schemas.CallSchema)
@_not_found(calls_bp)
@_needs_token(calls_bp)
def get_call(call_id: int):
    """One published or closed call"""
    return services.call(call_id)


# ------------------------------------------------------------------ applications


@applications_bp.route("")
@applications_bp.response(200, schemas.ApplicationSchema(many=True))
@applications_bp.paginate(**PAGINATION)
@_needs_token(applications_bp)
def list_applications(pagination_parameters):
    """The caller's startups' applications, their cluster's submitted ones, everything for administrators"""
    found = services.applications_for(_viewer(), pagination_parameters.page, pagination_parameters.page_size)
    return [_application(a) for a in _page(pagination_parameters, found)]


@applications_bp.route("/<record_id:application_id>")
@applications_bp.response(200, schemas.ApplicationDetailSchema)
@_not_found(applications_bp)
@_needs_token(applications_bp)
def get_application(application_id: int):
    """One application with its answers"""
    return _application(services.application(_viewer(), application_id), detail=True)


_transitions_route(applications_bp, "application", "Perform a workflow action on an application (start_review, withdraw)")


# ------------------------------------------------------------------ placements


@placements_bp.route("")
@placements_bp.response(200, schemas.PlacementSchema(many=True))
@placements_bp.paginate(**PAGINATION)
@_needs_token(placements_bp)
def list_placements(pagination_parameters):
    """Placements at the caller's hub and of the caller's startups"""
    found = services.placements_for(_viewer(), pagination_parameters.page, pagination_parameters.page_size)
    return [_placement(p) for p in _page(pagination_parameters, found)]


@placements_bp.route("/<record_id:placement_id>")
@placements_bp.response(200, schemas.PlacementSchema)
@_not_found(placements_bp)
@_needs_token(placements_bp)
def get_placement(placement_id: int):
    """One placement"""
    return _placement(services.placement(_viewer(), placement_id))


_transitions_route(placements_bp, "placement",
                   "Perform a workflow action on a placement (waitlist, reject, accept, decline, complete, terminate)")


# ------------------------------------------------------------------ funding


@funding_bp.route("")
@funding_bp.response(200, schemas.FundingApplicationSchema(many=True))
@funding_bp.paginate(**PAGINATION)
@_needs_token(funding_bp)
def list_funding_applications(pagination_parameters):
    """The caller's startups' funding applications, and the submitted ones to the caller's funder"""
    found = services.funding_applications_for(_viewer(), pagination_parameters.page, pagination_parameters.page_size)
    return [_funding(fa) for fa in _page(pagination_parameters, found)]


@funding_bp.route("/<record_id:funding_id>")
@funding_bp.response(200, schemas.FundingApplicationSchema)
@_not_found(funding_bp)
@_needs_token(funding_bp)
def get_funding_application(funding_id: int):
    """One funding application"""
    return _funding(services.funding_application(_viewer(), funding_id))


_transitions_route(funding_bp, "funding",
                   "Perform a workflow action on a funding application "
                   "(submit, resubmit, start_assessment, request_changes, reject, accept_offer, close, cancel)")


# ------------------------------------------------------------------ reports


@reports_bp.route("/<record_id:report_id>")
@reports_bp.response(200, schemas.ReportSchema)
@_not_found(reports_bp)
@_needs_token(reports_bp)
def get_report(report_id: int):
    """One report under a grant"""
    return _report(services.report(_viewer(), report_id))


_transitions_route(reports_bp, "report", "Perform a workflow action on a report (approve, return)")
