"""The audit trail: one row for every status change."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from residency.core.extensions import db
from residency.core.db import UTCDateTime, utcnow


class StatusChange(db.Model):
    __tablename__ = "status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int]
    from_state: Mapped[str] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    # NULL actor means the scheduler acted.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # Why staff did it; shown to the applicant only where the transition says so.
    reason: Mapped[str | None] = mapped_column(Text)
    # A message for the applicant (e.g. the words of a decline), shown with the entry.
    note: Mapped[str | None] = mapped_column(Text)
    visible_to_applicant: Mapped[bool] = mapped_column(default=True)
    forced: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("User")  # the engine names no domain model; accounts defines User

    __table_args__ = (
        Index("ix_status_change_record", "workflow", "record_id", "id"),
        # When each record of a workflow first entered a state (its first submission, its first
        # decision), read from the index alone, without reading the whole trail.
        Index("ix_status_change_transition", "workflow", "to_state", "record_id", "created_at"),
    )
