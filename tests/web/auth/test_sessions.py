"""Sign-ins the server can end: logout, a new password, the remember cookie's rotation and lifetime.

Each "device" is a test client of its own; a copied cookie is replayed from a fresh client
that holds nothing else, as an attacker with a stolen cookie would.
"""
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import time_machine
from sqlalchemy import func, select

from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage
from residency.domain.accounts.models import UserSession

from tests.factories import PASSWORD

PRIVATE = "/startup/"  # a startup member's dashboard: 200 when signed in, a redirect to log in otherwise
NEW_PASSWORD = "fjords and benches at dawn"


def sign_in(app, user, remember=False, password=PASSWORD):
    device = app.test_client()
    data = {"email": user.email, "password": password}
    if remember:
        data["remember"] = "y"
    r = device.post("/account/login", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return device


def cookie(device, name):
    found = device.get_cookie(name)
    return found.value if found is not None else None


def replay(app, **cookies):
    """A fresh browser holding only these cookies."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief


def signed_in(device) -> bool:
    r = device.get(PRIVATE)
    if r.status_code == 200:
        return True
    assert r.status_code == 302 and "/account/login" in r.headers["Location"], (r.status_code, r.headers.get("Location"))
    return False


def sessions_of(user) -> int:
    return db.session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id))


def test_logout_ends_the_session_for_good_even_for_a_copied_cookie(app, make):
    user = make.member("startup")
    laptop = sign_in(app, user, remember=True)
    session_copy, remember_copy = cookie(laptop, "session"), cookie(laptop, "remember_token")
    assert session_copy and remember_copy
    assert signed_in(replay(app, session=session_copy)) and signed_in(replay(app, remember_token=remember_copy))

    laptop.post("/account/logout")

    assert not signed_in(laptop)
    assert not signed_in(replay(app, session=session_copy))
    assert not signed_in(replay(app, remember_token=remember_copy))
    assert not signed_in(replay(app, session=session_copy, remember_token=remember_copy))
    assert sessions_of(user) == 0


def test_session_cookie_holds_a_sign_in_key_not_the_user_id(app, make):
    user = make.member("startup")
    laptop = sign_in(app, user)
    # A forged session naming the user's id (what the cookie held before) is nobody.
    with laptop.session_transaction() as forged:
        forged["_user_id"] = str(user.id)
    assert not signed_in(laptop)


def test_password_reset_ends_every_other_session_and_remember_cookie(app, make):
    user = make.member("startup")
    laptop = sign_in(app, user, remember=True)
    phone = sign_in(app, user)
    session_copy, remember_copy = cookie(laptop, "session"), cookie(laptop, "remember_token")

    browser = app.test_client()
    browser.post("/account/forgot", data={"email": user.email})
    token = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "password_reset")).context["token"]
    r = browser.post(f"/account/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]

    assert not signed_in(replay(app, session=session_copy))
    assert not signed_in(replay(app, remember_token=remember_copy))
    assert not signed_in(laptop) and not signed_in(phone)
    assert sessions_of(user) == 0
    assert signed_in(sign_in(app, user, password=NEW_PASSWORD))


def test_a_reset_on_a_signed_in_device_keeps_that_device_only(app, make):
    user = make.member("startup")
    laptop = sign_in(app, user, remember=True)
    phone = sign_in(app, user)
    old_remember = cookie(laptop, "remember_token")
    laptop.post("/account/forgot", data={"email": user.email})
    token = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "password_reset")).context["token"]
    r = laptop.post(f"/account/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith(PRIVATE)
    assert signed_in(laptop)
    assert not signed_in(phone)
    assert not signed_in(replay(app, remember_token=old_remember))
    assert signed_in(replay(app, remember_token=cookie(laptop, "remember_token")))
    assert sessions_of(user) == 1


def test_password_change_keeps_this_device_and_ends_every_other(app, make):
    user = make.member("startup")
    laptop = sign_in(app, user, remember=True)
    phone = sign_in(app, user, remember=True)
    laptop_session, laptop_remember = cookie(laptop, "session"), cookie(laptop, "remember_token")
    phone_remember = cookie(phone, "remember_token")

    r = laptop.post("/account/password", data={"current_password": PASSWORD, "password": NEW_PASSWORD,
                                               "confirm": NEW_PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]

    assert signed_in(laptop)  # the device that changed it stays signed in...
    assert cookie(laptop, "remember_token") not in (None, laptop_remember)  # ...under a new key
    assert signed_in(replay(app, remember_token=cookie(laptop, "remember_token")))
    # Every other sign-in, and any cookie copied from this device before, is over.
    assert not signed_in(phone)
    assert not signed_in(replay(app, remember_token=phone_remember))
    assert not signed_in(replay(app, session=laptop_session))
    assert not signed_in(replay(app, remember_token=laptop_remember))
    assert sessions_of(user) == 1
    db.session.expire_all()
    assert db.session.get(type(user), user.id).check_password(NEW_PASSWORD)


def test_password_change_needs_the_current_password(app, make):
    user = make.member("startup")
    laptop = sign_in(app, user)
    phone = sign_in(app, user)
    r = laptop.post("/account/password", data={"current_password": "not my password", "password": NEW_PASSWORD,
                                               "confirm": NEW_PASSWORD})
    assert r.status_code == 422 and "This is not your current password." in r.get_data(as_text=True)
    assert signed_in(phone)
    db.session.expire_all()
    assert db.session.get(type(user), user.id).check_password(PASSWORD)


def test_the_remember_cookie_is_new_at_every_sign_in(app, make):
    user = make.member("startup")
    first = cookie(sign_in(app, user, remember=True), "remember_token")
    second = cookie(sign_in(app, user, remember=True), "remember_token")
    assert first and second and first != second
    # Both devices are signed in on their own: signing out one leaves the other.
    assert signed_in(replay(app, remember_token=first)) and signed_in(replay(app, remember_token=second))


def test_the_remember_cookie_lasts_thirty_days_at_most_on_the_server_too(app, make):
    assert app.config["REMEMBER_COOKIE_DURATION"] <= timedelta(days=30)
    user = make.member("startup")
    device = app.test_client()
    r = device.post("/account/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    header = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    expires = parsedate_to_datetime(header.split("Expires=")[1].split(";")[0])
    assert expires <= datetime.now(timezone.utc) + timedelta(days=30, minutes=1)
    assert "HttpOnly" in header and "SameSite=Lax" in header
    remember = cookie(device, "remember_token")

    now = datetime.now(timezone.utc)
    with time_machine.travel(now + timedelta(days=29, hours=23), tick=False):
        assert signed_in(replay(app, remember_token=remember))
    with time_machine.travel(now + timedelta(days=30, minutes=1), tick=False):
        # A cookie kept past its expiry (or with its date edited) finds its sign-in over.
        assert not signed_in(replay(app, remember_token=remember))


def test_a_sign_in_without_remember_ends_after_twelve_idle_hours(app, make):
    user = make.member("startup")
    device = sign_in(app, user)
    assert cookie(device, "remember_token") is None
    session_copy = cookie(device, "session")
    now = datetime.now(timezone.utc)
    with time_machine.travel(now + timedelta(hours=11), tick=False):
        assert signed_in(replay(app, session=session_copy))
    # In use, it was given another twelve hours on the server...
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert abs(row.expires_at - (now + timedelta(hours=23))) < timedelta(minutes=1)
    # ...and an idle one ends after twelve.
    idle = sign_in(app, user)
    with time_machine.travel(now + timedelta(hours=12, minutes=1), tick=False):
        assert not signed_in(idle)


def test_signed_in_devices_are_listed_and_others_can_be_signed_out(app, make):
    user = make.member("startup")
    laptop = sign_in(app, user)
    phone = app.test_client()
    phone.post("/account/login", data={"email": user.email, "password": PASSWORD},
               headers={"User-Agent": "PhoneBrowser/1.0"})
    page = laptop.get("/account/devices").get_data(as_text=True)
    assert "PhoneBrowser/1.0" in page and "this device" in page
    r = laptop.post("/account/devices", follow_redirects=True)
    assert "1 other device is signed out." in r.get_data(as_text=True)
    assert signed_in(laptop) and not signed_in(phone)
