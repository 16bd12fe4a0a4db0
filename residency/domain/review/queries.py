"""The cluster's area: the calls it nominates for and the applications to them.

Cluster staff see only the calls of routes their cluster nominates for, and
never an application that is still a draft (nor one withdrawn before it was ever
submitted: ``applications.rules.seen_by_cluster_clause``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from residency.core import workflow
from residency.core.errors import NotFound
from residency.core.extensions import db
from residency.domain.applications import rules
from residency.domain.applications.models import APPLICATION_STATES, Application
from residency.domain.programme.models import Call, Route
from residency.domain.accounts.models import Organisation, User
from residency.domain.accounts.scope import Scope

# The statuses cluster staff see, in the order an application moves through them.
VISIBLE_STATES = tuple(s for s in APPLICATION_STATES if s not in rules.PRIVATE_STATES)


@dataclass
class CallLine:
    """A call with the number of its applications in each status."""

    call: Call
    counts: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class CallPage:
    call: Call
    applications: list[Application]


def cluster_call(call_id: int, actor: User) -> Call:
    """A call the actor's cluster nominates for; 404 for anyone else."""
    call = db.session.get(Call, call_id)
    if call is None or not actor.is_member_of(call.route.cluster_id):
        raise NotFound(_l("There is nothing here, or it is not yours to see."))
    return call


def status_columns() -> list[tuple[str, str]]:
    """(status, staff label) for every status cluster staff see."""
    return [(s, workflow.get("application").label(s, for_applicant=False)) for s in VISIBLE_STATES]


def cluster_calls(actor: User) -> list[Call]:
    """The calls of routes the actor's clusters nominate for, newest first (one query)."""
    scope = Scope.of(actor)
    if not scope.cluster_ids:
        return []
    return list(db.session.scalars(
        select(Call).join(Call.route).where(scope.clusters(Route.cluster_id))
        .options(contains_eager(Call.route))
        .order_by(Call.closes_at.desc(), Call.id.desc())
    ))


def dashboard(actor: User) -> list[CallLine]:
    """The calls of routes the actor's clusters nominate for, newest first, with counts per status.

    Two queries whatever the number of calls: the calls, then one grouped count.
    """
    calls = cluster_calls(actor)
    lines = {c.id: CallLine(call=c) for c in calls}
    if lines:
        counted = db.session.execute(
            select(Application.call_id, Application.status, func.count())
            .where(Application.call_id.in_(list(lines)), rules.seen_by_cluster_clause())
            .group_by(Application.call_id, Application.status)
        )
        for call_id, status, n in counted:
            lines[call_id].counts[status] = n
    return list(lines.values())


def call_page(actor: User, call_id: int) -> CallPage:
    """A call the actor's cluster nominates for, with its applications that are not drafts; 404 otherwise."""
    call = cluster_call(call_id, actor)
    applications = list(db.session.scalars(
        select(Application).join(Application.startup)
        .where(Application.call_id == call.id, rules.seen_by_cluster_clause())
        .options(contains_eager(Application.startup))
        .order_by(Organisation.name, Application.id)
    ))
    return CallPage(call=call, applications=applications)
