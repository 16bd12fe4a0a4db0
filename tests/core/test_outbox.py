"""The outbox: idempotent enqueueing, delivery over real SMTP, retries and resend."""
from datetime import timedelta

from sqlalchemy import func, select

from residency.core import outbox
from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage
from residency.core.db import utcnow


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
