"""A startup's application to a residency call."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import Organisation, User, _in
from .base import UTCDateTime, utcnow
from .programme import Call

APPLICATION_STATES = (
    "draft",
    "submitted",
    "under_review",
    "changes_requested",
    "nominated",
    "not_nominated",
    "withdrawn",
)


class Application(db.Model):
    __tablename__ = "application"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), index=True)
    startup_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[str] = mapped_column(String(32), default="draft")
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    call: Mapped[Call] = relationship(lazy="joined")
    startup: Mapped[Organisation] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint(_in("status", APPLICATION_STATES), name="status"),)
