"""Fixtures for the whole suite.

The suite runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set. The
schema is built by the migrations (so they are exercised on every run) and
emptied after each test.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, text

from residency import create_app
from residency.core.extensions import db

from tests import factories

PASSWORD = factories.PASSWORD


def database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="residency-test-"), "test.sqlite3")


def on_postgres() -> bool:
    return bool(os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"))


def pytest_collection_modifyitems(config, items):
    # PostgreSQL-only tests (row locks, real concurrency) run in the PostgreSQL
    # pass that `make test` and CI always make; on SQLite they are deselected,
    # not skipped, so a missing database can never hide behind a skip.
    # SQLite-only tests (what the embedded database's own schema holds) likewise run in the SQLite pass.
    other = "sqlite" if on_postgres() else "postgres"
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker(other) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def reset_schema(url: str) -> None:
    """Drop everything so the migrations start from empty."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request runs in an app context of its own, as in production: its own
    session, its own ``g`` (so no user or identity map leaks between requests).
    Afterwards the test's session is expired, so it reads what the request committed."""

    def open(self, *args, **kwargs):
        ctx = self.application.app_context()
        ctx.push()
        try:
            return super().open(*args, **kwargs)
        finally:
            ctx.pop()
            db.session.expire_all()


@pytest.fixture(scope="session")
def app():
    url = database_url()
    reset_schema(url)
    overrides = {"SQLALCHEMY_DATABASE_URI": url, "SERVER_NAME": None}
    # Concurrency tests hold up to 20 connections at once, one per simulated user.
    overrides["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 25, "max_overflow": 5}
    app = create_app("testing", overrides=overrides)
    app.test_client_class = IsolatedClient
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(app):
    ctx = app.app_context()
    ctx.push()
    try:
        yield
    finally:
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app):
    """Factories bound to the test database: make.user(...), make.call(...)."""
    return factories.Factories()


@pytest.fixture
def login(client):
    def do(user, password: str = PASSWORD):
        client.post("/account/logout")
        response = client.post("/account/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return do


@pytest.fixture
def count_queries(app):
    """with count_queries() as counted: ...; counted.n is the number of SQL statements."""

    @contextmanager
    def counting():
        class Counter:
            n = 0
            statements: list = []

        counter = Counter()
        counter.statements = []

        def before(conn, cursor, statement, parameters, context, executemany):
            counter.n += 1
            counter.statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on loopback (aiosmtpd); ``.messages`` holds what it received."""
    import email
    import email.policy
    import socket

    from aiosmtpd.controller import Controller

    class Collector:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Collector()
    handler.port = port
    handler.controller = None

    def start():
        handler.controller = Controller(handler, hostname="127.0.0.1", port=port)
        handler.controller.start()

    def stop():
        if handler.controller is not None:
            handler.controller.stop()
            handler.controller = None

    handler.start, handler.stop = start, stop
    state = app.extensions["mail"]
    saved = (state.server, state.port)
    state.server, state.port = "127.0.0.1", port
    start()
    yield handler
    stop()
    state.server, state.port = saved
