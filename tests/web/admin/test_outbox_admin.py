"""The admin outbox: what became of each message, and cancel and resend (issue 12)."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from residency.core import outbox
from residency.core.db import utcnow
from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage


def _invitation(key: str, recipient: str) -> OutboxMessage:
    """A message the delivery job can render (the factory's rows carry no context)."""
    outbox.enqueue(recipient=recipient, template="invitation", dedup_key=key,
                   context={"token": "tok", "organisation": "BioVentureHub", "inviter": "Ada", "days": 7})
    db.session.commit()
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == key))


def _actions(page: str, message: OutboxMessage) -> set:
    return {action for action in ("resend", "cancel") if f"/admin/outbox/{message.id}/{action}" in page}


def test_a_failed_message_shows_its_error_attempts_and_subject_with_cancel_and_resend(app, make, login, smtp_server):
    startup = make.organisation("startup", name="Fjord Bio")
    make.user(email="member@example.test", org=startup)
    outbox.enqueue(recipient="officer@example.test", template="funding_offer_expiring", dedup_key="poison:1",
                   context={"title": "Trial", "funder_name": "Vinnova", "timezone": "Europe/Stockholm",
                            "offer_expires_at": "next Tuesday"})
    outbox.enqueue(recipient="sv@example.test", template="join_request", language="sv", dedup_key="join:1",
                   context={"name": "Eve\nBcc: x@example.test", "email": "eve@example.test", "organisation": "Fjord Bio",
                            "organisation_id": startup.id})
    db.session.commit()
    assert outbox.deliver_due() == {"sent": 1, "retried": 0, "failed": 1}

    page = html.unescape(login(make.admin()).get("/admin/outbox").get_data(as_text=True))
    failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == "poison:1"))
    sent = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == "join:1"))
    row = re.search(r"<tr>\s*<th scope=\"row\">(?:(?!</tr>).)*officer@example\.test(?:(?!</tr>).)*</tr>", page, re.S).group(0)
    assert "Failed" in row and "<td>1</td>" in row
    assert "ValueError: Invalid isoformat string: 'next Tuesday'" in row
    assert "The grant offer from Vinnova expires in 3 days" in row  # the subject, in the recipient's language
    assert "Eve Bcc: x@example.test" in page  # the Swedish subject, on one line
    assert _actions(page, failed) == {"resend", "cancel"}
    assert _actions(page, sent) == {"resend"}


def test_cancel_stops_a_message_for_good_and_resend_queues_it_again(app, make, login, smtp_server):
    message = _invitation("cancel:1", "later@example.test")
    client = login(make.admin())
    response = client.post(f"/admin/outbox/{message.id}/cancel", follow_redirects=True)
    assert "The message to later@example.test is cancelled; it will not be sent." in response.get_data(as_text=True)
    db.session.refresh(message)
    assert message.delivery == "cancelled"
    assert outbox.deliver_due(now=utcnow() + timedelta(days=1)) == {"sent": 0, "retried": 0, "failed": 0}
    assert smtp_server.messages == []

    page = client.get("/admin/outbox?delivery=cancelled").get_data(as_text=True)
    assert "later@example.test" in page and _actions(page, message) == {"resend"}
    response = client.post(f"/admin/outbox/{message.id}/resend", follow_redirects=True)
    assert "queued again" in response.get_data(as_text=True)
    db.session.refresh(message)
    assert (message.delivery, message.attempts) == ("queued", 0)
    assert outbox.deliver_due()["sent"] == 1 and len(smtp_server.messages) == 1


def test_a_sent_message_is_resent_with_its_attempts_reset(app, make, login, smtp_server):
    message = _invitation("again:1", "again@example.test")
    assert outbox.deliver_due()["sent"] == 1
    login(make.admin()).post(f"/admin/outbox/{message.id}/resend")
    db.session.refresh(message)
    assert (message.delivery, message.attempts, message.last_error) == ("queued", 0, None)
    assert outbox.deliver_due()["sent"] == 1
    assert [m["X-Residency-Dedup"] for m in smtp_server.messages] == ["again:1", "again:1"]


@pytest.mark.parametrize("delivery, refusal", [
    ("sent", "This message was sent already; it cannot be cancelled."),
    ("cancelled", "Only a queued or failed message can be cancelled."),
    ("held", "Only a queued or failed message can be cancelled."),
])
def test_cancel_is_refused_plainly_for_a_message_that_is_not_waiting(make, login, delivery, refusal):
    message = make.outbox_message(delivery=delivery)
    response = login(make.admin()).post(f"/admin/outbox/{message.id}/cancel", follow_redirects=True)
    assert response.status_code == 200 and refusal in response.get_data(as_text=True)
    db.session.refresh(message)
    assert message.delivery == delivery


@pytest.mark.parametrize("delivery, refusal", [
    ("queued", "This message is already waiting to be sent."),
    ("held", "Only a failed, cancelled or sent message can be sent again."),
    ("muted", "Only a failed, cancelled or sent message can be sent again."),
])
def test_resend_is_refused_plainly_for_a_message_that_is_not_done(make, login, delivery, refusal):
    message = make.outbox_message(delivery=delivery)
    response = login(make.admin()).post(f"/admin/outbox/{message.id}/resend", follow_redirects=True)
    assert refusal in response.get_data(as_text=True)
    db.session.refresh(message)
    assert message.delivery == delivery


def test_a_message_a_delivery_run_is_sending_cannot_be_cancelled(app, make, login):
    message = make.outbox_message(delivery="queued")
    now = utcnow()
    [claimed] = outbox._claim(now, 10, now + timedelta(minutes=5))  # a run holds it, mid-send
    response = login(make.admin()).post(f"/admin/outbox/{claimed.id}/cancel", follow_redirects=True)
    assert "This message is being sent right now. Look again in a minute." in response.get_data(as_text=True)
    db.session.refresh(message)
    assert message.delivery == "queued"


def test_cancel_and_resend_need_a_csrf_token(app, make, login):
    message = make.outbox_message(delivery="failed")
    client = login(make.admin())
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for action in ("cancel", "resend"):
            client.post(f"/admin/outbox/{message.id}/{action}")
            db.session.refresh(message)
            assert message.delivery == "failed", action
        page = client.get("/admin/outbox").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post(f"/admin/outbox/{message.id}/cancel", data={"csrf_token": token}).status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    db.session.refresh(message)
    assert message.delivery == "cancelled"


@pytest.mark.parametrize("kind", ["startup", "cluster", "hub", "funder"])
def test_only_programme_admins_may_cancel_or_resend(make, login, kind):
    message = make.outbox_message(delivery="failed")
    client = login(make.member(kind))
    for action in ("cancel", "resend"):
        assert client.post(f"/admin/outbox/{message.id}/{action}").status_code == 403
    db.session.refresh(message)
    assert message.delivery == "failed"


def test_an_unknown_message_is_404(make, login):
    client = login(make.admin())
    assert client.post("/admin/outbox/424242/cancel").status_code == 404
    assert client.post("/admin/outbox/424242/resend").status_code == 404
