"""Blueprints, error pages, health check and the pieces every page shares."""
from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from residency.core.errors import ServiceError
from residency.core.extensions import db, login_manager
from residency.domain.accounts.models import User

# Where each role lands after logging in, in order of precedence.
DASHBOARDS = [
    ("programme_admin", "admin.dashboard", _l("Administration")),
    ("cluster_staff", "cluster.dashboard", _l("Cluster")),
    ("hub_admin", "hub.dashboard", _l("Hub")),
    ("funder_officer", "funder.dashboard", _l("Funder")),
    ("applicant", "applicant.dashboard", _l("My startup")),
]


def init_app(app) -> None:
    # Modules that add routes to an area's blueprint must be imported before it is registered.
    from residency.web.admin import scheme_views  # noqa: F401
    from residency.web.admin.views import bp as admin_bp
    from residency.web.applicant import application_views, funding_views, placement_views, survey_views  # noqa: F401
    from residency.web.applicant.views import bp as applicant_bp
    from residency.web.auth.views import bp as auth_bp
    from residency.web.cluster.views import bp as cluster_bp
    from residency.web.cluster import queue_views, review_views  # noqa: F401
    from residency.web.funder import funding_views as funder_funding_views  # noqa: F401
    from residency.web.funder.views import bp as funder_bp
    from residency.web.hub import placement_views as hub_placement_views  # noqa: F401
    from residency.web.hub.views import bp as hub_bp
    from residency.web.insight.views import bp as insight_bp
    from residency.web.public.views import bp as public_bp
    from residency.web import api
    from residency.web.exports.views import bp as exports_bp

    for bp in (public_bp, auth_bp, applicant_bp, cluster_bp, hub_bp, funder_bp, admin_bp, insight_bp):
        app.register_blueprint(bp)
    app.register_blueprint(exports_bp)

    api.init_app(app)

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        return db.session.get(User, int(user_id)) if user_id.isdigit() else None

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
        return response

    @app.get("/healthz")
    def healthz():
        try:
            db.session.execute(text("SELECT 1"))
            database = "ok"
        except Exception:  # noqa: BLE001 - any failure means the database is not usable
            db.session.rollback()
            database = "unavailable"
        status = 200 if database == "ok" else 503
        return jsonify(status="ok" if status == 200 else "degraded", database=database), status

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        db.session.rollback()
        return _error_page(error.status_code, str(error.message))

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
        db.session.rollback()
        app.logger.exception("unhandled error")
        return _error_page(500, None)


TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Not allowed"),
    409: _l("Not possible now"),
    413: _l("The upload is too large"),
    422: _l("Please check your input"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
}

EXPLANATIONS = {
    403: _l("You may see this page, but you may not do this."),
    413: _l("Files can be at most 10 MB. Go back, choose a smaller file and save again."),
    404: _l("There is nothing here, or it is not yours to see."),
    500: _l("An error on our side stopped this request. Nothing you did caused it; please try again later."),
}


def _error_page(code: int, message: str | None):
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=str(TITLES.get(code, TITLES[500])), message=message or str(EXPLANATIONS.get(code, ""))), code
    title = TITLES.get(code, TITLES[500] if code >= 500 else TITLES[400])
    try:
        return render_template("errors/error.html", code=code, title=title, message=message or EXPLANATIONS.get(code)), code
    except Exception:  # noqa: BLE001 - an error page must never fail in turn
        logging.getLogger("residency").exception("error page failed")
        return str(title), code, {"Content-Type": "text/plain; charset=utf-8"}
