"""Sign-in throttling: failed attempts counted per account and address, per address, per account.

Three buckets, each counting failures in a window of LOGIN_FAILURE_WINDOW_MINUTES:

- one account from one client address (LOGIN_MAX_FAILURES, 5): the guesser is stopped,
  while the owner signing in from anywhere else is not;
- one client address across accounts (LOGIN_MAX_FAILURES_PER_ADDRESS): one address
  cannot try one password on many accounts;
- one account from every address (LOGIN_MAX_FAILURES_PER_ACCOUNT, much higher): only
  many addresses at once can reach it, and a new password clears it.

An attempt takes its place in every bucket *before* the password is checked, each
with one conditional UPDATE (``failures < limit``) in a short transaction of its own,
so parallel attempts can never check more passwords than the limit allows. A right
password gives the place back.
"""
from __future__ import annotations

import hashlib
import ipaddress
import math
from datetime import datetime, timedelta

from flask import current_app
from residency.core.i18n import lazy_gettext as _l
from residency.core.i18n import ngettext
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from residency.core.errors import Conflict
from residency.core.extensions import db
from residency.domain.accounts.models import SignInThrottle

T = SignInThrottle.__table__


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _address(remote_addr: str | None) -> str:
    """The client's address; an IPv6 client counts by its /64, which one subscriber usually holds whole."""
    try:
        address = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return (remote_addr or "")[:64]
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def account_key(email: str) -> str:
    return _digest("account", email)


def _buckets(email: str, remote_addr: str | None):
    config = current_app.config
    address, account = _address(remote_addr), account_key(email)
    return (
        ("pair", _digest("pair", email, address), account, config["LOGIN_MAX_FAILURES"]),
        ("account", account, account, config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
        ("address", _digest("address", address), None, config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
    )


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])


def reserve(email: str, remote_addr: str | None, now: datetime) -> None:
    """Count this attempt as a failure in every bucket, or refuse it (Conflict) if one is full.

    Run it in a unit of work of its own, committed before the password is checked; a
    refusal rolls the unit back, so an attempt that was refused is counted nowhere.
    """
    window = _window()
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for scope, key, account, limit in _buckets(email, remote_addr):
        for _ in range(3):  # a sign-in that succeeds meanwhile may delete the row we found
            db.session.execute(insert(T).values(key=key, scope=scope, account=account, failures=0, window_started_at=now)
                               .on_conflict_do_nothing(index_elements=["key"]))
            db.session.execute(update(T).where(T.c.key == key, T.c.window_started_at <= now - window)
                               .values(failures=0, window_started_at=now))
            taken = db.session.execute(update(T).where(T.c.key == key, T.c.failures < limit)
                                       .values(failures=T.c.failures + 1)).rowcount
            if taken == 1 or db.session.scalar(select(T.c.key).where(T.c.key == key)) is not None:
                break
        if taken != 1:
            started = db.session.scalar(select(T.c.window_started_at).where(T.c.key == key)) or now
            minutes = max(1, math.ceil((started + window - now).total_seconds() / 60))
            raise Conflict(ngettext("Too many failed attempts. Wait %(num)d minute, or reset your password.",
                                    "Too many failed attempts. Wait %(num)d minutes, or reset your password.", minutes))


def succeeded(email: str, remote_addr: str | None) -> None:
    """The right password: this account's buckets start again; the address gets its place back."""
    pair, account, address = (key for _scope, key, _account, _limit in _buckets(email, remote_addr))
    # One row at a time, in the order ``reserve`` takes them: a statement over both keys would lock
    # them in index order, and against a parallel attempt of the same account that is a deadlock.
    for key in (pair, account):
        db.session.execute(delete(T).where(T.c.key == key))
    # Not cleared: signing in to an account of one's own must not reset a spray across others.
    db.session.execute(update(T).where(T.c.key == address, T.c.failures > 0).values(failures=T.c.failures - 1))


def clear_account(email: str) -> None:
    """A new password: every bucket of this account, from any address, starts again."""
    db.session.execute(delete(T).where(T.c.account == account_key(email)))
