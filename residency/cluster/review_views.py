"""Reviewer assignment, conflicts of interest, scoring, decisions, release and bulk actions."""
from __future__ import annotations

from .views import bp  # noqa: F401 - routes are added to the cluster blueprint
