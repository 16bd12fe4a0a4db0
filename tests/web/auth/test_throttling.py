"""Sign-in throttling per account and address, and the same work for an unknown e-mail.

Password checks are counted by wrapping the real hash check (it still hashes): the
number of checks, not a clock, shows that a guess was or was not tried.
"""
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage
from residency.domain.accounts import passwords

from tests.factories import PASSWORD

ATTACKER = {"REMOTE_ADDR": "192.0.2.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture
def password_checks(monkeypatch):
    """How many passwords were checked against a hash (thread-safe), real hashing included."""
    real = passwords.check_password_hash
    lock = threading.Lock()
    counted = Counter()

    def counting(password_hash, password):
        with lock:
            counted["checks"] += 1
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "check_password_hash", counting)
    return counted


def attempt(client, email, password="wrong guess here", environ=None):
    return client.post("/account/login", data={"email": email, "password": password}, environ_base=environ or ATTACKER)


def test_an_unknown_email_costs_one_password_check_like_a_wrong_password(client, make, password_checks):
    user = make.member("startup")
    attempt(client, user.email)
    assert password_checks["checks"] == 1
    attempt(client, "nobody-here@example.test")
    assert password_checks["checks"] == 2
    # The stand-in hash is of the same method and cost as an account's.
    method = user.password_hash.split("$")[0]
    assert passwords.dummy_hash().split("$")[0] == method


def test_an_attacker_locks_out_only_their_own_address(client, make, app, password_checks):
    user = make.member("startup")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert attempt(client, user.email).status_code == 401
    checks = password_checks["checks"]
    r = attempt(client, user.email, PASSWORD)  # even the right password, from the guessing address
    html = r.get_data(as_text=True)
    assert r.status_code == 429 and "Too many failed attempts" in html
    assert 'href="/account/forgot"' in html and "Reset your password by e-mail" in html
    assert password_checks["checks"] == checks  # refused without checking
    # The owner, elsewhere, signs in at once.
    assert attempt(client, user.email, PASSWORD, environ=OWNER).status_code == 302


def test_one_address_cannot_spray_many_accounts(client, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 6)
    users = [make.member("startup") for _ in range(4)]
    for user in users[:3]:
        attempt(client, user.email)
        attempt(client, user.email)
    r = attempt(client, users[3].email, PASSWORD)
    assert r.status_code == 429
    assert attempt(client, users[3].email, PASSWORD, environ=OWNER).status_code == 302


def test_signing_in_to_ones_own_account_does_not_reset_a_spray(client, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 4)
    mine, others = make.member("startup"), [make.member("startup") for _ in range(4)]
    for other in others[:3]:
        attempt(client, other.email)
    assert attempt(client, mine.email, PASSWORD).status_code == 302
    client.post("/account/logout", environ_base=ATTACKER)
    assert attempt(client, others[3].email).status_code == 401  # the fourth failure: the last one allowed
    assert attempt(client, others[3].email).status_code == 429


def test_many_addresses_lock_the_account_until_a_new_password(client, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 6)
    user = make.member("startup")
    for n in range(3):
        address = {"REMOTE_ADDR": f"203.0.113.{n + 1}"}
        attempt(client, user.email, environ=address)
        attempt(client, user.email, environ=address)
    r = attempt(client, user.email, PASSWORD, environ=OWNER)
    assert r.status_code == 429 and 'href="/account/forgot"' in r.get_data(as_text=True)
    # The reset path stays open, and a new password lifts the lock.
    client.post("/account/forgot", data={"email": user.email}, environ_base=OWNER)
    token = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "password_reset")).context["token"]
    new = "a lighthouse on the skerry"
    assert client.post(f"/account/reset/{token}", data={"password": new, "confirm": new},
                       environ_base=OWNER).status_code == 302
    assert attempt(client, user.email, new, environ=OWNER).status_code == 302


def test_the_lock_lifts_after_the_window(client, make, app):
    user = make.member("startup")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(client, user.email)
    assert attempt(client, user.email, PASSWORD).status_code == 429
    later = datetime.now(timezone.utc) + timedelta(minutes=app.config["LOGIN_FAILURE_WINDOW_MINUTES"] + 1)
    with time_machine.travel(later, tick=False):
        assert attempt(client, user.email, PASSWORD).status_code == 302


def test_an_ipv6_client_counts_by_its_64_block(client, make, app):
    user = make.member("startup")
    for n in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(client, user.email, environ={"REMOTE_ADDR": f"2001:db8:1:2::{n + 1:x}"})
    assert attempt(client, user.email, PASSWORD, environ={"REMOTE_ADDR": "2001:db8:1:2::ff"}).status_code == 429
    assert attempt(client, user.email, PASSWORD, environ={"REMOTE_ADDR": "2001:db8:1:3::1"}).status_code == 302


def test_twelve_parallel_guesses_get_five_password_checks_at_most(app, make, password_checks):
    user = make.member("startup")
    email, limit = user.email, app.config["LOGIN_MAX_FAILURES"]
    start = threading.Barrier(12)
    statuses, lock = [], threading.Lock()

    def guess(n):
        with app.app_context():
            device = app.test_client()
            start.wait()
            status = attempt(device, email, f"parallel guess {n:02d}").status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(statuses) == 12
    assert password_checks["checks"] <= limit
    assert sorted(statuses) == [401] * password_checks["checks"] + [429] * (12 - password_checks["checks"])
    assert password_checks["checks"] == limit  # and none was refused for nothing
