"""Impact follow-up: surveys 12, 24 and 36 months after a residency ends."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from residency.core.extensions import db
from residency.domain.accounts.models import Organisation
from residency.core.db import Money, UTCDateTime, in_values, utcnow
from residency.domain.funding.models import CURRENCIES
from residency.domain.placements.models import Placement

SURVEY_MONTHS = (12, 24, 36)


class ImpactSurvey(db.Model):
    __tablename__ = "impact_survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id", ondelete="CASCADE"), index=True)
    startup_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    months_after: Mapped[int]
    due_on: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    employees: Mapped[int | None]
    # Money, like every amount (``core.db.Money``): numeric(14, 2), exact on SQLite too, bounded by ``limits.MONEY_MAX``.
    revenue: Mapped[Decimal | None] = mapped_column(Money)
    capital_raised: Mapped[Decimal | None] = mapped_column(Money)
    export_revenue: Mapped[Decimal | None] = mapped_column(Money)
    patents_filed: Mapped[int | None]
    products_launched: Mapped[int | None]
    partnerships_with_host: Mapped[int | None]
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    placement: Mapped[Placement] = relationship()
    startup: Mapped[Organisation] = relationship()

    __table_args__ = (
        UniqueConstraint("placement_id", "months_after"),
        CheckConstraint(in_values("months_after", SURVEY_MONTHS), name="months_after"),
        CheckConstraint(in_values("currency", CURRENCIES), name="currency"),
        CheckConstraint("(employees IS NULL OR employees >= 0) AND (patents_filed IS NULL OR patents_filed >= 0) AND "
                        "(products_launched IS NULL OR products_launched >= 0) AND "
                        "(partnerships_with_host IS NULL OR partnerships_with_host >= 0)", name="counts_non_negative"),
        CheckConstraint("(revenue IS NULL OR revenue >= 0) AND (capital_raised IS NULL OR capital_raised >= 0) AND "
                        "(export_revenue IS NULL OR export_revenue >= 0)", name="money_non_negative"),
        CheckConstraint("submitted_at IS NULL OR (employees IS NOT NULL AND revenue IS NOT NULL AND capital_raised IS NOT NULL "
                        "AND export_revenue IS NOT NULL AND patents_filed IS NOT NULL AND products_launched IS NOT NULL "
                        "AND partnerships_with_host IS NOT NULL)", name="submitted_complete"),
    )
