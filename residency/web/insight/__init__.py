"""Programme insight: dashboards scoped to the viewer (services, charts and views)."""
from residency.web.insight.blueprint import bp
from residency.web.insight import views  # noqa: F401 - they add their routes to bp

__all__ = ["bp"]
