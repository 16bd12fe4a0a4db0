"""The public area."""
from residency.web.public.blueprint import bp
from residency.web.public import views  # noqa: F401 - they add their routes to bp

__all__ = ["bp"]
