"""Accounts: registration, login, throttling, CSRF, password reset, invitations."""
import re
from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import func, select

from residency.core.extensions import db
from residency.domain.accounts.models import Membership, SignInThrottle, User
from residency.core.outbox_models import OutboxMessage

from tests.factories import PASSWORD


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_register_logs_in_and_leads_to_creating_the_startup(client):
    r = client.post("/account/register", data={"name": "Siv Founder", "email": "Siv@Example.test",
                                               "password": "long enough pw", "confirm": "long enough pw"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/startup/start")
    user = db.session.scalar(select(User))
    assert user.email == "siv@example.test" and user.check_password("long enough pw")
    assert "long enough pw" not in user.password_hash


def test_duplicate_email_is_refused_and_keeps_what_was_typed(client, make):
    make.user(email="taken@example.test")
    before = count(User)
    r = client.post("/account/register", data={"name": "Second Person", "email": "TAKEN@example.test",
                                               "password": "long enough pw", "confirm": "long enough pw"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "already exists" in html
    assert 'value="Second Person"' in html
    assert count(User) == before


def test_short_password_and_mismatch_are_explained(client):
    r = client.post("/account/register", data={"name": "A", "email": "a@example.test", "password": "short", "confirm": "other"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "at least 10 characters" in html and "The two passwords differ" in html
    assert count(User) == 0


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make):
    make.user(email="known@example.test")
    wrong = client.post("/account/login", data={"email": "known@example.test", "password": "not the password"})
    unknown = client.post("/account/login", data={"email": "nobody@example.test", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    message = "The e-mail address or the password is wrong."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert client.get("/startup/").status_code == 302  # still logged out


def test_repeated_failures_are_throttled_even_with_the_right_password(client, make, app):
    user = make.member("startup")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/account/login", data={"email": user.email, "password": "wrong password!"})
    r = client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 429 and "Too many failed attempts" in r.get_data(as_text=True)
    # After the window the right password works again and clears the failures.
    later = datetime.now(timezone.utc) + timedelta(minutes=app.config["LOGIN_FAILURE_WINDOW_MINUTES"] + 1)
    with time_machine.travel(later, tick=False):
        r = client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 302
    assert db.session.scalar(select(func.sum(SignInThrottle.failures))) in (0, None)


def test_login_goes_to_the_role_dashboard_and_ignores_foreign_next(client, make):
    staff = make.member("cluster")
    r = client.post("/account/login?next=https://evil.example/x", data={"email": staff.email, "password": PASSWORD})
    assert r.headers["Location"] == "/cluster/"


def test_post_without_csrf_token_is_refused_and_changes_nothing(client, app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = client.post("/account/register", data={"name": "X", "email": "x@example.test",
                                                   "password": "long enough pw", "confirm": "long enough pw"})
        assert r.status_code == 400
        assert "Nothing was changed" in r.get_data(as_text=True)
        assert count(User) == 0
        # With the token from the form the same post goes through.
        page = client.get("/account/register").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        r = client.post("/account/register", data={"csrf_token": token, "name": "X", "email": "x@example.test",
                                                   "password": "long enough pw", "confirm": "long enough pw"})
        assert r.status_code == 302 and count(User) == 1
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_session_cookie_is_httponly_and_lax(client, make):
    user = make.member("startup")
    r = client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _token_from_outbox(template):
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id.desc()))
    return message, message.context["token"]


def test_password_reset_is_single_use_and_expires(client, make):
    user = make.member("startup")
    client.post("/account/forgot", data={"email": user.email})
    message, token = _token_from_outbox("password_reset")
    assert message.recipient == user.email
    r = client.post(f"/account/reset/{token}", data={"password": "a brand new secret", "confirm": "a brand new secret"})
    assert r.status_code == 302
    assert client.post("/account/login", data={"email": user.email, "password": "a brand new secret"}).status_code == 302
    # Used once: gone.
    assert client.get(f"/account/reset/{token}").status_code == 404
    # A fresh link older than an hour is refused.
    client.post("/account/logout")
    client.post("/account/forgot", data={"email": user.email})
    _, token2 = _token_from_outbox("password_reset")
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=61), tick=False):
        r = client.post(f"/account/reset/{token2}", data={"password": "another new secret", "confirm": "another new secret"})
    assert r.status_code == 404
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("a brand new secret")


def test_forgot_for_unknown_email_says_the_same_and_sends_nothing(client):
    r = client.post("/account/forgot", data={"email": "nobody@example.test"}, follow_redirects=True)
    assert "If an account exists" in r.get_data(as_text=True)
    assert count(OutboxMessage) == 0


def test_invitation_creates_the_staff_account_and_expires_after_seven_days(client, make):
    from residency.domain.accounts.services import invite

    admin = make.admin()
    hub = make.organisation("hub", country="SE")
    invite(actor=admin, email="New.Staff@hub.test", organisation=hub)
    _, token = _token_from_outbox("invitation")
    r = client.post(f"/account/invitation/{token}", data={"name": "New Staff", "password": "bench and pipette", "confirm": "bench and pipette"})
    assert r.status_code == 302 and r.headers["Location"] == "/hub/"
    staff = db.session.scalar(select(User).where(User.email == "new.staff@hub.test"))
    assert staff.is_member_of(hub.id)
    assert client.get(f"/account/invitation/{token}").status_code == 404  # used

    invite(actor=admin, email="late@hub.test", organisation=hub)
    _, late = _token_from_outbox("invitation")
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(days=7, minutes=1), tick=False):
        assert client.get(f"/account/invitation/{late}").status_code == 404
    assert db.session.scalar(select(User).where(User.email == "late@hub.test")) is None


def test_invitation_for_an_existing_account_requires_logging_in_as_it(client, make):
    from residency.domain.accounts.services import invite

    admin = make.admin()
    existing = make.member("startup")
    funder = make.organisation("funder")
    invite(actor=admin, email=existing.email, organisation=funder)
    _, token = _token_from_outbox("invitation")
    r = client.get(f"/account/invitation/{token}")
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]
    count_before = count(Membership)
    client.post("/account/login", data={"email": existing.email, "password": PASSWORD})
    r = client.post(f"/account/invitation/{token}")
    assert r.status_code == 302
    assert count(Membership) == count_before + 1


def test_language_follows_the_browser_and_the_users_choice(client, make):
    assert 'lang="sv"' in client.get("/calls", headers={"Accept-Language": "sv-SE,sv;q=0.9"}).get_data(as_text=True)
    assert 'lang="nb"' in client.get("/calls", headers={"Accept-Language": "no"}).get_data(as_text=True)
    client.post("/language", data={"language": "nb", "next": "/calls"})
    assert 'lang="nb"' in client.get("/calls", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    user = make.member("startup")
    client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    client.post("/language", data={"language": "sv", "next": "https://evil.example/"})
    db.session.expire_all()
    assert db.session.get(User, user.id).language == "sv"
