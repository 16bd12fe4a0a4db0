"""The cluster area."""
from residency.web.cluster.blueprint import bp
from residency.web.cluster import views, queue_views, review_views  # noqa: F401 - they add their routes to bp

__all__ = ["bp"]
