"""Write locks: SQLite keeps the concurrency promises PostgreSQL keeps, and a lock held
too long is a plain "try again" on both.

On PostgreSQL a service re-reads what it decides on under a row lock. SQLite
has no row locks, and pysqlite opens its transactions late and deferred, so
two services could each read "one seat left" and both take it. Here we take
over transaction control:

- every unit of work begins ``BEGIN IMMEDIATE``: it holds the database's one
  write lock from its first read to its commit, so services that change data
  run one after another and each sees what the previous one committed;
- a writer that finds the lock taken waits for it (the busy timeout) instead
  of failing, so the loser of a race gets the same plain refusal as on
  PostgreSQL, not a 500;
- WAL lets pages keep reading while a service writes;
- reads outside a unit of work keep pysqlite's own handling.

On PostgreSQL a row lock is waited for at most the same time (``lock_timeout``).
"""
from __future__ import annotations

from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

_IMMEDIATE: ContextVar[bool] = ContextVar("residency_sqlite_immediate", default=False)
_WRITING = "residency.sqlite_writing_transaction"


def configure(engine: Engine, lock_timeout_seconds: float) -> None:
    """Install the lock handling above on the app's engine."""
    busy_ms = int(lock_timeout_seconds * 1000)
    if engine.dialect.name == "postgresql":
        @event.listens_for(engine, "connect")
        def _pg_connect(dbapi_connection, _record):
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = {busy_ms}")
            dbapi_connection.commit()
        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; a commit is not an fsync
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # Outside a unit of work pysqlite keeps its own handling: reads see the latest
        # commit and a stray write begins a deferred transaction of its own.
        if _IMMEDIATE.get():
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_lock_timeout(error: Exception) -> bool:
    """The database gave up waiting for a lock (SQLite's busy timeout, PostgreSQL's lock_timeout)."""
    orig = getattr(error, "orig", error)
    if getattr(orig, "sqlstate", None) == "55P03":  # lock_not_available
        return True
    message = str(orig).lower()
    return "database is locked" in message or "database is busy" in message


def is_sqlite(session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def holds_write_lock(session) -> bool:
    """Whether the session's open transaction is one begun by ``begin_immediate``."""
    return session.in_transaction() and session.info.get(_WRITING) is session.get_transaction()


def wrote_outside_unit(session) -> bool:
    """Whether the session's open transaction has written anything (or is about to)."""
    dbapi_connection = session.connection().connection.dbapi_connection
    return bool(dbapi_connection.in_transaction or session.new or session.dirty or session.deleted)


def begin_immediate(session) -> None:
    """Begin the session's transaction with SQLite's write lock (waiting its turn)."""
    token = _IMMEDIATE.set(True)
    try:
        session.connection()
    finally:
        _IMMEDIATE.reset(token)
    session.info[_WRITING] = session.get_transaction()
