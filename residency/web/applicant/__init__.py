"""The applicant area."""
from residency.web.applicant.blueprint import bp
from residency.web.applicant import views, application_views, funding_views, placement_views, survey_views  # noqa: F401 - they add their routes to bp

__all__ = ["bp"]
