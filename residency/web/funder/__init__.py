"""The funder area."""
from residency.web.funder.blueprint import bp
from residency.web.funder import views, funding_views  # noqa: F401 - they add their routes to bp

__all__ = ["bp"]
