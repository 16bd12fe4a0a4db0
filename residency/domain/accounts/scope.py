"""Which records an actor may see: one ``Scope``, built from the actor's memberships.

A Scope only says which organisations the actor acts for, by kind (and whether
they are a programme administrator). What that means for each kind of record is
written once, next to the record: ``applications.scope``, ``placements.scope``
and ``funding.scope`` turn a Scope into SQL, and pages, exports, insight and the
API all use those clauses. The helpers here are the building blocks those
clauses share: they know columns, not models, so this module needs nothing above
accounts.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import false, true

from residency.domain.accounts.models import User


@dataclass(frozen=True)
class Scope:
    """The organisations an actor acts for, by kind; ``admin`` for programme administrators."""

    admin: bool = False
    startup_ids: tuple[int, ...] = ()
    cluster_ids: tuple[int, ...] = ()
    hub_ids: tuple[int, ...] = ()
    funder_ids: tuple[int, ...] = ()

    @classmethod
    def of(cls, user: User | None) -> "Scope":
        """The scope of ``user`` (nobody's scope, which sees nothing, for None)."""
        if user is None:
            return cls()
        by_kind: dict[str, set[int]] = defaultdict(set)
        for membership in user.memberships:
            by_kind[membership.organisation.kind].add(membership.organisation_id)
        ids = lambda kind: tuple(sorted(by_kind[kind]))  # noqa: E731
        return cls(admin=bool(by_kind["operator"]), startup_ids=ids("startup"), cluster_ids=ids("cluster"),
                   hub_ids=ids("hub"), funder_ids=ids("funder"))

    @property
    def staff(self) -> bool:
        """Whether the actor works for the programme, a cluster, a hub or a funder."""
        return self.admin or bool(self.cluster_ids or self.hub_ids or self.funder_ids)

    # ---------------------------------------------------------- SQL building blocks

    def everything(self):
        """SQL: every row for an administrator, none for anyone else."""
        return true() if self.admin else false()

    def startups(self, column):
        """SQL: ``column`` (an organisation id) is one of the actor's startups."""
        return _among(column, self.startup_ids)

    def clusters(self, column):
        return _among(column, self.cluster_ids)

    def hubs(self, column):
        return _among(column, self.hub_ids)

    def funders(self, column):
        return _among(column, self.funder_ids)


def _among(column, ids: tuple[int, ...]):
    return column.in_(ids) if ids else false()
