"""The unit of work: one transaction per public service.

A public service is decorated with ``@service`` (or opens ``unit_of_work()``
itself): everything it does commits once at its end, and any error rolls all
of it back, so a refused command leaves the session clean. Helpers only
``flush``. A service called from inside another joins the outer unit; only the
outermost one commits.

Bulk actions and scheduler jobs act item by item: ``savepoint()`` keeps one
item's refusal from undoing the others, and ``each_in_own_unit`` gives every
item a unit of its own, so one bad record never stops (or rolls back) the rest.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import wraps
from typing import Callable, Iterable, Iterator

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from . import locking
from .errors import Busy
from .extensions import db

_DEPTH = "residency.uow_depth"


def in_unit_of_work() -> bool:
    return db.session.info.get(_DEPTH, 0) > 0


@contextmanager
def unit_of_work() -> Iterator:
    """Commit once when the outermost unit ends; roll back on any error."""
    session = db.session
    depth = session.info.get(_DEPTH, 0)
    if depth == 0 and locking.is_sqlite(session):
        with _busy_is_a_refusal():
            _begin_writing(session())  # SQLite: one writer at a time, as PostgreSQL's row locks
    session.info[_DEPTH] = depth + 1
    try:
        with _busy_is_a_refusal():
            yield session
            if depth == 0:
                session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


def _begin_writing(session) -> None:
    """On SQLite, start the unit holding the write lock.

    Whatever the session read before (the page loading the signed-in user, say)
    is expired, so the service decides on what it re-reads under the lock;
    writes made outside a unit of work are committed first, never lost.
    """
    if locking.holds_write_lock(session):
        return
    if session.in_transaction():
        if locking.wrote_outside_unit(session):
            session.commit()
        else:
            session.rollback()  # a read-only snapshot: nothing to keep
    locking.begin_immediate(session)


@contextmanager
def _busy_is_a_refusal() -> Iterator:
    """A lock not granted in time (SQLite's busy timeout) is a plain "try again", not a 500."""
    try:
        yield
    except OperationalError as error:
        if not locking.is_lock_timeout(error):
            raise
        raise Busy(_l("The service is busy; nothing was changed. Please try again in a moment.")) from error


def service(fn: Callable) -> Callable:
    """Run ``fn`` as a public service: in one unit of work, committed once."""

    @wraps(fn)
    def run(*args, **kwargs):
        with unit_of_work():
            return fn(*args, **kwargs)

    run.__residency_service__ = True
    return run


def for_update(stmt, **options):
    """``stmt`` holding what it reads until the unit of work ends: FOR UPDATE on PostgreSQL;
    on SQLite the unit of work already holds the database's one write lock."""
    if locking.is_sqlite(db.session):
        return stmt
    return stmt.with_for_update(**options)


@contextmanager
def savepoint() -> Iterator:
    """Inside a unit of work: undo only this block if it fails (the error still propagates)."""
    with db.session.begin_nested():
        yield


def each_in_own_unit(items: Iterable, act: Callable, on_error: Callable | None = None) -> int:
    """Run ``act(item)`` for every item, each in a unit of work of its own.

    A failing item is rolled back alone and reported to ``on_error(item, error)``;
    the others go on. Returns how many items succeeded.
    """
    done = 0
    for item in items:
        try:
            with unit_of_work():
                act(item)
            done += 1
        except Exception as error:  # noqa: BLE001 - one bad record must not stop the rest
            if on_error is not None:
                on_error(item, error)
    return done


# ------------------------------------------------------------------ the end of a read-only request

_WROTE = "residency.wrote"


def init_app(app) -> None:
    """On PostgreSQL, a request that only read ends its transaction with COMMIT rather than ROLLBACK.

    The two are the same to the database when nothing was written; but psycopg forgets every
    statement it has prepared on a ROLLBACK, so with a rollback at the end of each request no
    statement was ever prepared (its threshold is five runs on one connection) and each was planned
    anew on every page: 0.1 to 1 ms a statement. A transaction in which anything but a SELECT ran,
    or with changes pending in the session, or a request that failed, is rolled back as before."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return
    event.listen(engine, "begin", _begun)
    event.listen(engine, "before_cursor_execute", _executing)
    # Teardown functions run in the reverse order of their registration: this one before
    # Flask-SQLAlchemy's, which closes the session (and so rolls its transaction back).
    app.teardown_appcontext(_end_read_only)


def _begun(connection) -> None:
    connection.info[_WROTE] = False


def _executing(connection, _cursor, statement, _parameters, _context, _executemany) -> None:
    if not statement.lstrip()[:6].upper() == "SELECT":
        connection.info[_WROTE] = True


def _end_read_only(error) -> None:
    if error is not None or not db.session.registry.has():
        return
    session = db.session()
    if in_unit_of_work() or not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    if session.connection().info.get(_WROTE, True):
        return
    # What the request read stays loaded, as a rollback and the close leave it: a streamed download reads
    # its rows' objects after this teardown, and expired objects of a closed session cannot be read again.
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    except Exception:  # noqa: BLE001 - the session's close rolls back whatever is left, as it always did
        pass
    finally:
        session.expire_on_commit = expire_on_commit
