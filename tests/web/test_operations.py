"""Health check, error pages that leak nothing, production safety, settings from the environment."""
from urllib.parse import quote

import pytest
from werkzeug.routing import IntegerConverter

import config
from residency import create_app
from tests.factories import PASSWORD


def test_healthz_reports_the_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_says_when_the_database_is_unreachable():
    broken = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    r = broken.test_client().get("/healthz")
    assert r.status_code == 503 and r.get_json()["database"] == "unavailable"


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


def test_production_refuses_the_default_secret_key(monkeypatch):
    monkeypatch.delenv("RESIDENCY_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="secret key"):
        create_app("production", overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with pytest.raises(RuntimeError, match="secret key"):
        create_app("production", overrides={"SECRET_KEY": config.DEFAULT_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    app = create_app("production", overrides={"SECRET_KEY": "x" * 48, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
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


def test_production_sends_hsts(monkeypatch):
    app = create_app("production", overrides={"SECRET_KEY": "x" * 48, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
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
