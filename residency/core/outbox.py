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
from sqlalchemy.orm import selectinload
from sqlalchemy.dialects import postgresql, sqlite

from residency.core.extensions import db, mail
from residency.core.outbox_models import OutboxMessage
from residency.core.uow import service
from residency.core.db import utcnow

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
    "placement_offered": _l("%(hub_name)s offers %(startup_name)s a residency"),
    "placement_waitlisted": _l("%(startup_name)s is on the waiting list at %(hub_name)s"),
    "placement_rejected": _l("%(hub_name)s cannot offer %(startup_name)s a residency"),
    "placement_accepted": _l("%(startup_name)s accepted your offer"),
    "placement_declined": _l("%(startup_name)s declined your offer"),
    "placement_lapsed": _l("The offer to %(startup_name)s has expired"),
    "placement_terminated": _l("The residency of %(startup_name)s has ended"),
    "placement_offer_expiring": _l("Your offer from %(hub_name)s expires in 3 days"),
    "residency_starting": _l("Your residency at %(hub_name)s starts in 14 days"),
    "residency_ending": _l("Your residency at %(hub_name)s ends in 30 days"),
    "funding_submitted": _l("%(funder_name)s has received your funding application"),
    "funding_granted": _l("%(funder_name)s grants %(startup_name)s funding"),
    "funding_rejected": _l("The decision on your funding application to %(funder_name)s"),
    "funding_changes_requested": _l("%(funder_name)s asks for changes to your funding application"),
    "funding_offer_accepted": _l("%(startup_name)s accepted the grant offer"),
    "funding_offer_lapsed": _l("The grant offer from %(funder_name)s has expired"),
    "funding_offer_expiring": _l("The grant offer from %(funder_name)s expires in 3 days"),
    "funding_instalment_paid": _l("%(funder_name)s has paid an instalment"),
    "report_due": _l("A report to %(funder_name)s is due in 14 days"),
    "report_overdue": _l("A report to %(funder_name)s is overdue"),
    "report_returned": _l("%(funder_name)s returned your report for changes"),
    "digest": _l("Your reminders from the Nordic Residency Exchange"),
    "call_closing": _l("The call %(call_title)s closes on %(due_text)s"),
    "change_request_due": _l("Please answer the change request by %(due_text)s"),
    "reviews_due": _l("You have %(count)s applications to score before the nomination deadline"),
    "nomination_deadline": _l("The nomination deadline of %(call_title)s is in %(days)s days"),
    "hub_waiting": _l("Nominees are waiting for a placement decision"),
    "funding_pending": _l("A funding application has waited over %(days)s days for a decision"),
    "impact_survey_due": _l("Please tell us how you are doing, %(months)s months after your residency"),
}


def enqueue(*, recipient, template: str, context: dict, dedup_key: str, language: str | None = None,
            optional: bool = False, now: datetime | None = None) -> None:
    """Queue one e-mail to a user (or a bare address); a second call with the same dedup key writes nothing.

    An optional reminder follows the reader's choice: at once, held for the daily
    digest, or muted (kept for the notifications page, never e-mailed).
    """
    if template not in SUBJECTS:
        raise ValueError(f"unknown e-mail template {template!r}")
    user_id = None
    delivery = "queued"
    if not isinstance(recipient, str):  # a user: their address, language and reminder choice
        if optional:
            delivery = {"digest": "held", "off": "muted"}.get(recipient.reminder_delivery, "queued")
        user_id, language, recipient = recipient.id, language or recipient.language, recipient.email
    now = now or utcnow()
    values = dict(
        dedup_key=dedup_key,
        recipient=recipient,
        user_id=user_id,
        template=template,
        context=context,
        language=language or "en",
        delivery=delivery,
        optional=optional,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"]))


def enqueue_many(messages: list[dict], now: datetime | None = None) -> None:
    """Queue many e-mails in one statement (reminder sweeps); duplicates by dedup key are skipped.

    Each item: recipient (User), template, context, dedup_key, optional.
    """
    if not messages:
        return
    now = now or utcnow()
    rows = []
    for m in messages:
        user, optional = m["recipient"], m.get("optional", False)
        delivery = {"digest": "held", "off": "muted"}.get(user.reminder_delivery, "queued") if optional else "queued"
        rows.append(dict(dedup_key=m["dedup_key"], recipient=user.email, user_id=user.id, template=m["template"],
                         context=m["context"], language=user.language or "en", delivery=delivery, optional=optional,
                         attempts=0, next_attempt_at=now, created_at=now))
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # One statement compiled once, sent with the rows as parameters (batched by the driver).
    db.session.connection().execute(insert(OutboxMessage.__table__).on_conflict_do_nothing(index_elements=["dedup_key"]), rows)


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


@service
def deliver_due(now: datetime | None = None, limit: int | None = None) -> dict:
    """Send the queued messages that are due; return counts of sent, retried and failed.

    One unit of work for the batch: on PostgreSQL its rows stay locked (skip locked) until the
    run commits, so two runs at once never take the same message."""
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
    return counts


@service
def resend(message_id: int) -> None:
    """Queue a failed (or sent) message again, at once."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(delivery="queued", attempts=0, next_attempt_at=utcnow(), last_error=None)
    )


@service
def send_digests(now: datetime | None = None) -> int:
    """One e-mail a day per reader who chose the digest, carrying their held reminders."""
    now = now or utcnow()
    held = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.delivery == "held").order_by(
        OutboxMessage.user_id, OutboxMessage.id).options(selectinload(OutboxMessage.user))))
    by_user: dict[int, list[OutboxMessage]] = {}
    for message in held:
        by_user.setdefault(message.user_id, []).append(message)
    users = {m.user_id: m.user for m in held}
    sent = 0
    for user_id, messages in by_user.items():
        user = users.get(user_id)
        if user is None:
            continue
        key = f"digest:user-{user_id}:{now.date().isoformat()}"
        if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == key)) is not None:
            continue  # today's digest went already; these wait for tomorrow's
        items = [{"template": m.template, "context": m.context} for m in messages]
        enqueue(recipient=user, template="digest", context={"items": items, "date": now.date().isoformat()}, dedup_key=key,
                now=now)
        for message in messages:
            message.delivery = "digested"
        sent += 1
    return sent


def subject_of(template: str, context: dict) -> str:
    """The subject line of a message in the current language (for digests and the notifications page)."""
    return str(SUBJECTS[template]) % _subject_args(dict(context or {}))
