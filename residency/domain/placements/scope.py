"""Which placements a ``Scope`` sees, in SQL.

The placement workflow's relation: programme administrators see every placement,
a hub the placements at it, a startup its own once it may know of them (a pending
placement is a nomination, unknown to the startup until the call's decisions are
released: ``placements.rules``). For reporting (exports, insight) a cluster also
sees the placements that came from its calls. Every clause stands alone (no join
needed).
"""
from __future__ import annotations

from sqlalchemy import and_, false, or_, select

from residency.domain.accounts.scope import Scope
from residency.domain.applications import rules as application_rules
from residency.domain.applications import scope as application_scope
from residency.domain.applications.models import Application
from residency.domain.placements.models import Placement
from residency.domain.placements.rules import CANCELLED, NOMINATION_ONLY
from residency.domain.programme.models import Call


def hub_clause(scope: Scope):
    """SQL: placements at the actor's hubs."""
    return scope.hubs(Placement.hub_id)


def own_clause(scope: Scope):
    """SQL: the placements of the actor's startups that the startup may know of."""
    if not scope.startup_ids:
        return false()
    own = select(Application.id).where(scope.startups(Application.startup_id))
    released = own.join(Call, Call.id == Application.call_id).where(application_rules.decisions_released_clause())
    return and_(Placement.application_id.in_(own), Placement.status != CANCELLED,
                or_(Placement.status != NOMINATION_ONLY, Placement.application_id.in_(released)))


def cluster_clause(scope: Scope):
    """SQL: placements that came from applications to the actor's clusters' calls."""
    if not scope.cluster_ids:
        return false()
    return Placement.application_id.in_(
        select(Application.id).where(Application.call_id.in_(application_scope.cluster_calls(scope))))


def visible_clause(scope: Scope):
    """SQL: the placements the actor may see on the pages and through the API."""
    return or_(scope.everything(), hub_clause(scope), own_clause(scope))


def staff_clause(scope: Scope):
    """SQL: placements the actor reports on as staff (administrators, hubs, and the nominating clusters)."""
    return or_(scope.everything(), hub_clause(scope), cluster_clause(scope))
