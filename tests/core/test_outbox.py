"""The outbox: idempotent enqueueing, delivery over real SMTP, retries, failures that jam nothing,
claims that two runs never share, the SMTP timeout, cancel and resend."""
import asyncio
import email
import email.policy
import socket
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from residency.core import outbox
from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage
from residency.core.db import utcnow
from residency.domain.accounts.services import request_password_reset
from residency.domain.accounts.startups import request_to_join
from residency.scheduling import build_scheduler


def _enqueue(key="k1", recipient="someone@example.test", language="en"):
    outbox.enqueue(recipient=recipient, template="invitation", language=language,
                   context={"token": "tok", "organisation": "BioVentureHub", "inviter": "Ada", "days": 7}, dedup_key=key)
    db.session.commit()


def test_same_dedup_key_is_queued_once(app):
    _enqueue("invite:1")
    _enqueue("invite:1")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_delivery_sends_plain_text_and_html_once(app, smtp_server):
    _enqueue("invite:2", language="sv")
    assert outbox.deliver_due() == {"sent": 1, "retried": 0, "failed": 0}
    assert outbox.deliver_due() == {"sent": 0, "retried": 0, "failed": 0}
    [message] = smtp_server.messages
    assert message["To"] == "someone@example.test"
    assert message["X-Residency-Dedup"] == "invite:2"
    kinds = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html"} <= kinds
    assert "/account/invitation/tok" in message.get_body(("plain",)).get_content()
    row = db.session.scalar(select(OutboxMessage))
    assert row.delivery == "sent" and row.sent_at is not None and row.attempts == 1


def test_smtp_down_retries_with_backoff_then_fails_visibly_and_resend_delivers(app, smtp_server):
    smtp_server.stop()  # the server goes away
    _enqueue("invite:3")
    now = utcnow()
    backoff = app.config["OUTBOX_BACKOFF_SECONDS"]
    assert outbox.deliver_due(now=now)["retried"] == 1
    row = db.session.scalar(select(OutboxMessage))
    assert row.delivery == "queued" and row.attempts == 1 and row.last_error
    assert row.next_attempt_at == now + timedelta(seconds=backoff)
    # Not due again before the backoff has passed.
    assert outbox.deliver_due(now=now + timedelta(seconds=backoff - 1)) == {"sent": 0, "retried": 0, "failed": 0}
    t = now
    for attempt in range(2, app.config["OUTBOX_MAX_ATTEMPTS"] + 1):
        t = t + timedelta(seconds=backoff * 2 ** (attempt - 2))
        outbox.deliver_due(now=t)
    db.session.refresh(row)
    assert row.delivery == "failed" and row.attempts == app.config["OUTBOX_MAX_ATTEMPTS"]

    smtp_server.start()  # back again
    outbox.resend(row.id)
    assert outbox.deliver_due()["sent"] == 1
    assert len(smtp_server.messages) == 1


def test_smtp_outage_then_recovery_delivers_everything_once_without_resend(app, smtp_server):
    """Messages queued while SMTP is down go out when it returns: none lost, none doubled."""
    smtp_server.stop()
    for n in range(5):
        _enqueue(f"outage:{n}", recipient=f"person{n}@example.test")
    now = utcnow()
    assert outbox.deliver_due(now=now)["retried"] == 5
    assert outbox.deliver_due(now=now + timedelta(seconds=app.config["OUTBOX_BACKOFF_SECONDS"]))["retried"] == 5
    smtp_server.start()
    later = now + timedelta(seconds=app.config["OUTBOX_BACKOFF_SECONDS"] * 3)
    assert outbox.deliver_due(now=later)["sent"] == 5
    assert outbox.deliver_due(now=later + timedelta(hours=1)) == {"sent": 0, "retried": 0, "failed": 0}
    keys = sorted(m["X-Residency-Dedup"] for m in smtp_server.messages)
    assert keys == [f"outage:{n}" for n in range(5)]


# ------------------------------------------------ no message can jam the outbox (issue 12)


@contextmanager
def mail_server_at(app, port):
    """Point Flask-Mail at ``port`` for the block (the ``smtp_server`` fixture restores its own)."""
    state = app.extensions["mail"]
    saved = (state.server, state.port)
    state.server, state.port = "127.0.0.1", port
    try:
        yield
    finally:
        state.server, state.port = saved


class Collector:
    """An aiosmtpd handler: refuses some recipients, answers slowly if asked, keeps what it receives."""

    def __init__(self, delay=0.0, refuse=None):
        self.messages, self.delay, self.refuse = [], delay, refuse or {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@contextmanager
def own_smtp_server(app, handler):
    """A real SMTP server on loopback with ``handler``, Flask-Mail pointed at it."""
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with mail_server_at(app, port):
            yield handler
    finally:
        controller.stop()


@contextmanager
def stalled_smtp_server():
    """A mail server that accepts every TCP connection and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], held
    finally:
        stop.set()
        thread.join(5)
        for connection in held:
            connection.close()
        listener.close()


def _row(key) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == key))


def _keys(messages) -> list:
    return sorted(m["X-Residency-Dedup"] for m in messages)


def _queue_around(make, poison):
    """A password reset queued ahead of ``poison()`` and two messages behind it; returns their keys."""
    reader = make.user(email="reader@example.test")
    request_password_reset(email=reader.email)
    poison()
    _enqueue("behind:invitation", recipient="invitee@example.test")
    request_password_reset(email=make.user(email="second@example.test").email)
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)).all()
    return [r.dedup_key for r in rows]


def test_a_name_with_a_newline_jams_nothing_and_every_message_arrives_once(app, make, smtp_server):
    """The issue's reproduction: the join request of a user named with a line break once raised
    BadHeaderError on every run, re-sending the reset mail ahead of it and nothing behind it."""
    startup = make.organisation("startup", name="Fjord Bio")
    make.user(email="member@example.test", org=startup)
    mallory = make.user(email="mallory@example.test", name="Mallory\r\nBcc: victim@example.test")  # stored directly

    keys = _queue_around(make, lambda: request_to_join(actor=mallory, country="NO", org_number=startup.org_number))
    [join_key] = [k for k in keys if k.startswith("join-request:")]
    assert keys.index(join_key) == 1  # one ahead, two behind

    later = utcnow() + timedelta(hours=2)
    for n in range(4):
        outbox.deliver_due(now=later + timedelta(hours=n))
    assert _keys(smtp_server.messages) == sorted(keys)  # each exactly once
    [join] = [m for m in smtp_server.messages if m["X-Residency-Dedup"] == join_key]
    assert join["Subject"] == "Mallory Bcc: victim@example.test asks to join Fjord Bio"
    assert join["Bcc"] is None and join["To"] == "member@example.test"
    assert {r.delivery for r in db.session.scalars(select(OutboxMessage))} == {"sent"}


def _retired_template():
    db.session.add(OutboxMessage(dedup_key="poison:retired", recipient="old@example.test", template="retired_letter",
                                 context={}, language="en", delivery="queued", attempts=0, next_attempt_at=utcnow(),
                                 created_at=utcnow()))
    db.session.commit()


def _unrenderable_context():
    outbox.enqueue(recipient="officer@example.test", template="funding_offer_expiring", dedup_key="poison:context",
                   context={"title": "Trial", "funder_name": "Vinnova", "timezone": "Europe/Stockholm",
                            "offer_expires_at": "soon " * 1000})
    db.session.commit()


@pytest.mark.parametrize("poison, error", [(_unrenderable_context, "ValueError: Invalid isoformat string"),
                                           (_retired_template, "KeyError: 'retired_letter'")])
def test_a_message_that_cannot_be_rendered_fails_alone_and_the_rest_arrive_once(app, make, smtp_server, poison, error):
    keys = _queue_around(make, poison)
    poisoned = [k for k in keys if k.startswith("poison:")][0]
    assert keys.index(poisoned) == 1

    assert outbox.deliver_due() == {"sent": 3, "retried": 0, "failed": 1}
    later = utcnow() + timedelta(days=1)
    for n in range(3):
        assert outbox.deliver_due(now=later + timedelta(hours=n)) == {"sent": 0, "retried": 0, "failed": 0}
    assert _keys(smtp_server.messages) == sorted(k for k in keys if k != poisoned)
    row = _row(poisoned)
    # Rendering is permanent: failed after its first attempt, the error kept, bounded.
    assert (row.delivery, row.attempts, row.claimed_until) == ("failed", 1, None)
    assert row.last_error.startswith(error) and len(row.last_error) <= outbox.ERROR_LENGTH
    assert row.last_attempt_at is not None


def test_a_bad_header_fails_the_message_instead_of_stopping_the_run(app, smtp_server):
    """Flask-Mail's own BadHeaderError (here from a sender misconfigured with a line break)."""
    state = app.extensions["mail"]
    saved = state.default_sender
    _enqueue("header:1")
    _enqueue("header:2", recipient="other@example.test")
    state.default_sender = "Ops\nBcc: x@example.test <ops@example.test>"
    try:
        assert outbox.deliver_due() == {"sent": 0, "retried": 0, "failed": 2}
    finally:
        state.default_sender = saved
    assert smtp_server.messages == []
    assert [(_row(k).delivery, _row(k).last_error) for k in ("header:1", "header:2")] == [("failed", "BadHeaderError")] * 2
    outbox.resend(_row("header:1").id)  # fixed: the administrator resends
    assert outbox.deliver_due()["sent"] == 1 and _keys(smtp_server.messages) == ["header:1"]


def test_a_recipient_refused_for_good_fails_at_once_and_one_refused_for_now_is_retried(app):
    handler = Collector(refuse={"gone@example.test": "550 5.1.1 No such mailbox",
                                "full@example.test": "452 4.2.2 Mailbox full, try later"})
    _enqueue("refused:gone", recipient="gone@example.test")
    _enqueue("refused:full", recipient="full@example.test")
    _enqueue("refused:fine", recipient="fine@example.test")
    now = utcnow()
    with own_smtp_server(app, handler):
        counts = outbox.deliver_due(now=now)
        assert counts == {"sent": 1, "retried": 1, "failed": 1}
    gone, full = _row("refused:gone"), _row("refused:full")
    assert (gone.delivery, gone.attempts) == ("failed", 1) and "550" in gone.last_error
    assert (full.delivery, full.attempts) == ("queued", 1) and "452" in full.last_error
    assert full.next_attempt_at == now + timedelta(seconds=app.config["OUTBOX_BACKOFF_SECONDS"])
    assert _keys(handler.messages) == ["refused:fine"]


def test_two_delivery_runs_at_once_send_every_message_exactly_once(app):
    keys = [f"race:{n:02d}" for n in range(24)]
    for key in keys:
        _enqueue(key, recipient=f"{key.replace(':', '-')}@example.test")
    handler = Collector(delay=0.02)
    barrier = threading.Barrier(3, timeout=30)
    sent, failures = [], []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                while (counts := outbox.deliver_due(limit=4)) != {"sent": 0, "retried": 0, "failed": 0}:
                    sent.append(counts["sent"])
            except Exception as error:  # noqa: BLE001 - reported below
                failures.append(repr(error))
            finally:
                db.session.remove()

    with own_smtp_server(app, handler):
        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert failures == [] and not any(t.is_alive() for t in threads)
    assert _keys(handler.messages) == keys and sum(sent) == 24
    assert {(r.delivery, r.attempts) for r in db.session.scalars(select(OutboxMessage))} == {("sent", 1)}


def test_a_run_that_died_after_claiming_leaves_its_messages_to_a_run_after_the_lease(app, smtp_server):
    _enqueue("lease:1")
    now = utcnow()
    lease = timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"])
    [claimed] = outbox._claim(now, 10, now + lease)  # ... and the worker dies before sending
    assert claimed.dedup_key == "lease:1"
    assert outbox.deliver_due(now=now + timedelta(seconds=1)) == {"sent": 0, "retried": 0, "failed": 0}
    assert outbox.deliver_due(now=now + lease + timedelta(seconds=1))["sent"] == 1
    assert _keys(smtp_server.messages) == ["lease:1"] and _row("lease:1").claimed_until is None


def test_a_run_starts_no_send_its_lease_could_not_cover_and_gives_the_rest_back(app, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_LEASE_SECONDS", 2)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 1)
    keys = [f"slow:{n}" for n in range(8)]
    for key in keys:
        _enqueue(key, recipient=f"{key.replace(':', '-')}@example.test")
    with own_smtp_server(app, Collector(delay=0.3)) as handler:
        first = outbox.deliver_due()
        assert 1 <= first["sent"] < 8
        waiting = [r for r in db.session.scalars(select(OutboxMessage)) if r.delivery == "queued"]
        assert len(waiting) == 8 - first["sent"]
        assert {(r.attempts, r.claimed_until) for r in waiting} == {(0, None)}  # free at once, no attempt counted
        while outbox.deliver_due()["sent"]:
            pass
    assert _keys(handler.messages) == keys


def test_a_stalled_mail_server_is_given_up_on_within_mail_timeout_and_retried_later(app, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 1)
    _enqueue("stall:1")
    now = utcnow()
    with stalled_smtp_server() as (port, held), mail_server_at(app, port):
        started = time.monotonic()
        counts = outbox.deliver_due(now=now)
        took = time.monotonic() - started
        assert held  # the server did take the connection
    print(f"stalled-server run took {took:.2f} s")
    assert counts == {"sent": 0, "retried": 1, "failed": 0}
    assert took < 3
    row = _row("stall:1")
    assert (row.delivery, row.attempts) == ("queued", 1) and "timed out" in row.last_error
    assert row.next_attempt_at == now + timedelta(seconds=app.config["OUTBOX_BACKOFF_SECONDS"])
    # The server works again: the next due run delivers it, once.
    assert outbox.deliver_due(now=row.next_attempt_at)["sent"] == 1
    assert _keys(smtp_server.messages) == ["stall:1"]


def test_the_delivery_job_is_never_dropped_as_late_and_never_runs_twice_at_once(app):
    jobs = {job.id: job for job in build_scheduler(app).get_jobs()}
    job = jobs["deliver-outbox"]
    assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, None)


def test_the_scheduler_keeps_delivering_after_a_stalled_mail_server(app, smtp_server, monkeypatch):
    """Once, a hung run kept every later run skipped as "max instances"; now each run is bounded."""
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 1)
    monkeypatch.setitem(app.config, "OUTBOX_BACKOFF_SECONDS", 1)
    monkeypatch.setitem(app.config, "JOB_INTERVALS", {"deliver-outbox": 1})
    _enqueue("scheduled:1")
    scheduler = build_scheduler(app)
    for job in scheduler.get_jobs():
        if job.id != "deliver-outbox":
            job.remove()
    state = app.extensions["mail"]
    thread = threading.Thread(target=scheduler.start, daemon=True)
    with stalled_smtp_server() as (port, held):
        state.port = port
        try:
            thread.start()
            deadline = time.monotonic() + 10
            while len(held) < 2 and time.monotonic() < deadline:  # at least two runs met the stalled server
                time.sleep(0.1)
            assert len(held) >= 2
            state.port = smtp_server.port  # the mail server answers again
            deadline = time.monotonic() + 15
            while not smtp_server.messages and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            state.port = smtp_server.port
            scheduler.shutdown(wait=True)
            thread.join(10)
    assert _keys(smtp_server.messages) == ["scheduled:1"]
    row = _row("scheduled:1")
    assert row.delivery == "sent" and row.attempts >= 3
