"""Blueprints, error pages, health check and the pieces every page shares."""
from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from residency.core.i18n import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from residency.core import workflow
from residency.core.errors import ServiceError
from residency.core.outbox import subject_of
from residency.domain.applications.services import snapshot_line
from residency.domain.forms import kinds as answer_kinds
from residency.domain.funding.labels import report_kind_label
from residency.core.extensions import database_ok
from residency.web.extensions import login_manager
from residency.web.routing import BoundedInt
from residency.web.pagination import list_url, page_url, record_url
from residency.web.errors import EXPLANATIONS, TITLES
from residency.domain.accounts.sessions import signed_in_user
from residency.web import admin, api, applicant, auth, cluster, exports, funder, hub, insight, public
from residency.web.access import DASHBOARDS


def _template_globals(app) -> None:
    """Labels and helpers every template may use, pages and e-mails alike."""
    env = app.jinja_env
    env.globals["snapshot_line"] = snapshot_line
    env.filters["text_in"] = answer_kinds.text_in
    env.filters["choice_label"] = lambda question, value: dict(answer_kinds.choices_of(question)).get(value, value)
    env.globals["workflow_label"] = workflow.label
    env.globals["action_label"] = lambda workflow_name, action: workflow.get(workflow_name).action_label(action)
    env.globals["public_reason"] = workflow.public_reason
    env.filters["report_kind_label"] = report_kind_label
    env.globals["subject_of"] = subject_of
    env.globals["page_url"] = page_url
    env.globals["list_url"] = list_url
    env.globals["record_url"] = record_url


# The browser features no page of the service uses.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def _private(response) -> bool:
    if request.endpoint == "static":
        return False
    return (current_user.is_authenticated or "Authorization" in request.headers
            or "Content-Disposition" in response.headers or (request.view_args or {}).get("token") is not None)


def init_app(app) -> None:
    # Each area's package brings its views, so its blueprint has every route when registered.
    # Before any route is bound, so every <int:…> is bounded.
    app.url_map.converters["int"] = BoundedInt
    for area in (public, auth, applicant, cluster, hub, funder, admin, insight, exports):
        app.register_blueprint(area.bp)

    api.init_app(app)
    _template_globals(app)

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_key: str):
        # The key of one sign-in (accounts.sessions), in the session and the remember cookie alike.
        return signed_in_user(session_key)

    @app.context_processor
    def shared():
        dashboards = []
        # E-mails render outside a request, where there is no user.
        if current_user and current_user.is_authenticated:
            held = current_user.roles()
            dashboards = [(endpoint, label) for role, endpoint, label in DASHBOARDS if role in held]
        return {"dashboards": dashboards, "languages": app.config["LANGUAGES"]}

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"
        )
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if app.config.get("ENV_NAME") == "production":
            # Production is served over HTTPS only (cookies are Secure there too).
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if _private(response):
            # Nothing a signed-in user, a token holder or a download link sees may stay in a shared or browser cache.
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/healthz")
    def healthz():
        # For load balancers and monitors: plain text, never cached, 503 when the database does not answer in time.
        answers = database_ok(timeout=app.config["HEALTHZ_TIMEOUT_MS"] / 1000, query=app.config["HEALTHZ_QUERY"])
        body, status = ("ok\n", 200) if answers else ("database unavailable\n", 503)
        return body, status, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        response = _error_page(error.status_code, str(error.message))
        if error.status_code == 503:  # busy: the client may simply try again shortly
            response = app.make_response(response)
            response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _error_page(400, str(_l("The form had expired or was sent from elsewhere. Nothing was changed; please try again.")))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error  # routing redirects are not errors
        return _error_page(error.code or 500, None)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error")
        return _error_page(500, None)


def _error_page(code: int, message: str | None):
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=str(TITLES.get(code, TITLES[500])), message=message or str(EXPLANATIONS.get(code, ""))), code
    title = TITLES.get(code, TITLES[500] if code >= 500 else TITLES[400])
    try:
        return render_template("errors/error.html", code=code, title=title, message=message or EXPLANATIONS.get(code)), code
    except Exception:  # noqa: BLE001 - an error page must never fail in turn
        logging.getLogger("residency").exception("error page failed")
        return str(title), code, {"Content-Type": "text/plain; charset=utf-8"}
