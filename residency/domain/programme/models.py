"""Routes between countries and hubs, residency calls and hub capacity."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from residency.core.extensions import db
from residency.domain.accounts.models import COUNTRIES, Organisation
from residency.core.db import UTCDateTime, in_values, utcnow

ROUTE_STATES = ("open", "closed")
CALL_STATES = ("draft", "published", "closed", "archived")

route_funder = Table(
    "route_funder",
    db.metadata,
    Column("route_id", ForeignKey("route.id", ondelete="CASCADE"), primary_key=True),
    Column("funder_id", ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
)


class Route(db.Model):
    """Startups of a home country reside at a host hub, nominated by a cluster."""

    __tablename__ = "route"

    id: Mapped[int] = mapped_column(primary_key=True)
    home_country: Mapped[str] = mapped_column(String(2))
    host_hub_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A closed route takes no new calls; the calls it has run to their end (see programme.workflow).
    status: Mapped[str] = mapped_column(String(16), default="open")

    host_hub: Mapped[Organisation] = relationship(foreign_keys=[host_hub_id])
    cluster: Mapped[Organisation] = relationship(foreign_keys=[cluster_id])
    funders: Mapped[list[Organisation]] = relationship(secondary=route_funder)
    calls: Mapped[list["Call"]] = relationship(back_populates="route")

    __table_args__ = (
        UniqueConstraint("home_country", "host_hub_id"),
        CheckConstraint(in_values("home_country", COUNTRIES), name="home_country"),
        CheckConstraint(in_values("status", ROUTE_STATES), name="status"),
    )


class Call(db.Model):
    """A residency call on a route, open between two moments in its own time zone."""

    __tablename__ = "call"

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("route.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    nomination_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    decision_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    seats: Mapped[int]
    residency_starts_on: Mapped[date]
    residency_ends_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # Nomination and decline e-mails wait until the cluster releases the call's decisions.
    decisions_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The reviewers' comments for the startup go into its decision e-mail (they are on its page either way).
    feedback_in_decision_email: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    route: Mapped[Route] = relationship(back_populates="calls")
    criteria: Mapped[list["Criterion"]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="Criterion.position"
    )

    __table_args__ = (
        CheckConstraint(in_values("status", CALL_STATES), name="status"),
        CheckConstraint("opens_at < closes_at", name="opens_before_closes"),
        CheckConstraint("closes_at <= nomination_deadline", name="closes_before_nomination"),
        CheckConstraint("nomination_deadline <= decision_deadline", name="nomination_before_decision"),
        CheckConstraint("seats > 0", name="seats_positive"),
        CheckConstraint("residency_starts_on < residency_ends_on", name="residency_window"),
    )

    def is_open(self, now: datetime) -> bool:
        return self.status == "published" and self.opens_at <= now < self.closes_at

    @property
    def paragraphs(self) -> list[str]:
        """The description's paragraphs (separated by an empty line, whatever line endings it was typed with)."""
        return [p.strip() for p in _PARAGRAPH_BREAK.split(normalise_newlines(self.description)) if p.strip()]


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def normalise_newlines(text: str | None) -> str:
    """Text typed in a browser (which sends CR LF) with plain line feeds."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


class Criterion(db.Model):
    """A weighted scoring criterion of a call."""

    __tablename__ = "criterion"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    weight: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    position: Mapped[int] = mapped_column(default=0)
    # What reviewers should look for, shown next to the criterion in the review panel.
    guidance: Mapped[str] = mapped_column(Text, default="")

    call: Mapped[Call] = relationship(back_populates="criteria")

    __table_args__ = (CheckConstraint("weight > 0", name="weight_positive"),)


class HubCapacity(db.Model):
    """Office desks and lab benches a hub offers over a date range (end inclusive)."""

    __tablename__ = "hub_capacity"

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    desks: Mapped[int]
    benches: Mapped[int]

    hub: Mapped[Organisation] = relationship()

    __table_args__ = (
        CheckConstraint("starts_on <= ends_on", name="range"),
        CheckConstraint("desks >= 0 AND benches >= 0", name="non_negative"),
    )
