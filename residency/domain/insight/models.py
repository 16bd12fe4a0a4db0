"""Summary tables of the insight page, rebuilt from the records by the scheduler (``summaries.refresh``).

At Nordic scale the funnel and the decision times would read every application and
hundreds of thousands of audit rows on each page view; these tables hold the same figures
grouped by what the page scopes and filters by (the call, and through it the route and the
organisations; the startup's home country; the track), so the page sums a few thousand rows.
They hold nothing of their own: each refresh replaces them whole.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from residency.core.db import UTCDateTime, in_values
from residency.core.extensions import db

DECISIONS = ("nomination", "offer", "grant")


class InsightFunnel(db.Model):
    """Applications (not withdrawn) of one call, home country and track, by stage reached."""

    __tablename__ = "insight_funnel"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    country: Mapped[str] = mapped_column(String(2))
    track: Mapped[str | None] = mapped_column(String(20))  # the application's, else the startup's
    applied: Mapped[int]
    submitted: Mapped[int]
    nominated: Mapped[int]
    offered: Mapped[int]
    accepted: Mapped[int]
    active: Mapped[int]
    completed: Mapped[int]


class InsightDecision(db.Model):
    """One decision and the whole seconds it took from the first submission: a nomination or
    decline and a placement offer (of an application: its call, home country and track) or a
    funding grant (of a funding application: its scheme)."""

    __tablename__ = "insight_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision: Mapped[str] = mapped_column(String(16))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    scheme_id: Mapped[int | None] = mapped_column(ForeignKey("funding_scheme.id", ondelete="CASCADE"), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    track: Mapped[str | None] = mapped_column(String(20))
    seconds: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint(in_values("decision", DECISIONS), name="decision"),
        CheckConstraint("(decision = 'grant') = (scheme_id IS NOT NULL AND call_id IS NULL)", name="grant_by_scheme"),
        # The medians read each decision's values in order.
        Index("ix_insight_decision_decision_seconds", "decision", "seconds"),
    )


class InsightRefresh(db.Model):
    """When the summary tables were last rebuilt (one row; none before the first rebuild)."""

    __tablename__ = "insight_refresh"

    id: Mapped[int] = mapped_column(primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)
