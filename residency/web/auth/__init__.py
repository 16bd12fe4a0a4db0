"""The auth area."""
from residency.web.auth.blueprint import bp
from residency.web.auth import views  # noqa: F401 - they add their routes to bp

__all__ = ["bp"]
