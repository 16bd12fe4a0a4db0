"""Impact surveys: scheduled when a residency ends, reminded when due, answered exactly."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from residency.domain.impact import services as impact
from residency.domain.placements import services as placements
from residency.domain.reminders import services as reminders
from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.extensions import db
from residency.domain.impact.models import ImpactSurvey
from residency.core.outbox_models import OutboxMessage
from residency.domain.placements.models import Placement

from tests.scenarios import nominated_placements, offer

UTC = timezone.utc


def completed(make):
    hub_admin, [p] = nominated_placements(make)
    founder = make.user(org=p.application.startup)
    offer(p, hub_admin)
    placements.answer_offer(placement=p, actor=founder, accept=True, now=datetime(2030, 1, 20, tzinfo=UTC))
    placements.start_due_residencies(now=datetime(2030, 3, 1, 12, tzinfo=UTC))
    placements.complete_finished_residencies(now=datetime(2030, 9, 1, 12, tzinfo=UTC))
    return db.session.get(Placement, p.id), founder


def test_three_surveys_are_scheduled_when_a_residency_ends(make):
    placement, founder = completed(make)
    surveys = db.session.scalars(select(ImpactSurvey).order_by(ImpactSurvey.months_after)).all()
    assert [(s.months_after, s.due_on) for s in surveys] == [
        (12, date(2031, 8, 31)), (24, date(2032, 8, 31)), (36, date(2033, 8, 31))]
    assert {s.currency for s in surveys} == {"NOK"}
    assert impact.add_months(date(2030, 1, 31), 1) == date(2030, 2, 28)


def test_survey_reminder_once_when_due_and_answers_are_exact(make, app):
    placement, founder = completed(make)
    first = db.session.scalar(select(ImpactSurvey).where(ImpactSurvey.months_after == 12))
    reminders.impact_surveys_due(datetime(2031, 8, 30, 21, 0, tzinfo=UTC))  # still 30 August in Stockholm
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template == "impact_survey_due")) == 0
    reminders.impact_surveys_due(datetime(2031, 8, 30, 22, 30, tzinfo=UTC))  # 31 August in Stockholm
    reminders.impact_surveys_due(datetime(2031, 9, 5, tzinfo=UTC))
    members = len(placement.application.startup.memberships)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template == "impact_survey_due")) == members
    with app.test_request_context(), pytest.raises(Conflict, match="opens on"):
        impact.submit(survey=first, actor=founder, values={}, now=datetime(2031, 8, 1, tzinfo=UTC))
    with pytest.raises(Invalid) as err:
        impact.submit(survey=first, actor=founder, values={"employees": "-1", "revenue": "abc"}, now=datetime(2031, 9, 1, tzinfo=UTC))
    assert {"employees", "revenue", "capital_raised"} <= set(err.value.field_errors)
    values = {"employees": "14", "revenue": "2 500 000,50", "capital_raised": "10000000", "export_revenue": "0.10",
              "patents_filed": "2", "products_launched": "1", "partnerships_with_host": "1"}
    impact.submit(survey=first, actor=founder, values=values, now=datetime(2031, 9, 1, tzinfo=UTC))
    assert first.revenue == Decimal("2500000.50") and first.export_revenue == Decimal("0.10")
    with pytest.raises(Conflict):
        impact.submit(survey=first, actor=founder, values=values, now=datetime(2031, 9, 2, tzinfo=UTC))
    with pytest.raises(NotFound):
        impact.survey_for(make.member("startup"), first.id)


def test_survey_page_for_members_only(client, make, login):
    placement, founder = completed(make)
    survey = db.session.scalar(select(ImpactSurvey).where(ImpactSurvey.months_after == 12))
    login(founder)
    assert "This survey opens on" in client.get(f"/startup/surveys/{survey.id}").get_data(as_text=True)
    assert "Impact surveys" in client.get("/startup/").get_data(as_text=True)
    login(make.member("startup"))
    assert client.get(f"/startup/surveys/{survey.id}").status_code == 404
