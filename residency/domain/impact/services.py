"""Impact follow-up: after a residency ends the startup reports, 12, 24 and 36
months later, on jobs, revenue, capital raised, patents, products, partnerships
with the host and export revenue."""
from __future__ import annotations

from datetime import date, datetime
from decimal import InvalidOperation

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import select

from residency.core import limits
from residency.core.i18n import format_day
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
COUNT_MAX = {"employees": limits.EMPLOYEES_MAX, "patents_filed": limits.SURVEY_COUNT_MAX,
             "products_launched": limits.SURVEY_COUNT_MAX, "partnerships_with_host": limits.SURVEY_COUNT_MAX}


def surveys_of_placement(placement: Placement) -> list[ImpactSurvey]:
    return list(db.session.scalars(select(ImpactSurvey).where(ImpactSurvey.placement_id == placement.id)
                                   .order_by(ImpactSurvey.months_after)))


def schedule(placement: Placement, ended_on: date) -> list[ImpactSurvey]:
    """The three surveys of a residency that ended on ``ended_on`` (in the caller's unit of work).
    A residency that ends again (an administrator corrected its ending) reuses its surveys: the
    unanswered ones fall due after the new end, an answered one stays as it was answered."""
    startup = placement.application.startup
    existing = {s.months_after: s for s in surveys_of_placement(placement)}
    surveys = []
    for m in SURVEY_MONTHS:
        survey = existing.get(m)
        if survey is None:
            survey = ImpactSurvey(placement_id=placement.id, startup_id=startup.id, months_after=m,
                                  currency=CURRENCY_BY_COUNTRY.get(startup.country, "EUR"))
            db.session.add(survey)
        if survey.submitted_at is None:
            survey.due_on = add_months(ended_on, m)
        surveys.append(survey)
    db.session.flush()
    return surveys


def cancel_unanswered(placement: Placement) -> int:
    """Remove the surveys of a residency that is no longer over, none of them answered (the caller checked)."""
    surveys = surveys_of_placement(placement)
    for survey in surveys:
        db.session.delete(survey)
    db.session.flush()
    return len(surveys)


def answered_count(placement: Placement) -> int:
    return sum(1 for s in surveys_of_placement(placement) if s.submitted_at is not None)


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
        raise Conflict(_l("This survey opens on %(day)s.", day=format_day(survey.due_on)))
    errors, cleaned = {}, {}
    for key in COUNTS:
        try:
            cleaned[key] = limits.parse_int(values.get(key, ""), 0, COUNT_MAX[key])
        except limits.OutOfBounds as bound:
            # Below zero keeps the plain wording; above the bound says what it is.
            errors[key] = [_l("Enter a whole number of 0 or more.") if str(values.get(key, "")).strip().startswith("-")
                           else bound.message]
        except ValueError:
            errors[key] = [_l("Enter a whole number of 0 or more.")]
    for key in AMOUNTS:
        try:
            cleaned[key] = money(values.get(key) or "")
            if cleaned[key] < 0:
                raise InvalidOperation
        except limits.OutOfBounds as bound:
            errors[key] = [bound.message]
        except (InvalidOperation, ValueError):
            errors[key] = [_l("Enter an amount of 0 or more, like 1500000 or 1 500 000,50.")]
    if errors:
        raise Invalid(_l("Please correct the marked answers; nothing was saved."), errors)
    for key, value in cleaned.items():
        setattr(survey, key, value)
    survey.submitted_at, survey.submitted_by_id = now, actor.id
    return survey
