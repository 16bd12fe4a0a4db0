"""Which funding applications a ``Scope`` sees, in SQL: the funding workflow's relation as a clause.

Programme administrators see every funding application; a startup its own; a
funder's officers the submitted ones (never drafts) under the funder's schemes.
Every clause stands alone (no join needed) unless it says otherwise.
"""
from __future__ import annotations

from sqlalchemy import and_, false, or_, select

from residency.domain.accounts.scope import Scope
from residency.domain.funding.models import FundingApplication, FundingScheme
from residency.domain.placements.models import Placement


def funder_schemes(scope: Scope):
    """SQL: the ids of the schemes of the actor's funders."""
    return select(FundingScheme.id).where(scope.funders(FundingScheme.funder_id))


def scheme_clause(scope: Scope):
    """SQL: the schemes the actor reports on (join ``FundingScheme`` first)."""
    return or_(scope.everything(), scope.funders(FundingScheme.funder_id))


def staff_clause(scope: Scope):
    """SQL: funding applications the actor sees as staff."""
    if scope.admin or not scope.funder_ids:
        return scope.everything()
    return and_(FundingApplication.status != "draft", FundingApplication.scheme_id.in_(funder_schemes(scope)))


def own_clause(scope: Scope):
    """SQL: the funding applications of the actor's startups."""
    return scope.startups(FundingApplication.startup_id)


def visible_clause(scope: Scope):
    """SQL: every funding application the actor may see."""
    return or_(staff_clause(scope), own_clause(scope))


def funded_placements_clause(scope: Scope):
    """SQL: placements with a funding application under one of the actor's funders' schemes."""
    if not scope.funder_ids:
        return false()
    return Placement.id.in_(select(FundingApplication.placement_id).where(
        FundingApplication.scheme_id.in_(funder_schemes(scope))))
