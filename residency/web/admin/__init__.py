"""The admin area."""
from residency.web.admin.blueprint import bp
from residency.web.admin import views, scheme_views, form_views  # noqa: F401 - they add their routes to bp

__all__ = ["bp"]
