"""The review queue: filters, sorting, search, pagination, counts and exports."""
from __future__ import annotations

from .views import bp  # noqa: F401 - routes are added to the cluster blueprint
