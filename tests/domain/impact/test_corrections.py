"""A residency's ending forced or reverted: its impact surveys are reused, cancelled, or the
correction is refused once one was answered (issue 12, item 5)."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from residency.core import workflow
from residency.core.errors import Conflict
from residency.core.extensions import db
from residency.domain.impact import services as impact
from residency.domain.impact.models import ImpactSurvey
from residency.domain.placements.models import Placement
from tests.domain.impact.test_impact import completed

UTC = timezone.utc
ANSWERS = {"employees": "7", "revenue": "1000", "capital_raised": "0", "export_revenue": "0", "patents_filed": "0",
           "products_launched": "0", "partnerships_with_host": "1"}


def surveys(placement):
    return db.session.scalars(select(ImpactSurvey).where(ImpactSurvey.placement_id == placement.id)
                              .order_by(ImpactSurvey.months_after)).all()


def test_reopening_a_residency_cancels_its_unanswered_surveys_and_ending_it_again_schedules_them_once(make):
    placement, founder = completed(make)
    admin = make.admin()
    workflow.perform(placement, "revert", admin, reason="completed too early")
    db.session.commit()
    assert db.session.get(Placement, placement.id).status == "active"
    assert surveys(placement) == []
    workflow.perform(db.session.get(Placement, placement.id), "force", admin, target="completed", reason="now it is over")
    db.session.commit()
    assert [s.months_after for s in surveys(placement)] == [12, 24, 36]


def test_a_residency_forced_from_completed_to_terminated_keeps_its_surveys(make):
    placement, founder = completed(make)
    before = [(s.id, s.due_on) for s in surveys(placement)]
    workflow.perform(placement, "force", make.admin(), target="terminated", reason="ended early on paper")
    db.session.commit()
    assert [(s.id, s.due_on) for s in surveys(placement)] == before


def test_ending_again_moves_unanswered_surveys_and_keeps_answered_ones(make):
    placement, founder = completed(make)
    first = surveys(placement)[0]
    first.due_on = date(2030, 9, 1)
    db.session.commit()
    impact.submit(survey=first, actor=founder, values=ANSWERS, now=datetime(2030, 9, 2, tzinfo=UTC))
    impact.schedule(db.session.get(Placement, placement.id), date(2030, 12, 31))
    db.session.commit()
    assert [(s.months_after, s.due_on, s.submitted_at is not None) for s in surveys(placement)] == [
        (12, date(2030, 9, 1), True), (24, date(2032, 12, 31), False), (36, date(2033, 12, 31), False)]


def test_an_ending_cannot_be_taken_back_once_a_survey_is_answered(make, app):
    placement, founder = completed(make)
    first = surveys(placement)[0]
    first.due_on = date(2030, 9, 1)
    db.session.commit()
    impact.submit(survey=first, actor=founder, values=ANSWERS, now=datetime(2030, 9, 2, tzinfo=UTC))
    with app.test_request_context(), pytest.raises(Conflict, match="already answered impact surveys"):
        workflow.perform(db.session.get(Placement, placement.id), "revert", make.admin(), reason="too early")
    db.session.rollback()
    assert db.session.get(Placement, placement.id).status == "completed"
    assert len(surveys(placement)) == 3
