"""Sign-ins that the server can end: one row per device, its key in that device's cookies.

Flask-Login keeps whatever ``User.get_id()`` answers in the session cookie and in
the remember cookie; here that is a fresh random key for every sign-in, of which
only a hash is stored. So the remember cookie differs at every sign-in, logging
out deletes the row (a copied cookie is then worth nothing), a new password ends
every other sign-in of the account, and no sign-in outlives its ``expires_at``.
"""
from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import joinedload

from residency.core.db import utcnow
from residency.core.extensions import db
from residency.core.uow import service, unit_of_work
from residency.domain.accounts.models import SignIn, User, UserSession

# How often a sign-in's last use is written down: a busy browser does not write on every request.
SEEN_EVERY = timedelta(minutes=1)
# Keys are 43 characters; anything much longer is not one of ours.
KEY_MAX_LENGTH = 100


@dataclass(frozen=True)
class Device:
    """Where a sign-in happens, as the request tells it (shown in the list of signed-in devices)."""

    remote_addr: str | None = None
    user_agent: str | None = None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _longest(config) -> timedelta:
    return config["REMEMBER_COOKIE_DURATION"]


def open_session(user: User, *, remember: bool, device: Device | None = None, now: datetime | None = None,
                 expires_at: datetime | None = None) -> SignIn:
    """A new sign-in of ``user`` (a helper: it flushes); ``user.sign_in`` carries its key for Flask-Login."""
    now = now or utcnow()
    config = current_app.config
    if expires_at is None:
        expires_at = now + (_longest(config) if remember else config["SESSION_IDLE_TIMEOUT"])
    device = device or Device()
    db.session.flush()  # a new account has its id
    # Sign-ins that ran out are of no use to anybody: they go when their owner signs in again.
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now))
    key = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, key_hash=_hash(key), remembered=remember, created_at=now,
                               last_seen_at=now, expires_at=expires_at,
                               remote_addr=(device.remote_addr or "")[:64] or None,
                               user_agent=(device.user_agent or "")[:200] or None))
    db.session.flush()
    user.sign_in = SignIn(key=key, remembered=remember, expires_at=expires_at)
    return user.sign_in


@functools.cache
def _usable_statement():
    # One statement for every request: the account with its memberships (its roles and organisations).
    # Built once, its values parameters: building it and its cache key anew cost every page about 1 ms.
    return (select(UserSession)
            .options(joinedload(UserSession.user).joinedload(User.memberships))
            .where(UserSession.key_hash == bindparam("key_hash"), UserSession.expires_at > bindparam("now")))


def _usable(key: str | None, now: datetime) -> UserSession | None:
    if not key or not isinstance(key, str) or len(key) > KEY_MAX_LENGTH:
        return None
    return db.session.scalar(_usable_statement(), {"key_hash": _hash(key), "now": now})


def signed_in_user(key: str | None, now: datetime | None = None) -> User | None:
    """The account whose sign-in ``key`` is, while that sign-in lasts; None for an ended or unknown one."""
    now = now or utcnow()
    row = _usable(key, now)
    if row is None:
        return None
    user, sign_in = row.user, SignIn(key=key, remembered=row.remembered, expires_at=row.expires_at)
    if now - row.last_seen_at >= SEEN_EVERY:
        if not row.remembered:
            # Idle sign-ins end; a busy one still ends no later than a remembered one would.
            sign_in = SignIn(key=key, remembered=False, expires_at=min(
                now + current_app.config["SESSION_IDLE_TIMEOUT"], row.created_at + _longest(current_app.config)))
        # Only then a write (and its commit): most requests stay read-only.
        with unit_of_work():
            row.last_seen_at = now
            row.expires_at = sign_in.expires_at
    user.sign_in = sign_in
    return user


def end_all(user: User) -> None:
    """Every sign-in of ``user`` ends (a helper)."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    user.sign_in = None


def restart(user: User, key: str | None, *, device: Device | None = None, now: datetime | None = None) -> SignIn | None:
    """Every sign-in of ``user`` ends; the one of ``key`` (if it is theirs) goes on under a new key (a helper).

    For a new password: the device that chose it stays signed in, as remembered and as
    long as before, and no cookie copied from it earlier works any more.
    """
    now = now or utcnow()
    current = _usable(key, now)
    end_all(user)
    if current is None or current.user_id != user.id:
        return None
    return open_session(user, remember=current.remembered, device=device, now=now,
                        expires_at=current.expires_at if current.remembered else None)


@service
def end(key: str | None) -> None:
    """Log out: this sign-in ends for good, on every copy of its cookies."""
    if key and isinstance(key, str) and len(key) <= KEY_MAX_LENGTH:
        db.session.execute(delete(UserSession).where(UserSession.key_hash == _hash(key)))


@service
def end_others(user: User, key: str | None) -> int:
    """Sign out every other device of ``user``; this one stays. How many sign-ins ended."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if key:
        query = query.where(UserSession.key_hash != _hash(key))
    return db.session.execute(query).rowcount


@dataclass(frozen=True)
class DeviceRow:
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    remembered: bool
    remote_addr: str | None
    user_agent: str | None
    current: bool


def signed_in_devices(user: User, key: str | None, now: datetime | None = None) -> list[DeviceRow]:
    """The sign-ins of ``user`` that still last, the most recently used first (one query)."""
    now = now or utcnow()
    current = _hash(key) if key else None
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at > now)
                              .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()))
    return [DeviceRow(r.created_at, r.last_seen_at, r.expires_at, r.remembered, r.remote_addr, r.user_agent,
                      r.key_hash == current) for r in rows]
