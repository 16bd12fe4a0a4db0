"""The password rule at registration, invitation, reset and change: refused next to the field, nothing changed."""
import re

import pytest
from sqlalchemy import func, select

from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage
from residency.domain.accounts.models import User
from residency.domain.accounts.services import invite

from tests.factories import PASSWORD

WEAK = ["aaaaaaaaaa", "1234567890"]


def field_error(html: str, field: str) -> str:
    """The message under one field (the macro puts it in <small id="FIELD-error">)."""
    found = re.search(rf'<small id="{field}-error" class="field-error">([^<]*)</small>', html)
    assert found, f"no error next to {field}"
    return found.group(1)


def users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


@pytest.mark.parametrize("password", WEAK)
def test_registration_refuses_a_weak_password(client, password):
    r = client.post("/account/register", data={"name": "Siv Founder", "email": "siv@example.test",
                                               "password": password, "confirm": password})
    assert r.status_code == 422
    assert "too common or too easy to guess" in field_error(r.get_data(as_text=True), "password")
    assert users() == 0


def test_registration_refuses_the_email_as_password(client):
    r = client.post("/account/register", data={"name": "Siv Founder", "email": "siv.founder@example.test",
                                               "password": "siv.founder@example.test", "confirm": "siv.founder@example.test"})
    assert r.status_code == 422
    assert "e-mail address or your name" in field_error(r.get_data(as_text=True), "password")
    assert users() == 0


@pytest.mark.parametrize("password", WEAK + ["New Staff!!"])
def test_invitation_accept_refuses_a_weak_password(client, make, password):
    invite(actor=make.admin(), email="new.staff@hub.test", organisation=make.organisation("hub", country="SE"))
    token = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "invitation")).context["token"]
    before = users()
    r = client.post(f"/account/invitation/{token}", data={"name": "New Staff", "password": password, "confirm": password})
    assert r.status_code == 422
    assert field_error(r.get_data(as_text=True), "password")
    assert users() == before
    assert client.get(f"/account/invitation/{token}").status_code == 200  # still unused


@pytest.mark.parametrize("password", WEAK)
def test_reset_refuses_a_weak_password(client, make, password):
    user = make.member("startup")
    client.post("/account/forgot", data={"email": user.email})
    token = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "password_reset")).context["token"]
    r = client.post(f"/account/reset/{token}", data={"password": password, "confirm": password})
    assert r.status_code == 422
    assert "too common or too easy to guess" in field_error(r.get_data(as_text=True), "password")
    assert client.get(f"/account/reset/{token}").status_code == 200  # the link still works
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(PASSWORD)


def test_reset_refuses_the_name_as_password(client, make):
    user = make.user(name="Ingrid Bergsland", org=make.organisation("startup"))
    client.post("/account/forgot", data={"email": user.email})
    token = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "password_reset")).context["token"]
    r = client.post(f"/account/reset/{token}", data={"password": "Bergsland 2024!", "confirm": "Bergsland 2024!"})
    assert r.status_code == 422
    assert "e-mail address or your name" in field_error(r.get_data(as_text=True), "password")


@pytest.mark.parametrize("password", WEAK)
def test_change_refuses_a_weak_password(client, make, login, password):
    user = make.member("startup")
    login(user)
    r = client.post("/account/password", data={"current_password": PASSWORD, "password": password, "confirm": password})
    assert r.status_code == 422
    assert "too common or too easy to guess" in field_error(r.get_data(as_text=True), "password")
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(PASSWORD)


def test_short_password_is_refused_in_plain_words(client):
    r = client.post("/account/register", data={"name": "Siv", "email": "siv@example.test",
                                               "password": "Xk3!vq9", "confirm": "Xk3!vq9"})
    assert field_error(r.get_data(as_text=True), "password") == "Use at least 10 characters."
