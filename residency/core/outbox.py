"""The outbox: every e-mail is a row first, delivered later over SMTP.

``enqueue`` is called inside the caller's transaction and is idempotent on its
dedup key. ``deliver_due`` sends what is due, each message settled on its own:
a transient failure is retried with exponential backoff, a permanent one (or the
last attempt) marks the message failed, visible to administrators, who can
cancel or resend it.
"""
from __future__ import annotations

import logging
import re
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale, get_translations
from residency.core.i18n import lazy_gettext as _l
from residency.core.i18n import ngettext
from flask_mail import BadHeaderError, Connection, Message
from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.dialects import postgresql, sqlite

from residency.core.extensions import db, mail
from residency.core.errors import Conflict
from residency.core.i18n import format_in_zone
from residency.core.outbox_models import CANCELLABLE, RESENDABLE, OutboxAction, OutboxMessage
from residency.core.uow import in_unit_of_work, service, unit_of_work
from residency.core.db import utcnow

log = logging.getLogger(__name__)

# The subject of each e-mail template; the bodies live in templates/emails/.
SUBJECTS = {
    "invitation": _l("You are invited to the Nordic Residency Exchange"),
    "password_reset": _l("Reset your password"),
    "join_request": _l("%(name)s asks to join %(organisation)s"),
    "join_decided": _l("Your request to join %(organisation)s"),
    "application_submitted": _l("We have received the application of %(startup_name)s to “%(call_title)s”"),
    "application_changes_requested": _l("Changes requested to the application of %(startup_name)s to “%(call_title)s”"),
    "decision_nominated": _l("%(startup_name)s is nominated for a residency at %(hub_name)s (“%(call_title)s”)"),
    "decision_not_nominated": _l("The decision on the application of %(startup_name)s to “%(call_title)s”"),
    "placement_offered": _l("%(hub_name)s offers %(startup_name)s a residency (“%(call_title)s”)"),
    "placement_offer_amended": _l("%(hub_name)s has changed its offer to %(startup_name)s"),
    "placement_offer_withdrawn": _l("%(hub_name)s has withdrawn its offer to %(startup_name)s"),
    "placement_waitlisted": _l("%(startup_name)s is on the waiting list at %(hub_name)s"),
    "placement_rejected": _l("%(hub_name)s cannot offer %(startup_name)s a residency"),
    "placement_accepted": _l("%(startup_name)s accepted your offer"),
    "placement_declined": _l("%(startup_name)s declined your offer"),
    "placement_lapsed": _l("The offer to %(startup_name)s has expired"),
    "placement_terminated": _l("The residency of %(startup_name)s has ended"),
    # A subject that counts is a function of the context, so its plural follows the count (messages
    # queued before the context carried the count read the offset of their day).
    "placement_offer_expiring": lambda ctx: _counted("Your offer from %(hub_name)s expires in %(num)s day",
                                                     "Your offer from %(hub_name)s expires in %(num)s days", ctx, "days", 3),
    "residency_starting": lambda ctx: _counted("Your residency at %(hub_name)s starts in %(num)s day",
                                               "Your residency at %(hub_name)s starts in %(num)s days", ctx, "days", 14),
    "residency_ending": lambda ctx: _counted("Your residency at %(hub_name)s ends in %(num)s day",
                                             "Your residency at %(hub_name)s ends in %(num)s days", ctx, "days", 30),
    "funding_submitted": _l("%(funder_name)s has received your funding application"),
    "funding_granted": _l("%(funder_name)s grants %(startup_name)s funding"),
    "funding_rejected": _l("The decision on your funding application to %(funder_name)s"),
    "funding_changes_requested": _l("%(funder_name)s asks for changes to your funding application"),
    "funding_offer_accepted": _l("%(startup_name)s accepted the grant offer"),
    "funding_offer_declined": _l("%(startup_name)s declined the grant offer"),
    "funding_offer_lapsed": _l("The grant offer from %(funder_name)s has expired"),
    "funding_offer_expiring": lambda ctx: _counted("The grant offer from %(funder_name)s expires in %(num)s day",
                                                   "The grant offer from %(funder_name)s expires in %(num)s days",
                                                   ctx, "days", 3),
    "funding_instalment_paid": _l("%(funder_name)s has paid an instalment"),
    "report_due": lambda ctx: _counted("A report to %(funder_name)s is due in %(num)s day",
                                       "A report to %(funder_name)s is due in %(num)s days", ctx, "days", 14),
    "report_overdue": _l("A report to %(funder_name)s is overdue"),
    "report_returned": _l("%(funder_name)s returned your report for changes"),
    "digest": _l("Your reminders from the Nordic Residency Exchange"),
    "call_closing": _l("The call %(call_title)s closes on %(due_text)s"),
    "change_request_due": _l("Please answer the change request by %(due_text)s"),
    # A subject that counts is a function of the context, so its plural follows the count.
    "reviews_due": lambda ctx: ngettext("You have %(num)s application to score before the nomination deadline",
                                        "You have %(num)s applications to score before the nomination deadline",
                                        _count(ctx.get("count"))),
    "nomination_deadline": lambda ctx: _counted("The nomination deadline of %(call_title)s is in %(num)s day",
                                                "The nomination deadline of %(call_title)s is in %(num)s days", ctx, "days"),
    "hub_waiting": _l("Nominees are waiting for a placement decision"),
    "funding_pending": lambda ctx: _counted("A funding application has waited over %(num)s day for a decision",
                                            "A funding application has waited over %(num)s days for a decision", ctx, "days"),
    "impact_survey_due": lambda ctx: _counted("Please tell us how you are doing, %(num)s month after your residency",
                                              "Please tell us how you are doing, %(num)s months after your residency",
                                              ctx, "months"),
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


def render(message) -> Message:
    """Render the plain-text and HTML bodies in the recipient's language; headers carry no control characters."""
    ctx = dict(message.context or {})
    ctx.setdefault("base_url", current_app.config["PUBLIC_BASE_URL"].rstrip("/"))
    with force_locale(message.language or "en"):
        ctx = _in_reader_language(ctx)
        subject = _subject(message.template, ctx)
        body = render_template(f"emails/{message.template}.txt", **ctx)
        html = render_template(f"emails/{message.template}.html", **ctx)
    return Message(subject=header_safe(subject), recipients=[_CONTROL.sub("", message.recipient).strip()], body=body,
                   html=html, extra_headers={"X-Residency-Dedup": header_safe(message.dedup_key),
                                          # The language the reader gets it in (RFC 3282).
                                          "Content-Language": header_safe(message.language or "en")})


# C0 and C1 controls and the Unicode line and paragraph separators: stored names may hold them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def header_safe(value: str) -> str:
    """One line of text fit for a mail header: control characters become single spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


class _Defaulting(dict):
    def __missing__(self, key):
        return ""


def _in_reader_language(ctx: dict) -> dict:
    """A reminder's moment (due_at, due_zone) written in the current language: reminders are queued by the
    scheduler, whose language is the default, and read in their recipient's."""
    if ctx.get("due_at") and ctx.get("due_zone"):
        try:
            ctx["due_text"] = format_in_zone(datetime.fromisoformat(ctx["due_at"]), ctx["due_zone"])
        except (TypeError, ValueError, KeyError):  # an unknown zone or a damaged value: the stored text stands
            pass
    return ctx


def _subject(template: str, ctx: dict) -> str:
    subject = SUBJECTS[template]
    return subject(ctx) if callable(subject) else str(subject) % _subject_args(ctx)


def _counted(singular: str, plural: str, ctx: dict, key: str, default: int = 0) -> str:
    """A subject in the plural its count asks for (``ctx[key]``), with the context's other values filled in."""
    count = _count(ctx.get(key, default))
    args = _subject_args(ctx)
    args["num"] = count
    # Found by `make extract-messages` (its keyword _counted:1,2); missing values read as blanks, as elsewhere.
    return get_translations().ungettext(singular, plural, count) % args


def _count(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _subject_args(ctx: dict) -> dict:
    return _Defaulting({k: v for k, v in ctx.items() if isinstance(v, (str, int))})


# ------------------------------------------------------------------- delivery
#
# A run claims a batch in one short unit (a lease: ``claimed_until``), sends outside any
# transaction, and settles each message in a unit of its own right after its SMTP reply.
# Failures are counted per message and never stop the run:
# - transient (the server down, slow or saying 4xx): retried with backoff, failed after
#   OUTBOX_MAX_ATTEMPTS attempts;
# - permanent (rendering, a bad header, a 5xx refusal of this recipient or message, any other
#   error): failed after the first attempt; an administrator resends it once it is fixed.
# Sending is at least once: a run that dies between an SMTP send and its mark re-sends that
# one message when its lease has passed.

ERROR_LENGTH = 1000


class _TimedConnection(Connection):
    """Flask-Mail's connection, opened with MAIL_TIMEOUT (Flask-Mail 0.10 passes no timeout to smtplib)."""

    def configure_host(self):
        timeout = current_app.config["MAIL_TIMEOUT"]
        smtp = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp(self.mail.server, self.mail.port, timeout=timeout)
        host.set_debuglevel(int(self.mail.debug))
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


class _Courier:
    """One SMTP connection for a run, opened when first needed and dropped when it breaks."""

    def __init__(self):
        self.connection: _TimedConnection | None = None
        self.delivered = 0  # over the current connection

    def open(self) -> None:
        connection = _TimedConnection(current_app.extensions["mail"])
        connection.__enter__()
        self.connection, self.delivered = connection, 0

    def send(self, message: Message) -> None:
        self.connection.send(message)
        self.delivered += 1

    def drop(self, politely: bool = False) -> None:
        host = self.connection.host if self.connection is not None else None
        self.connection = None
        if host is None:
            return
        try:
            host.quit() if politely else host.close()
        except (OSError, smtplib.SMTPException):
            host.close()


@dataclass(frozen=True)
class _Claimed:
    """What a run needs of a claimed message, read in the claim so sending needs no transaction."""

    id: int
    recipient: str
    template: str
    context: dict
    language: str
    dedup_key: str
    attempts: int
    next_attempt_at: datetime
    claimed_until: datetime


def _server_trouble(error: Exception) -> bool:
    """The connection is gone or the server is not answering (nothing else would go over it now)."""
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421
    if isinstance(error, smtplib.SMTPException):  # a subclass of OSError: the server answered
        return isinstance(error, smtplib.SMTPServerDisconnected)
    return isinstance(error, OSError)


def _permanent(error: Exception) -> bool:
    """A retry would fail the same way: this message, not the server, is the problem."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _reply in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return not isinstance(error, (OSError, smtplib.SMTPException))


def describe(error: Exception) -> str:
    """The error as an administrator reads it in the outbox, bounded."""
    text = " ".join(str(error).split())
    return (f"{type(error).__name__}: {text}" if text else type(error).__name__)[:ERROR_LENGTH]


def deliver_due(now: datetime | None = None, limit: int | None = None) -> dict:
    """Send the queued messages that are due; return counts of sent, retried and failed."""
    if in_unit_of_work():
        raise RuntimeError("deliver_due talks to the SMTP server: call it outside any unit of work")
    now = now or utcnow()
    config = current_app.config
    lease = config["OUTBOX_LEASE_SECONDS"]
    batch = _claim(now, limit or config["OUTBOX_BATCH_SIZE"], now + timedelta(seconds=lease))
    counts = {"sent": 0, "retried": 0, "failed": 0}
    # Start no send that could outlast the lease: another run may take the message after it.
    stop_at = time.monotonic() + max(lease / 2, lease - 4 * config["MAIL_TIMEOUT"])
    courier = _Courier()
    try:
        for position, item in enumerate(batch):
            if time.monotonic() > stop_at:
                _release(batch[position:])
                break
            try:
                message = render(item)
            except Exception as error:  # noqa: BLE001 - a message that cannot be rendered fails alone
                counts[_record_failure(item, error, now, permanent=True)] += 1
                continue
            if courier.connection is None:
                try:
                    courier.open()
                except Exception as error:  # noqa: BLE001 - down, stalled or refusing: nothing goes now
                    for rest in batch[position:]:
                        counts[_record_failure(rest, error, now, permanent=False)] += 1
                    break
            try:
                courier.send(message)
            except Exception as error:  # noqa: BLE001 - one message's failure never stops the run
                counts[_record_failure(item, error, now, permanent=_permanent(error))] += 1
                if _server_trouble(error):
                    fresh = courier.delivered == 0
                    courier.drop()
                    if fresh:  # not even one message went over a new connection: try again later
                        for rest in batch[position + 1:]:
                            counts[_record_failure(rest, error, now, permanent=False)] += 1
                        break
                elif not isinstance(error, (smtplib.SMTPException, BadHeaderError)):
                    courier.drop()  # the connection's state is unknown: the next message gets a new one
            else:
                _settle(item, delivery="sent", attempts=item.attempts + 1, sent_at=utcnow(), last_attempt_at=utcnow(),
                        last_error=None)
                counts["sent"] += 1
    finally:
        courier.drop(politely=True)
    return counts


def _claim(now: datetime, limit: int, until: datetime) -> list[_Claimed]:
    """Lease a batch of due messages in one statement, so two runs never take the same one.

    PostgreSQL skips rows another run is claiming; SQLite runs one writer at a time."""
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.delivery == "queued", OutboxMessage.next_attempt_at <= now,
               or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    t = OutboxMessage.__table__
    with unit_of_work():
        rows = db.session.execute(
            update(t)
            .where(t.c.id.in_(due), t.c.delivery == "queued",
                   or_(t.c.claimed_until.is_(None), t.c.claimed_until <= now))
            .values(claimed_until=until)
            .returning(t.c.id, t.c.recipient, t.c.template, t.c.context, t.c.language, t.c.dedup_key, t.c.attempts,
                       t.c.next_attempt_at)
        ).all()
    claimed = [_Claimed(*row, claimed_until=until) for row in rows]
    return sorted(claimed, key=lambda c: (c.next_attempt_at, c.id))


def _settle(item: _Claimed, **values) -> None:
    """Record what became of one claimed message, in a unit of its own, and let go of it."""
    t = OutboxMessage.__table__
    with unit_of_work():
        db.session.execute(update(t).where(t.c.id == item.id, t.c.claimed_until == item.claimed_until)
                           .values(claimed_until=None, **values))


def _record_failure(item: _Claimed, error: Exception, now: datetime, *, permanent: bool) -> str:
    """Count the attempt and keep the error; retry later, or fail for good. Returns the count it adds to."""
    attempts = item.attempts + 1
    failed = permanent or attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]
    values = dict(attempts=attempts, last_error=describe(error), last_attempt_at=utcnow())
    if failed:
        values["delivery"] = "failed"
    else:
        backoff = current_app.config["OUTBOX_BACKOFF_SECONDS"]
        values["next_attempt_at"] = now + timedelta(seconds=backoff * 2 ** (attempts - 1))
    _settle(item, **values)
    log.warning("outbox delivery failed", extra={"outbox_id": item.id, "attempts": attempts, "error": values["last_error"],
                                                 "permanent": failed})
    return "failed" if failed else "retried"


def _release(items: list[_Claimed]) -> None:
    """Give unsent claimed messages back at once (the run stopped before their turn)."""
    t = OutboxMessage.__table__
    with unit_of_work():
        for item in items:
            db.session.execute(update(t).where(t.c.id == item.id, t.c.claimed_until == item.claimed_until)
                               .values(claimed_until=None))


# ------------------------------------------------------------ cancel and resend


def _read_delivery(message_id: int) -> str | None:
    t = OutboxMessage.__table__
    return db.session.scalar(select(t.c.delivery).where(t.c.id == message_id))


def _record_action(message_id: int, action: str, actor_id: int | None, before: str, now: datetime) -> None:
    db.session.add(OutboxAction(message_id=message_id, action=action, actor_id=actor_id, delivery_before=before,
                                created_at=now))
    log.info("outbox %s", action, extra={"outbox_id": message_id, "actor_id": actor_id, "delivery_before": before})


@service
def resend(message_id: int, now: datetime | None = None, actor_id: int | None = None) -> None:
    """Queue a failed, cancelled or sent message again, at once, with its attempts reset; the
    resend is recorded with who asked. The change is a compare-and-set on the state read, so of two
    administrators resending at once one wins and the other is told."""
    now = now or utcnow()
    t = OutboxMessage.__table__
    before = _read_delivery(message_id)
    result = db.session.execute(
        update(t).where(t.c.id == message_id, t.c.delivery == before, t.c.delivery.in_(RESENDABLE))
        .values(delivery="queued", attempts=0, next_attempt_at=now, last_error=None, claimed_until=None))
    if result.rowcount != 1:
        if _read_delivery(message_id) == "queued":
            raise Conflict(_l("This message is already waiting to be sent."))
        raise Conflict(_l("Only a failed, cancelled or sent message can be sent again."))
    _record_action(message_id, "resend", actor_id, before, now)


@service
def cancel(message_id: int, now: datetime | None = None, actor_id: int | None = None) -> None:
    """Stop a queued or failed message for good; one a delivery run is sending now is refused. The
    cancel is recorded with who asked (a compare-and-set, as ``resend``)."""
    now = now or utcnow()
    t = OutboxMessage.__table__
    before = _read_delivery(message_id)
    result = db.session.execute(
        update(t).where(t.c.id == message_id, t.c.delivery == before, t.c.delivery.in_(CANCELLABLE),
                        or_(t.c.claimed_until.is_(None), t.c.claimed_until <= now))
        .values(delivery="cancelled", claimed_until=None))
    if result.rowcount != 1:
        delivery = _read_delivery(message_id)
        if delivery == "queued":
            raise Conflict(_l("This message is being sent right now. Look again in a minute."))
        if delivery == "sent":
            raise Conflict(_l("This message was sent already; it cannot be cancelled."))
        raise Conflict(_l("Only a queued or failed message can be cancelled."))
    _record_action(message_id, "cancel", actor_id, before, now)


def actions_of(message_id: int) -> list[OutboxAction]:
    """Who cancelled or resent the message, and when, oldest first."""
    return list(db.session.scalars(select(OutboxAction).where(OutboxAction.message_id == message_id)
                                   .order_by(OutboxAction.id).options(selectinload(OutboxAction.actor))))


@dataclass(frozen=True)
class Preview:
    subject: str
    text: str
    html: str
    problem: str | None = None


def preview(message) -> Preview:
    """The message as its recipient would read it, rendered now in their language (nothing is sent);
    one that cannot be written says why."""
    try:
        rendered = render(message)
    except Exception as error:  # noqa: BLE001 - a broken message still gets its page
        return Preview(subject=display_subject(message), text="", html="", problem=describe(error))
    return Preview(subject=rendered.subject, text=rendered.body or "", html=rendered.html or "")


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
    return _subject(template, _in_reader_language(dict(context or {})))


def display_subject(message) -> str:
    """The subject as the recipient reads it, for the admin outbox; blank if it cannot be rendered."""
    try:
        with force_locale(message.language or "en"):
            return header_safe(subject_of(message.template, message.context))
    except Exception:  # noqa: BLE001 - a broken message still gets its row on the page
        return ""
