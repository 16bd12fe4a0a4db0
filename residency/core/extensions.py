"""Flask extensions, created unbound; ``create_app`` binds them."""
import functools
import os
import re
import sqlite3
import threading
import urllib.parse

from flask_babel import Babel
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, Table, create_engine, event, make_url, text
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@event.listens_for(Table, "after_parent_attach")
def _ids_never_reused(table: Table, parent) -> None:
    """Every table of the models: an id, once used, is never handed out again, so a stale page's
    form or link can never reach a newer row that took a deleted row's id. PostgreSQL's sequences
    never reuse; SQLite reuses the highest id after a delete unless the table is AUTOINCREMENT
    (ignored for tables whose key is not a single integer of their own)."""
    if parent is Model.metadata:
        table.dialect_kwargs["sqlite_autoincrement"] = True


db = SQLAlchemy(model_class=Model)


def engine_options(uri: str, options: dict | None) -> dict:
    """The app's engine options for ``uri``: on PostgreSQL every connection runs with JIT
    compilation off (libpq ``options=-c jit=off``, added to any options already given in
    ``connect_args`` or the URL). The app's queries are small and indexed; JIT compiling their
    plans cost far more than it saved (seconds on the insight page). The session's time zone is
    UTC by that name, whatever the server's default ("Etc/UTC", a local zone): psycopg then
    returns datetimes in ``timezone.utc`` itself, which the UTC column type passes on as they are
    instead of converting each one (9 µs a value through zoneinfo: 3 ms on the hub's inbox).
    A ``jit`` or ``TimeZone`` setting given there explicitly is kept."""
    options = dict(options or {})
    url = make_url(uri)
    if url.get_backend_name() != "postgresql":
        return options
    connect_args = dict(options.get("connect_args") or {})
    given = str(connect_args.get("options") or url.query.get("options") or "")
    if not re.search(r"\bjit\s*=", given):
        given = f"{given} -c jit=off".strip()
    if not re.search(r"\btimezone\s*=", given, re.IGNORECASE):
        given = f"{given} -c TimeZone=UTC".strip()
    connect_args["options"] = given
    options["connect_args"] = connect_args
    return options


migrate = Migrate()
mail = Mail()
babel = Babel()


def database_ok(timeout: float = 1.0, query: str = "SELECT 1") -> bool:
    """Whether the database answers, within ``timeout`` seconds (the health check).

    The probe never touches ``db.session`` (nothing of a request's session can break) and
    uses a connection of its own, closed afterwards:

    - SQLite: a separate connection that asks for the write lock (``BEGIN IMMEDIATE``,
      ``query``, ``ROLLBACK``) and waits at most ``timeout`` for it, so a write lock
      held elsewhere, behind which every page that writes would fail, counts as "not
      answering"; a missing database file is never created;
    - PostgreSQL (and any other server): a fresh connection with a connect timeout and
      ``statement_timeout`` set to ``timeout`` for ``query``.

    It runs in a thread of its own and is given up after ``timeout`` however the driver
    waits (libpq waits at least two seconds to connect); at most a few such threads exist
    at once, and each ends by itself within its driver's timeouts.
    """
    engine = db.engine
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        # A private in-memory database (tests): its one connection is the only way in.
        try:
            with engine.connect() as connection:
                connection.execute(text(query))
            return True
        except Exception:  # noqa: BLE001 - any failure means the database is not usable
            return False
    if url.get_backend_name() == "sqlite":
        probe = functools.partial(_probe_sqlite, url.database, timeout, query)
    else:
        probe = functools.partial(_probe_server, _probe_engine(url, engine), timeout, query)
    return _within(probe, timeout)


_PROBES_IN_FLIGHT = threading.BoundedSemaphore(4)
_PROBE_ENGINES: dict = {}
_PROBE_ENGINES_LOCK = threading.Lock()


def _within(probe, timeout: float) -> bool:
    if not _PROBES_IN_FLIGHT.acquire(blocking=False):
        return False  # earlier probes still hang: the database is not answering
    outcome: list[bool] = []
    done = threading.Event()

    def run():
        try:
            probe()
            outcome.append(True)
        except Exception:  # noqa: BLE001 - any failure means the database is not usable
            outcome.append(False)
        finally:
            done.set()
            _PROBES_IN_FLIGHT.release()

    threading.Thread(target=run, name="residency-healthz", daemon=True).start()
    return done.wait(timeout) and outcome == [True]


def _probe_sqlite(database: str, timeout: float, query: str) -> None:
    if database.startswith("file:"):
        uri = database
    else:
        uri = "file:" + urllib.parse.quote(os.path.abspath(database)) + "?mode=rw"  # rw: never create a file
    connection = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False)
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(query).fetchall()
        finally:
            connection.execute("ROLLBACK")
    finally:
        connection.close()


def _probe_engine(url, engine):
    """One pool-less engine per database for the probe: every probe connects afresh, with a connect timeout."""
    key = url.render_as_string(hide_password=False)
    with _PROBE_ENGINES_LOCK:
        if key not in _PROBE_ENGINES:
            connect_args = {"connect_timeout": 1} if url.get_backend_name() == "postgresql" else {}
            _PROBE_ENGINES[key] = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        return _PROBE_ENGINES[key]


def _probe_server(engine, timeout: float, query: str) -> None:
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # The server gives up on the query (a lock wait included) after the timeout.
            connection.execute(text("SELECT set_config('statement_timeout', :ms, true)"),
                               {"ms": f"{max(1, int(timeout * 1000))}ms"})
        connection.execute(text(query)).fetchall()
        connection.rollback()
