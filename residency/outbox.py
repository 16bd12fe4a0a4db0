"""The outbox: every e-mail is a row first, delivered later over SMTP.

``enqueue`` is called inside the caller's transaction and is idempotent on its
dedup key. ``deliver_due`` sends what is due, retrying with exponential backoff;
after the last attempt a message is marked failed and stays visible to
administrators, who can resend it.
"""
from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_mail import Message
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db, mail
from .models import OutboxMessage, User, utcnow

log = logging.getLogger(__name__)

# The subject of each e-mail template; the bodies live in templates/emails/.
SUBJECTS = {
    "invitation": _l("You are invited to the Nordic Residency Exchange"),
    "password_reset": _l("Reset your password"),
    "join_request": _l("%(name)s asks to join %(organisation)s"),
    "join_decided": _l("Your request to join %(organisation)s"),
    "application_submitted": _l("We have received your application"),
    "application_changes_requested": _l("Changes requested to your application"),
    "decision_nominated": _l("You are nominated for a residency at %(hub_name)s"),
    "decision_not_nominated": _l("The decision on your application to %(call_title)s"),
}


def enqueue(*, recipient: User | str, template: str, context: dict, dedup_key: str, language: str | None = None) -> None:
    """Queue one e-mail; a second call with the same dedup key writes nothing."""
    if template not in SUBJECTS:
        raise ValueError(f"unknown e-mail template {template!r}")
    user_id = None
    if isinstance(recipient, User):
        user_id, language, recipient = recipient.id, language or recipient.language, recipient.email
    now = utcnow()
    values = dict(
        dedup_key=dedup_key,
        recipient=recipient,
        user_id=user_id,
        template=template,
        context=context,
        language=language or "en",
        delivery="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"]))


def render(message: OutboxMessage) -> Message:
    """Render the plain-text and HTML bodies in the recipient's language."""
    ctx = dict(message.context or {})
    ctx.setdefault("base_url", current_app.config["PUBLIC_BASE_URL"].rstrip("/"))
    with force_locale(message.language or "en"):
        subject = str(SUBJECTS[message.template]) % _subject_args(ctx)
        body = render_template(f"emails/{message.template}.txt", **ctx)
        html = render_template(f"emails/{message.template}.html", **ctx)
    return Message(subject=subject, recipients=[message.recipient], body=body, html=html,
                   extra_headers={"X-Residency-Dedup": message.dedup_key})


class _Defaulting(dict):
    def __missing__(self, key):
        return ""


def _subject_args(ctx: dict) -> dict:
    return _Defaulting({k: v for k, v in ctx.items() if isinstance(v, (str, int))})


def deliver_due(now: datetime | None = None, limit: int | None = None) -> dict:
    """Send the queued messages that are due; return counts of sent, retried and failed."""
    now = now or utcnow()
    limit = limit or current_app.config["OUTBOX_BATCH_SIZE"]
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    backoff = current_app.config["OUTBOX_BACKOFF_SECONDS"]
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.delivery == "queued", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Two delivery runs at once each take different rows.
        stmt = stmt.with_for_update(skip_locked=True)
    batch = list(db.session.scalars(stmt))
    counts = {"sent": 0, "retried": 0, "failed": 0}
    if not batch:
        db.session.commit()
        return counts
    try:
        connection = mail.connect()
        connection.__enter__()
    except (OSError, smtplib.SMTPException) as exc:
        connection = None
        connect_error = exc
    for message in batch:
        try:
            if connection is None:
                raise connect_error
            connection.send(render(message))
        except (OSError, smtplib.SMTPException) as exc:
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= max_attempts:
                message.delivery = "failed"
                counts["failed"] += 1
            else:
                message.next_attempt_at = now + timedelta(seconds=backoff * 2 ** (message.attempts - 1))
                counts["retried"] += 1
            log.warning("outbox delivery failed", extra={"outbox_id": message.id, "attempts": message.attempts})
        else:
            message.attempts += 1
            message.delivery = "sent"
            message.sent_at = utcnow()
            message.last_error = None
            counts["sent"] += 1
    if connection is not None:
        try:
            connection.__exit__(None, None, None)
        except (OSError, smtplib.SMTPException):
            pass
    db.session.commit()
    return counts


def resend(message_id: int) -> None:
    """Queue a failed (or sent) message again, at once."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(delivery="queued", attempts=0, next_attempt_at=utcnow(), last_error=None)
    )
    db.session.commit()
