"""Health check, error pages that leak nothing, production safety, settings from the environment."""
import socket
import sqlite3
import threading
import time
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from flask import current_app
from sqlalchemy import text
from werkzeug.routing import IntegerConverter

import config
from residency import create_app
from residency.core.extensions import db
from tests.factories import PASSWORD


def test_healthz_reports_the_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_data(as_text=True) == "ok\n"
    assert r.mimetype == "text/plain" and r.headers["Cache-Control"] == "no-store"


def test_healthz_says_when_the_database_is_unreachable():
    broken = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    r = broken.test_client().get("/healthz")
    assert r.status_code == 503 and r.get_data(as_text=True) == "database unavailable\n"
    assert r.mimetype == "text/plain"


def _timed(fn, limit: float = 5.0):
    """Call ``fn`` in a thread; (result, seconds). An old probe that hangs fails here instead of hanging the suite."""
    result, started = [], time.monotonic()
    app = current_app._get_current_object() if current_app else None

    def run():
        if app is None:
            result.append(fn())
            return
        with app.app_context():
            result.append(fn())

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(limit)
    assert result, f"no answer within {limit} s"
    return result[0], time.monotonic() - started


@contextmanager
def _database_blocked(app):
    """Another connection holds what the health check needs: on SQLite the write lock (BEGIN IMMEDIATE
    on a raw sqlite3 connection, as a long write does); on PostgreSQL an ACCESS EXCLUSIVE lock on the
    table the probe reads (pointed at it with HEALTHZ_QUERY)."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    saved = app.config["HEALTHZ_QUERY"]
    app.config["HEALTHZ_QUERY"] = "SELECT count(*) FROM alembic_version"
    holder = db.engine.connect()
    holder.execute(text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
    try:
        yield
    finally:
        holder.rollback()
        holder.close()
        app.config["HEALTHZ_QUERY"] = saved


def test_healthz_answers_503_within_a_second_while_the_database_is_locked_and_ok_once_released(app, client, make, login):
    user = make.member("startup")
    with _database_blocked(app):
        r, seconds = _timed(lambda: client.get("/healthz"))
        assert r.status_code == 503 and r.get_data(as_text=True) == "database unavailable\n"
        assert 0.8 < seconds < 1.5, seconds
    r, seconds = _timed(lambda: client.get("/healthz"))
    assert r.status_code == 200 and r.get_data(as_text=True) == "ok\n" and seconds < 0.5, seconds
    # The failed probe left nothing broken behind: pages and the session work as before.
    login(user)
    assert client.get("/startup/").status_code == 200
    assert db.session.execute(text("SELECT 1")).scalar() == 1


@pytest.mark.parametrize("journal", ["delete", "wal"])
@pytest.mark.parametrize("lock", ["IMMEDIATE", "EXCLUSIVE"])
def test_healthz_on_sqlite_counts_a_write_lock_held_elsewhere_as_not_answering(tmp_path, journal, lock):
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute(f"PRAGMA journal_mode = {journal}")
    holder.execute("CREATE TABLE t (x)")
    client = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}).test_client()
    assert client.get("/healthz").status_code == 200
    holder.execute(f"BEGIN {lock}")
    holder.execute("INSERT INTO t VALUES (1)")
    r, seconds = _timed(lambda: client.get("/healthz"))
    assert r.status_code == 503 and seconds < 1.5, seconds
    holder.execute("ROLLBACK")
    r, seconds = _timed(lambda: client.get("/healthz"))
    assert r.status_code == 200 and seconds < 0.5, seconds
    holder.close()


def test_healthz_never_creates_a_missing_sqlite_database(tmp_path):
    path = tmp_path / "missing.sqlite3"
    client = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}).test_client()
    assert client.get("/healthz").status_code == 503
    assert not path.exists()


def test_healthz_gives_up_within_a_second_on_a_database_server_that_never_answers():
    # A server that accepts the connection and then says nothing (a hung or blackholed database):
    # libpq would wait two minutes by default and never less than two seconds.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        client = create_app("testing", overrides={
            "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://nobody@127.0.0.1:{port}/none"}).test_client()
        for _ in range(6):  # repeated checks while earlier probes still wait: each still answers in time
            r, seconds = _timed(lambda: client.get("/healthz"))
            assert r.status_code == 503 and seconds < 1.5, seconds
            assert r.get_data(as_text=True) == "database unavailable\n"


@pytest.mark.postgres
def test_healthz_on_postgres_gives_up_on_a_query_after_the_timeout_and_the_server_cancels_it(app, client):
    app.config["HEALTHZ_QUERY"] = "SELECT pg_sleep(5)"
    try:
        r, seconds = _timed(lambda: client.get("/healthz"))
    finally:
        app.config["HEALTHZ_QUERY"] = "SELECT 1"
    assert r.status_code == 503 and seconds < 1.5, seconds
    # statement_timeout ends the query on the server too: no backend is left sleeping.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        sleeping = db.session.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)' AND state = 'active'")).scalar()
        db.session.rollback()
        if not sleeping:
            break
        time.sleep(0.1)
    assert sleeping == 0
    assert client.get("/healthz").status_code == 200


def test_404_and_403_pages_say_little(client, make, login):
    r = client.get("/calls/999999")
    assert r.status_code == 404 and "Not found" in r.get_data(as_text=True)
    login(make.member("startup"))
    r = client.get("/admin/")
    assert r.status_code == 403 and "Not allowed" in r.get_data(as_text=True)


def test_500_page_leaks_nothing():
    fresh = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @fresh.get("/__boom")
    def boom():
        raise RuntimeError("secret database password is hunter2")

    r = fresh.test_client().get("/__boom")
    html = r.get_data(as_text=True)
    assert r.status_code == 500
    assert "hunter2" not in html and "Traceback" not in html and "RuntimeError" not in html
    assert "Something went wrong" in html


PRODUCTION = {"SECRET_KEY": "x" * 48, "SQLALCHEMY_DATABASE_URI": "sqlite://", "PUBLIC_BASE_URL": "https://residency.example.org"}


def test_production_refuses_the_default_secret_key(monkeypatch):
    monkeypatch.delenv("RESIDENCY_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="secret key"):
        create_app("production", overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with pytest.raises(RuntimeError, match="secret key"):
        create_app("production", overrides=PRODUCTION | {"SECRET_KEY": config.DEFAULT_SECRET_KEY})
    app = create_app("production", overrides=PRODUCTION)
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_every_setting_can_come_from_a_residency_variable(monkeypatch):
    monkeypatch.setenv("RESIDENCY_MAIL_SERVER", "smtp.example.org")
    monkeypatch.setenv("RESIDENCY_MAIL_PORT", "587")
    monkeypatch.setenv("RESIDENCY_MAIL_USE_TLS", "true")
    monkeypatch.setenv("RESIDENCY_SQLALCHEMY_DATABASE_URI", "sqlite://")
    app = create_app("testing")
    assert app.config["MAIL_SERVER"] == "smtp.example.org"
    assert app.config["MAIL_PORT"] == 587 and app.config["MAIL_USE_TLS"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"


def test_responses_carry_security_headers(client):
    r = client.get("/")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


def test_passwords_never_reach_the_logs(client, make, caplog):
    user = make.member("startup")
    caplog.set_level("DEBUG")
    client.post("/account/login", data={"email": user.email, "password": "a-very-distinct-secret"})
    assert "a-very-distinct-secret" not in caplog.text


def test_hardened_headers_on_every_page(client):
    r = client.get("/")
    assert "camera=()" in r.headers["Permissions-Policy"]
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in r.headers  # not over plain HTTP in development and tests
    assert "no-store" not in r.headers.get("Cache-Control", "")  # a public page may be cached


@pytest.mark.parametrize("base", [None, "http://localhost:5000", "https://localhost", "http://residency.example.org"])
def test_production_refuses_to_start_without_its_public_https_address(monkeypatch, base):
    monkeypatch.delenv("RESIDENCY_PUBLIC_BASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="public address"):
        create_app("production", overrides=PRODUCTION | {"PUBLIC_BASE_URL": base})


def test_behind_a_proxy_the_client_address_and_https_come_from_its_headers():
    """Throttling counts per client address: behind a proxy that must be the client's, not
    the proxy's; and forwarded headers from anyone else are never believed."""
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    seen = []

    def app_with(**extra):
        app = create_app("production", overrides=PRODUCTION | extra)

        @app.get("/__whoami")
        def whoami():
            from flask import request

            seen.append((request.remote_addr, request.is_secure))
            return "ok"

        return app

    assert app_with().test_client().get("/__whoami", headers=forwarded).status_code == 200
    assert app_with(PROXY_HOPS=1).test_client().get("/__whoami", headers=forwarded).status_code == 200
    assert seen == [("127.0.0.1", False), ("203.0.113.7", True)]


def test_production_sends_hsts(monkeypatch):
    app = create_app("production", overrides=PRODUCTION)
    r = app.test_client().get("/healthz", base_url="https://residency.example.org")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_signed_in_pages_and_private_feeds_are_never_cached(client, make, login):
    login(make.member("startup"))
    assert client.get("/startup/").headers["Cache-Control"] == "no-store"
    assert client.get("/account/notifications").headers["Cache-Control"] == "no-store"
    client.post("/account/logout")
    assert client.get("/calendar/not-a-real-token.ics").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("target", [
    "//evil.example", "/\t/evil.example", "/\\evil.example", "/\n/evil.example", "https://evil.example/",
    "/ /evil.example", "javascript:alert(1)", "evil.example",
])
def test_next_only_ever_leads_to_a_path_on_this_site(client, make, target):
    user = make.member("startup")
    r = client.post("/account/login?next=" + quote(target, safe=""), data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 302
    location = r.headers["Location"]
    assert "evil.example" not in location and not location.startswith("javascript")
    r = client.post("/language", data={"language": "nb", "next": target})
    assert "evil.example" not in r.headers["Location"]


def test_next_keeps_a_real_path_on_this_site(client, make):
    user = make.member("startup")
    r = client.post("/account/login?next=" + quote("/account/notifications?page=2", safe=""),
                    data={"email": user.email, "password": PASSWORD})
    assert r.headers["Location"].endswith("/account/notifications?page=2")


def _huge_id_urls(app):
    for rule in app.url_map.iter_rules():
        numeric = [name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)]
        if not numeric:
            continue
        for huge in (2**31, 10**25):
            values = {name: huge if name in numeric else sorted(getattr(rule._converters.get(name), "items", None) or ["x"])[0]
                      for name in rule.arguments}
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, app.url_map.bind("localhost").build(rule.endpoint, values)


def test_every_route_with_an_out_of_range_id_answers_404(app, client, make, login):
    urls = list(_huge_id_urls(app))
    assert len(urls) > 100  # every page, action and API route that takes an id
    for signed_in in (False, True):
        if signed_in:
            login(make.admin())
        for method, url in urls:
            assert client.open(url, method=method).status_code == 404, (method, url)
