"""Which applications a ``Scope`` sees, in SQL: the application workflow's relation as a clause.

Programme administrators see every application; a startup its own (a decision it
may not know of yet is shown as ``rules.applicant_status`` says, not hidden); a
cluster the submitted ones, never drafts (nor drafts withdrawn unsubmitted:
``rules.seen_by_cluster_clause``), to the calls of its routes; a hub the nominees it
hosts (their answers and attachments decide the placement). Every
clause stands alone (no join needed), so it fits any query over applications.
"""
from __future__ import annotations

from sqlalchemy import and_, false, or_, select

from residency.domain.accounts.scope import Scope
from residency.domain.applications import rules
from residency.domain.applications.models import Application
from residency.domain.programme.models import Call, Route


def cluster_calls(scope: Scope):
    """SQL: the ids of the calls of the routes of the actor's clusters."""
    return select(Call.id).join(Route, Route.id == Call.route_id).where(scope.clusters(Route.cluster_id))


def cluster_clause(scope: Scope):
    """SQL: the applications the actor's clusters see: submitted ones (never drafts) to their calls."""
    if not scope.cluster_ids:
        return false()
    return and_(Application.call_id.in_(cluster_calls(scope)), rules.seen_by_cluster_clause())


def staff_clause(scope: Scope):
    """SQL: applications the actor sees as staff (and so with their real status)."""
    return or_(scope.everything(), cluster_clause(scope))


def own_clause(scope: Scope):
    """SQL: the applications of the actor's startups."""
    return scope.startups(Application.startup_id)


def host_clause(scope: Scope):
    """SQL: the nominees the actor's hubs host: nominated applications to calls of routes to those hubs."""
    if not scope.hub_ids:
        return false()
    hub_calls = select(Call.id).join(Route, Route.id == Call.route_id).where(scope.hubs(Route.host_hub_id))
    return and_(Application.status == "nominated", Application.call_id.in_(hub_calls))


def visible_clause(scope: Scope):
    """SQL: every application the actor may see."""
    return or_(staff_clause(scope), own_clause(scope), host_clause(scope))
