"""The exports area."""
from residency.web.exports.blueprint import bp
from residency.web.exports import views  # noqa: F401 - they add their routes to bp

__all__ = ["bp"]
