"""A call's application form: sections, questions, and the startups' answers to them.

Rows with no call are the programme's default form, which a new call copies. A question's key is
stable for the life of the form (the API, exports and edit attributions name answers by it); its
wording, help and whether it is required may change, its kind may not once it has answers.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from residency.core.db import UTCDateTime, in_values, utcnow
from residency.core.extensions import db
from residency.domain.accounts.models import User

KINDS = ("short_text", "long_text", "number", "money", "date", "single_choice", "multiple_choice", "yes_no", "file",
         "trl", "country")
# Answers the rest of the programme reads as typed columns of the application (review, placement and
# capacity work with them), or as its attachments: such a question can be reworded and moved, never
# removed, hidden, made optional or given another kind.
BINDINGS = ("track", "trl", "desired_start", "months", "desks", "benches", "attachments")


class FormSection(db.Model):
    __tablename__ = "form_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(default=0)
    # {"en": "Team", "nb": "Team", ...}: English always, the other languages where given.
    title: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("call_id", "key", name="uq_form_section_call_key"),
        Index("ix_form_section_default_key", "key", unique=True,
              sqlite_where=text("call_id IS NULL"), postgresql_where=text("call_id IS NULL")),
        Index("ix_form_section_call_position", "call_id", "position"),
    )


class FormQuestion(db.Model):
    __tablename__ = "form_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"))
    section_id: Mapped[int] = mapped_column(ForeignKey("form_section.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    binding: Mapped[str | None] = mapped_column(String(20))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    # Hidden: no longer asked (its answers stay, and stay readable to staff).
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[dict] = mapped_column(JSON, default=dict)
    help: Mapped[dict] = mapped_column(JSON, default=dict)
    # By kind: max_chars, max_words (text); min, max (number, money); choices [{"value", "label": {...}}];
    # types, max_mb, max_files (file).
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # Asked only when the question ``shown_if_key`` has the answer ``shown_if_value``.
    shown_if_key: Mapped[str | None] = mapped_column(String(40))
    shown_if_value: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    section: Mapped[FormSection] = relationship()

    __table_args__ = (
        UniqueConstraint("call_id", "key", name="uq_form_question_call_key"),
        Index("ix_form_question_default_key", "key", unique=True,
              sqlite_where=text("call_id IS NULL"), postgresql_where=text("call_id IS NULL")),
        Index("ix_form_question_call_position", "call_id", "position"),
        CheckConstraint(in_values("kind", KINDS), name="kind"),
        CheckConstraint(f"binding IS NULL OR {in_values('binding', BINDINGS)}", name="binding"),
    )


class Answer(db.Model):
    """One startup's answer to one question of its call's form (typed answers are columns of the
    application, and files its attachments)."""

    __tablename__ = "answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    # RESTRICT: a question with answers is never deleted (it can be hidden).
    question_id: Mapped[int] = mapped_column(ForeignKey("form_question.id", ondelete="RESTRICT"), index=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("application_id", "question_id", name="uq_answer_application_question"),)


class FormChange(db.Model):
    """The form's history: who added, changed, moved, hid or removed which question, and how."""

    __tablename__ = "form_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"))
    question_key: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(20))
    # What changed: {"field": [before, after], ...}
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_form_change_call", "call_id", "id"),)
