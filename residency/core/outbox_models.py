"""Outgoing e-mail, written in the same transaction as what caused it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from residency.core.extensions import db
from residency.core.db import UTCDateTime, in_values, utcnow

# queued → sent | failed; optional reminders of a digest reader wait as "held" until the
# daily digest carries them ("digested"); those of a reader who switched them off are "muted".
# An administrator cancels a queued or failed message, and resends a failed, cancelled or sent one.
DELIVERY_STATES = ("queued", "sent", "failed", "held", "digested", "muted", "cancelled")
CANCELLABLE = ("queued", "failed")
RESENDABLE = ("failed", "cancelled", "sent")


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A unique key per message makes enqueueing idempotent: a rerun writes nothing new.
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    template: Mapped[str] = mapped_column(String(64))
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(5), default="en")
    delivery: Mapped[str] = mapped_column(String(10), default="queued")
    # Optional reminders follow the reader's choice (at once, daily digest, or not by e-mail).
    optional: Mapped[bool] = mapped_column(default=False, server_default=false())
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A delivery run owns the message until then; a run that died lets it go when it passes.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")  # accounts defines User

    @property
    def can_cancel(self) -> bool:
        return self.delivery in CANCELLABLE

    @property
    def can_resend(self) -> bool:
        return self.delivery in RESENDABLE

    __table_args__ = (
        CheckConstraint(in_values("delivery", DELIVERY_STATES), name="delivery"),
        Index("ix_outbox_message_due", "delivery", "next_attempt_at"),
        Index("ix_outbox_message_user_created", "user_id", "created_at"),
        # The admin outbox, newest first, a keyset page at a time: all messages, or those of one delivery state.
        Index("ix_outbox_message_created", "created_at", "id"),
        Index("ix_outbox_message_delivery_created", "delivery", "created_at", "id"),
    )


OUTBOX_ACTIONS = ("cancel", "resend")


class OutboxAction(db.Model):
    """An administrator's cancel or resend of a message: who, when, and the delivery state it changed."""

    __tablename__ = "outbox_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    delivery_before: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("User")  # accounts defines User

    __table_args__ = (
        CheckConstraint(in_values("action", OUTBOX_ACTIONS), name="action"),
        Index("ix_outbox_action_message", "message_id", "id"),
    )
