"""The hub area."""
from residency.web.hub.blueprint import bp
from residency.web.hub import views, placement_views  # noqa: F401 - they add their routes to bp

__all__ = ["bp"]
