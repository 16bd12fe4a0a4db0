"""A startup's application to a residency call, its edits and attachments."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from residency.core.attachments import named_for
from residency.core.extensions import db
from residency.domain.accounts.models import TRACKS, Organisation, User
from residency.core.db import UTCDateTime, in_values, utcnow
from residency.domain.forms.models import FormQuestion  # noqa: F401 (the attachment's question table)
from residency.domain.programme.models import Call

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
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"))  # indexed below, with the status and the submission
    startup_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[str] = mapped_column(String(32), default="draft")
    # The answers to the call's own questions are ``forms.Answer`` rows; what placement and review
    # work with is typed here, so the database can check it (the form's questions bound to these columns).
    track: Mapped[str | None] = mapped_column(String(20))
    trl: Mapped[int | None]
    desired_start: Mapped[date | None]
    months: Mapped[int | None]
    desks: Mapped[int | None]
    benches: Mapped[int | None]
    # Set when cluster staff request changes: the applicant should answer by then.
    response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the application was last submitted (a resubmission after changes counts; an administrator
    # forcing it on out of its draft too), set by the workflow with the audit row; NULL if it never was,
    # and never cleared: once set, cluster staff may see it (``rules.seen_by_cluster``).
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    call: Mapped[Call] = relationship()
    startup: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="Attachment.id"
    )

    __table_args__ = (
        CheckConstraint(in_values("status", APPLICATION_STATES), name="status"),
        CheckConstraint(f"track IS NULL OR {in_values('track', TRACKS)}", name="track"),
        CheckConstraint("trl IS NULL OR (trl BETWEEN 1 AND 9)", name="trl"),
        CheckConstraint("months IS NULL OR (months BETWEEN 1 AND 24)", name="months"),
        CheckConstraint("desks IS NULL OR desks >= 0", name="desks"),
        CheckConstraint("benches IS NULL OR benches >= 0", name="benches"),
        # A startup has at most one application to a call that is not withdrawn.
        Index(
            "uq_application_active",
            "call_id",
            "startup_id",
            unique=True,
            sqlite_where=text("status != 'withdrawn'"),
            postgresql_where=text("status != 'withdrawn'"),
        ),
        # The review queue and the cluster's counts: a call's applications by status (the submission
        # time included, so the rule on withdrawn ones is read from the index too) ...
        Index("ix_application_call_status", "call_id", "status", "submitted_at"),
        # ... and in the queue's first order, first come first reviewed: a page is the index's next rows.
        Index("ix_application_call_submitted", "call_id", "submitted_at", "id"),
    )


class ApplicationEdit(db.Model):
    """Who changed which answers of an application, and when."""

    __tablename__ = "application_edit"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    fields: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class Attachment(db.Model):
    """A file attached to an application, stored outside the web root under a random name."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    # The file question of the call's form it answers (the pitch deck question for files attached before forms).
    question_id: Mapped[int] = mapped_column(ForeignKey("form_question.id", ondelete="RESTRICT"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    @property
    def download_name(self) -> str:
        """The name the file is served under: its extension says what the content is (files attached
        before names followed the content included)."""
        return named_for(self.filename, self.content_type)


class DeadlineExtension(db.Model):
    """A later closing time for one startup in one call, granted by a programme administrator.

    Rows are never updated: each grant is a new row, so the table is the audit
    trail of extensions and the newest row is the one in force."""

    __tablename__ = "deadline_extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"))
    startup_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    call: Mapped[Call] = relationship()
    startup: Mapped[Organisation] = relationship()
    granted_by: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_deadline_extension_call_startup", "call_id", "startup_id", "id"),)
