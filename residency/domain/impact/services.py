"""Impact follow-up: after a residency ends the startup reports, 12, 24 and 36
months later, on jobs, revenue, capital raised, patents, products, partnerships
with the host and export revenue."""
from __future__ import annotations

from datetime import date, datetime
from decimal import InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.extensions import db
from residency.core.uow import service
from residency.domain.funding.services import money
from residency.domain.impact.models import SURVEY_MONTHS, ImpactSurvey
from residency.domain.placements.hub_queries import add_months
from residency.domain.placements.models import Placement
from residency.domain.accounts.models import User
from residency.core.db import utcnow

CURRENCY_BY_COUNTRY = {"NO": "NOK", "SE": "SEK", "DK": "DKK", "FI": "EUR", "IS": "EUR"}
COUNTS = ("employees", "patents_filed", "products_launched", "partnerships_with_host")
AMOUNTS = ("revenue", "capital_raised", "export_revenue")


def schedule(placement: Placement, ended_on: date) -> list[ImpactSurvey]:
    """The three surveys of a residency that ended on ``ended_on`` (in the caller's unit of work)."""
    startup = placement.application.startup
    surveys = [ImpactSurvey(placement_id=placement.id, startup_id=startup.id, months_after=m,
                            due_on=add_months(ended_on, m), currency=CURRENCY_BY_COUNTRY.get(startup.country, "EUR"))
               for m in SURVEY_MONTHS]
    db.session.add_all(surveys)
    return surveys


def survey_for(user: User, survey_id: int) -> ImpactSurvey:
    survey = db.session.get(ImpactSurvey, survey_id)
    if survey is None or not user.is_member_of(survey.startup_id):
        raise NotFound(_l("Not found."))
    return survey


def surveys_of(startup_ids: list[int]) -> list[ImpactSurvey]:
    if not startup_ids:
        return []
    return list(db.session.scalars(select(ImpactSurvey).where(ImpactSurvey.startup_id.in_(startup_ids))
                                   .order_by(ImpactSurvey.due_on, ImpactSurvey.id)))


@service
def submit(*, survey: ImpactSurvey, actor: User, values: dict, now: datetime | None = None) -> ImpactSurvey:
    """The startup's answers; every figure is required, counts are whole numbers, money exact."""
    now = now or utcnow()
    if not actor.is_member_of(survey.startup_id):
        raise NotFound(_l("Not found."))
    if survey.submitted_at is not None:
        raise Conflict(_l("This survey was already submitted. Thank you!"))
    if survey.due_on > now.date():
        raise Conflict(_l("This survey opens on %(day)s.", day=survey.due_on.isoformat()))
    errors, cleaned = {}, {}
    for key in COUNTS:
        try:
            cleaned[key] = int(str(values.get(key, "")).strip())
            if cleaned[key] < 0:
                raise ValueError
        except ValueError:
            errors[key] = [_l("Enter a whole number of 0 or more.")]
    for key in AMOUNTS:
        try:
            cleaned[key] = money(values.get(key) or "")
            if cleaned[key] < 0:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors[key] = [_l("Enter an amount of 0 or more, like 1500000 or 1 500 000,50.")]
    if errors:
        raise Invalid(_l("Please correct the marked answers; nothing was saved."), errors)
    for key, value in cleaned.items():
        setattr(survey, key, value)
    survey.submitted_at, survey.submitted_by_id = now, actor.id
    return survey
