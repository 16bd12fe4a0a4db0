"""The JSON API (flask-smorest, OpenAPI 3 at /api/v1/openapi.json) and the page where users manage their API tokens."""
from __future__ import annotations

from flask_smorest import Api

from residency.web.api.schemas import ErrorSchema
from residency.web.api.token_views import bp as tokens_bp
from residency.web.api.views import BLUEPRINTS
from residency.web.extensions import csrf
from residency.web.routing import MAX_ID, RecordIdConverter

class ResidencyApi(Api):
    """flask-smorest's Api, documenting the app's own error shape ({"error", "message"}).

    Its app-wide HTTPException handler is not installed: the app's handler in
    ``web.py`` already answers JSON under /api/ and HTML pages elsewhere.
    """

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass

    def _register_pagination_header(self):
        # flask-smorest documents X-Pagination with an object schema, but the header carries that
        # object as a JSON string; document what is sent, so clients and schema checks agree.
        if self.spec.openapi_version.major >= 3:
            self.spec.components.header("PAGINATION", {
                "description": "Pagination metadata as a JSON object: total, total_pages, first_page, last_page, "
                               "page, previous_page, next_page.",
                "schema": {"type": "string"},
            }, lazy=True)


def init_app(app) -> None:
    for key, value in {
        "API_TITLE": "Nordic Residency Exchange API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        # No Swagger UI, ReDoc or RapiDoc: they load their assets from a CDN.
        "OPENAPI_SWAGGER_UI_PATH": None,
        "OPENAPI_REDOC_PATH": None,
        "OPENAPI_RAPIDOC_PATH": None,
        "API_SPEC_OPTIONS": {
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    }.items():
        app.config.setdefault(key, value)

    app.url_map.converters["record_id"] = RecordIdConverter
    api = ResidencyApi(app)
    api.register_converter(RecordIdConverter, lambda converter: {"type": "integer", "minimum": 1, "maximum": MAX_ID})
    # The converter comes first: the blueprints' routes are documented as they are registered.
    for bp in BLUEPRINTS:
        # Token authentication, not the session cookie: there is no cross-site form to forge.
        csrf.exempt(bp)
        api.register_blueprint(bp)
    app.register_blueprint(tokens_bp)
