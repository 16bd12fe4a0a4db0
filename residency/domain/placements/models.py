"""Placements: a nominated startup's residency at the host hub."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from residency.core.extensions import db
from residency.domain.accounts.models import Organisation
from residency.domain.applications.models import Application
from residency.core.db import UTCDateTime, in_values, utcnow

PLACEMENT_STATES = ("pending", "offered", "waitlisted", "rejected", "accepted", "declined", "lapsed", "active",
                    "completed", "terminated", "cancelled")
# States in which the placement holds (or has held) dates, desks and benches.
DATED_STATES = ("offered", "accepted", "active", "completed", "terminated")


class Placement(db.Model):
    __tablename__ = "placement"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), unique=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # The application's call, which never changes: the hub's lists order and group placements by
    # their call without reading the application table.
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    desks: Mapped[int | None]
    benches: Mapped[int | None]
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conditions: Mapped[str | None] = mapped_column(Text)
    checked_in_on: Mapped[date | None]
    checked_out_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    application: Mapped[Application] = relationship()
    hub: Mapped[Organisation] = relationship()

    __table_args__ = (
        CheckConstraint(in_values("status", PLACEMENT_STATES), name="status"),
        CheckConstraint(
            f"status NOT IN ({', '.join(repr(s) for s in DATED_STATES)}) OR "
            "(starts_on IS NOT NULL AND ends_on IS NOT NULL AND desks IS NOT NULL AND benches IS NOT NULL)",
            name="offered_has_dates",
        ),
        CheckConstraint("status != 'offered' OR offer_expires_at IS NOT NULL", name="offer_has_expiry"),
        CheckConstraint("starts_on IS NULL OR ends_on IS NULL OR starts_on <= ends_on", name="dates_in_order"),
        CheckConstraint("(desks IS NULL OR desks >= 0) AND (benches IS NULL OR benches >= 0)", name="space_non_negative"),
        Index("ix_placement_hub_status", "hub_id", "status"),
        Index("ix_placement_hub_call_status", "hub_id", "call_id", "status"),
    )
