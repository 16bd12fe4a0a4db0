"""Personal API tokens: create, list, revoke, and find the owner of a token.

The secret is shown once when the token is created and stored only as a hash,
so a database leak does not hand out working tokens.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import select

from residency.core.db import utcnow
from residency.core.errors import Invalid, NotFound
from residency.core.extensions import db
from residency.core.uow import service, unit_of_work
from residency.domain.accounts.models import User
from residency.domain.accounts.token_models import ApiToken

TOKEN_PREFIX = "rx_"
EXPIRY_DAYS = (30, 90, 365)
# How often a token's last use is written down: a busy client does not write on every request.
USE_RECORDED_EVERY = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


@service
def create(*, actor: User, name: str, days: int, now: datetime | None = None) -> NewToken:
    now = now or utcnow()
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid(_l("Please check your input"), {"name": [_l("A name is required.")]})
    if days not in EXPIRY_DAYS:
        raise Invalid(_l("Please check your input"), {"days": [_l("Please check your input")]})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, name=name, token_hash=_hash(secret), prefix=secret[:12],
                     created_at=now, expires_at=now + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    return NewToken(token, secret)


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


@service
def revoke(*, actor: User, token_id: int, now: datetime | None = None) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound(_l("Not found."))
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
    return token


def authenticate(secret: str | None, now: datetime | None = None) -> User | None:
    """The owner of a usable token, or None for an unknown, expired or revoked one."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    now = now or utcnow()
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret)))
    if token is None or not token.usable(now):
        return None
    if token.last_used_at is None or now - token.last_used_at > USE_RECORDED_EVERY:
        # Only then a write (and its commit): reading with a token stays read-only otherwise.
        with unit_of_work():
            token.last_used_at = now
    return token.user
