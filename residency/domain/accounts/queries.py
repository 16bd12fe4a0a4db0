"""Read models about people and the organisations they belong to."""
from __future__ import annotations

from sqlalchemy import select

from residency.core.extensions import db
from residency.domain.accounts.models import Membership, User


def members_of(org_ids) -> dict[int, list[User]]:
    """The members of these organisations, by organisation, in one query."""
    result: dict[int, list[User]] = {}
    ids = list(set(org_ids))
    if not ids:
        return result
    for user, org_id in db.session.execute(
            select(User, Membership.organisation_id).join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id.in_(ids)).order_by(User.id)):
        result.setdefault(org_id, []).append(user)
    return result


def members(organisation_id: int) -> list[User]:
    return members_of([organisation_id]).get(organisation_id, [])
