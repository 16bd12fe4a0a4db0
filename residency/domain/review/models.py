"""Reviews by cluster staff, and nominations within a call's seats."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from residency.core.extensions import db
from residency.domain.accounts.models import User
from residency.core.db import UTCDateTime, in_values, utcnow

RECOMMENDATIONS = ("nominate", "maybe", "no")


class ReviewAssignment(db.Model):
    """A reviewer assigned to an application; a declared conflict of interest excludes them."""

    __tablename__ = "review_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    conflict_declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conflict_reason: Mapped[str | None] = mapped_column(Text)

    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])

    __table_args__ = (UniqueConstraint("application_id", "reviewer_id"),)


class Review(db.Model):
    """One reviewer's scores on the call's criteria, recommendation and comment.

    ``comment`` is for the cluster's staff only; ``applicant_comment`` is feedback the
    startup reads once the call's decisions are released (``review.feedback``).

    ``weighted_score`` is fixed when the review is submitted (the weighted mean
    of its scores), so queues can filter and sort by it in the database.
    """

    __tablename__ = "review"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    recommendation: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    applicant_comment: Mapped[str] = mapped_column(Text, default="")
    weighted_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    reviewer: Mapped[User] = relationship()
    scores: Mapped[list["ReviewScore"]] = relationship(back_populates="review", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("application_id", "reviewer_id"),
        CheckConstraint(f"recommendation IS NULL OR {in_values('recommendation', RECOMMENDATIONS)}", name="recommendation"),
        CheckConstraint("weighted_score IS NULL OR (weighted_score BETWEEN 1 AND 5)", name="weighted_score"),
        # A submitted review is complete.
        CheckConstraint("submitted_at IS NULL OR (recommendation IS NOT NULL AND weighted_score IS NOT NULL)",
                        name="submitted_complete"),
        # The mean and the number of an application's submitted reviews (queues, inbox), from the index alone.
        Index("ix_review_application_submitted", "application_id", "weighted_score",
              sqlite_where=text("submitted_at IS NOT NULL"), postgresql_where=text("submitted_at IS NOT NULL")),
    )


class ReviewScore(db.Model):
    __tablename__ = "review_score"

    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), primary_key=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[int]

    review: Mapped[Review] = relationship(back_populates="scores")

    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)


class Nomination(db.Model):
    """The cluster puts an application forward, with a rationale and a rank within the call."""

    __tablename__ = "nomination"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), unique=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"))
    rationale: Mapped[str] = mapped_column(Text)
    rank: Mapped[int]
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    nominated_by: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint("rank >= 1", name="rank_positive"),
        Index("ix_nomination_call_rank", "call_id", "rank"),
    )
