"""Funding during the residency: schemes, applications with budgets, grant
decisions, instalments and reports. Money is Decimal with two places."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from residency.core import limits
from residency.core.attachments import named_for
from residency.core.extensions import db
from residency.domain.accounts.models import Organisation, User
from residency.core.db import Money, UTCDateTime, in_values, utcnow
from residency.domain.placements.models import Placement

CURRENCIES = ("NOK", "SEK", "DKK", "EUR")
FUNDING_STATES = ("draft", "submitted", "under_assessment", "changes_requested", "granted", "rejected", "in_progress",
                  "lapsed", "closed", "cancelled", "declined")
GRANTED_STATES = ("granted", "in_progress", "lapsed", "closed", "cancelled", "declined")
BUDGET_CATEGORIES = ("personnel", "equipment", "consumables", "services", "rent", "travel", "other")
REPORT_KINDS = ("progress", "final")
REPORT_STATES = ("due", "submitted", "approved", "returned")


class FundingScheme(db.Model):
    """A funder's scheme: currency, limits, instalment plan, eligibility and report schedule.

    ``instalments`` is a list of {"label", "percent", "after"} where ``after`` is
    "acceptance", "progress_report" or "final_report" (what must be approved first).
    """

    __tablename__ = "funding_scheme"

    id: Mapped[int] = mapped_column(primary_key=True)
    funder_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    max_amount: Mapped[Decimal] = mapped_column(Money)
    max_share_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    instalments: Mapped[list] = mapped_column(JSON, default=list)
    home_countries: Mapped[list] = mapped_column(JSON, default=list)
    max_company_age_years: Mapped[int | None]
    report_kinds: Mapped[list] = mapped_column(JSON, default=lambda: ["progress", "final"])
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    funder: Mapped[Organisation] = relationship()

    __table_args__ = (
        CheckConstraint(in_values("currency", CURRENCIES), name="currency"),
        CheckConstraint("max_amount > 0", name="max_amount_positive"),
        CheckConstraint("max_share_percent > 0 AND max_share_percent <= 100", name="max_share"),
        CheckConstraint("max_company_age_years IS NULL OR max_company_age_years > 0", name="company_age"),
    )


class FundingApplication(db.Model):
    __tablename__ = "funding_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("funding_scheme.id"), index=True)
    startup_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    # The startup's VAT registration, as the funder pays it (optional: not every startup is registered).
    vat_number: Mapped[str | None] = mapped_column(String(limits.VAT_NUMBER_MAX))
    own_financing: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    amount_requested: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    # The grant decision.
    granted_amount: Mapped[Decimal | None] = mapped_column(Money)
    granted_share_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    conditions: Mapped[str | None] = mapped_column(Text)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assessment_notes: Mapped[str] = mapped_column(Text, default="")  # staff only
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    scheme: Mapped[FundingScheme] = relationship()
    startup: Mapped[Organisation] = relationship()
    placement: Mapped[Placement] = relationship()
    budget_lines: Mapped[list["BudgetLine"]] = relationship(
        back_populates="funding_application", cascade="all, delete-orphan", order_by="BudgetLine.id")

    __table_args__ = (
        CheckConstraint(in_values("status", FUNDING_STATES), name="status"),
        CheckConstraint("own_financing >= 0 AND amount_requested >= 0", name="money_non_negative"),
        CheckConstraint(f"status NOT IN ({', '.join(repr(s) for s in GRANTED_STATES)}) OR "
                        "(granted_amount IS NOT NULL AND granted_amount > 0)", name="granted_has_amount"),
        CheckConstraint("status != 'granted' OR offer_expires_at IS NOT NULL", name="grant_offer_has_deadline"),
        CheckConstraint("period_start IS NULL OR period_end IS NULL OR period_start <= period_end", name="period"),
        CheckConstraint("length(description) <= 10000", name="description_length"),
        # The funder officers' queue and its count: a scheme's applications by status.
        Index("ix_funding_application_scheme_status", "scheme_id", "status"),
        # The funder queue's order, newest change first: a page reads its rows along it instead of sorting them all.
        Index("ix_funding_application_scheme_updated", "scheme_id", "updated_at", "id"),
    )


class BudgetLine(db.Model):
    """One budget line: a cost category's amount in one quarter."""

    __tablename__ = "budget_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    funding_application_id: Mapped[int] = mapped_column(ForeignKey("funding_application.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    year: Mapped[int]
    quarter: Mapped[int]
    amount: Mapped[Decimal] = mapped_column(Money)

    funding_application: Mapped[FundingApplication] = relationship(back_populates="budget_lines")

    __table_args__ = (
        CheckConstraint(in_values("category", BUDGET_CATEGORIES), name="category"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        UniqueConstraint("funding_application_id", "category", "year", "quarter"),
    )


class Disbursement(db.Model):
    """An instalment of a grant: requested by the startup, recorded paid by the officer."""

    __tablename__ = "disbursement"

    id: Mapped[int] = mapped_column(primary_key=True)
    funding_application_id: Mapped[int] = mapped_column(ForeignKey("funding_application.id", ondelete="CASCADE"), index=True)
    instalment: Mapped[int]  # position in the scheme's plan, from 0
    amount: Mapped[Decimal] = mapped_column(Money)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # What the funder's books say: the day the money went out and the payment's reference there.
    paid_on: Mapped[date | None] = mapped_column(Date)
    payment_reference: Mapped[str | None] = mapped_column(String(limits.PAYMENT_REFERENCE_MAX))

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("funding_application_id", "instalment"),
    )


class FundingReport(db.Model):
    """A progress or final report due under a grant."""

    __tablename__ = "funding_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    funding_application_id: Mapped[int] = mapped_column(ForeignKey("funding_application.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="due")
    text: Mapped[str] = mapped_column(Text, default="")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    funding_application: Mapped[FundingApplication] = relationship()
    submitted_by: Mapped[User | None] = relationship()
    attachments: Mapped[list["ReportAttachment"]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportAttachment.id")

    __table_args__ = (
        CheckConstraint(in_values("kind", REPORT_KINDS), name="kind"),
        CheckConstraint(in_values("status", REPORT_STATES), name="status"),
        Index("ix_funding_report_due", "status", "due_on"),
    )


class ReportAttachment(db.Model):
    """A file attached to a funding report (a PDF, an image or an office document), stored as an
    application's attachments are (``residency.core.attachments``)."""

    __tablename__ = "report_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("funding_report.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[FundingReport] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    @property
    def download_name(self) -> str:
        return named_for(self.filename, self.content_type)
