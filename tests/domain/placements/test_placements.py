"""Placements: offers within capacity (day by day), answers, lapse, the residency, reminders."""
import threading
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from tests.scenarios import nominated_placements, offer  # noqa: F401
from residency.domain.review import nominations
from residency.domain.placements import services as placements
from residency.core import workflow
from residency.core.errors import Conflict, Invalid
from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage
from residency.domain.impact.models import ImpactSurvey
from residency.domain.placements.models import Placement


def test_offer_within_capacity_and_refusal_names_the_full_dates(make, app):
    hub_admin, (a, b, c) = nominated_placements(make, 3, desks=2)
    offer(a, hub_admin)
    offer(b, hub_admin, start=date(2030, 6, 1), end=date(2030, 12, 31))
    with app.test_request_context(), pytest.raises(Conflict) as err:
        offer(c, hub_admin, start=date(2030, 5, 1), end=date(2030, 7, 31))
    message = str(err.value.message)
    assert "office desks from 1 June 2030 to 31 July 2030 (2 of 2 already booked or offered)" in message
    db.session.rollback()
    assert db.session.get(Placement, c.id).status == "pending"


def test_offer_needs_dates_inside_the_window_and_some_space(make):
    hub_admin, [p] = nominated_placements(make)
    with pytest.raises(Invalid) as err:
        offer(p, hub_admin, start=date(2029, 12, 1), desks=0, benches=0)
    assert {"starts_on"} <= set(err.value.field_errors)
    assert db.session.get(Placement, p.id).status == "pending"


def test_database_refuses_an_offered_placement_without_dates(make):
    from sqlalchemy.exc import IntegrityError

    hub_admin, [p] = nominated_placements(make)
    with pytest.raises(IntegrityError):
        db.session.execute(Placement.__table__.update().where(Placement.id == p.id).values(status="offered"))
        db.session.flush()
    db.session.rollback()


def test_accept_decline_and_expiry(make, app):
    hub_admin, (a, b) = nominated_placements(make, 2)
    offer(a, hub_admin)
    offer(b, hub_admin)
    founder_a = make.user(org=a.application.startup)
    placements.answer_offer(placement=a, actor=founder_a, accept=True, now=datetime(2030, 1, 20, tzinfo=timezone.utc))
    assert a.status == "accepted"
    founder_b = make.user(org=b.application.startup)
    with app.test_request_context(), pytest.raises(Conflict, match="expired"):
        placements.answer_offer(placement=b, actor=founder_b, accept=True, now=datetime(2030, 2, 2, tzinfo=timezone.utc))


def test_a_lapsed_offer_frees_its_space(make, app):
    hub_admin, (a, b) = nominated_placements(make, 2, desks=1)
    offer(a, hub_admin)
    with app.test_request_context(), pytest.raises(Conflict, match="Not enough space"):
        offer(b, hub_admin)
    db.session.rollback()
    # 2030-02-01 23:59 in Stockholm has passed.
    assert placements.lapse_expired_offers(now=datetime(2030, 2, 2, tzinfo=timezone.utc)) == 1
    db.session.expire_all()
    assert db.session.get(Placement, a.id).status == "lapsed"
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "placement_lapsed")).all()
    assert {m.recipient for m in mails} >= {hub_admin.email}
    offer(db.session.get(Placement, b.id), hub_admin, now=datetime(2030, 2, 2, tzinfo=timezone.utc), expires=date(2030, 2, 20))
    assert db.session.get(Placement, b.id).status == "offered"


def test_residency_started_by_the_scheduler_on_the_hubs_date_then_completed(make):
    hub_admin, [p] = nominated_placements(make)
    offer(p, hub_admin)
    placements.answer_offer(placement=p, actor=make.user(org=p.application.startup), accept=True,
                            now=datetime(2030, 1, 20, tzinfo=timezone.utc))
    # 28 Feb 23:30 UTC is already 1 March 00:30 in Stockholm.
    assert placements.start_due_residencies(now=datetime(2030, 2, 28, 22, 0, tzinfo=timezone.utc)) == 0
    assert placements.start_due_residencies(now=datetime(2030, 2, 28, 23, 30, tzinfo=timezone.utc)) == 1
    assert db.session.get(Placement, p.id).status == "active"
    change = workflow.history(p, for_applicant=False)[-1]
    assert (change.action, change.actor_id) == ("start", None)
    assert placements.complete_finished_residencies(now=datetime(2030, 8, 31, 12, tzinfo=timezone.utc)) == 0
    assert placements.complete_finished_residencies(now=datetime(2030, 9, 1, 12, tzinfo=timezone.utc)) == 1
    p = db.session.get(Placement, p.id)
    assert p.status == "completed" and p.checked_out_on == date(2030, 8, 31)


def test_extension_beyond_capacity_is_refused_with_the_full_dates(make, app):
    hub_admin, (a, b) = nominated_placements(make, 2, desks=1)
    offer(a, hub_admin, end=date(2030, 6, 30))
    offer(b, hub_admin, start=date(2030, 8, 1), end=date(2030, 12, 31))
    for p in (a, b):
        placements.answer_offer(placement=p, actor=make.user(org=p.application.startup), accept=True,
                                now=datetime(2030, 1, 20, tzinfo=timezone.utc))
    placements.start_due_residencies(now=datetime(2030, 3, 2, tzinfo=timezone.utc))
    assert db.session.get(Placement, a.id).status == "active"
    with app.test_request_context(), pytest.raises(Conflict) as err:
        placements.extend(placement=a, actor=hub_admin, ends_on=date(2030, 9, 15))
    assert "from 1 August 2030 to 15 September 2030" in str(err.value.message)
    db.session.rollback()
    assert db.session.get(Placement, a.id).ends_on == date(2030, 6, 30)
    placements.extend(placement=db.session.get(Placement, a.id), actor=hub_admin, ends_on=date(2030, 7, 31))
    assert db.session.get(Placement, a.id).ends_on == date(2030, 7, 31)


def test_one_offer_that_fails_to_lapse_neither_stops_nor_undoes_the_others(make, app, monkeypatch):
    from residency.core.models import StatusChange

    hub_admin, (a, b, c) = nominated_placements(make, 3, desks=3)
    for p in (a, b, c):
        offer(p, hub_admin)
    perform = workflow.perform

    def failing_for_b(record, action, actor, **kw):
        change = perform(record, action, actor, **kw)  # b's lapse is written, then the unit fails
        if record.id == b.id:
            raise RuntimeError("a bad record")
        return change

    monkeypatch.setattr(workflow, "perform", failing_for_b)
    placements.lapse_expired_offers(now=datetime(2030, 2, 2, tzinfo=timezone.utc))
    db.session.expire_all()
    assert [db.session.get(Placement, p.id).status for p in (a, b, c)] == ["lapsed", "offered", "lapsed"]
    lapses = db.session.scalars(select(StatusChange.record_id).where(StatusChange.action == "lapse")).all()
    assert sorted(lapses) == sorted([a.id, c.id])
    monkeypatch.setattr(workflow, "perform", perform)
    # The next run picks up what was left.
    placements.lapse_expired_offers(now=datetime(2030, 2, 2, tzinfo=timezone.utc))
    assert db.session.get(Placement, b.id).status == "lapsed"


def test_twenty_concurrent_offers_for_the_last_desk_exactly_one_succeeds(app, make):
    """Both databases: twenty hub tabs offering the last desk at once give one offer."""
    from tests.concurrency import errors, race, winners

    hub_admin, pending = nominated_placements(make, 20, desks=1)
    admin_id = hub_admin.id

    def act(placement_id, barrier):
        from residency.domain.accounts.models import User

        placement = db.session.get(Placement, placement_id)
        actor = db.session.get(User, admin_id)
        barrier.wait()
        offer(placement, actor)

    results = race(app, [p.id for p in pending], act, hold=0.05)
    assert len(results) == 20
    assert errors(results) == []
    assert winners(results) == 1
    assert all("Not enough space" in v for v in results.values() if v != "won")
    assert db.session.scalar(select(func.count()).select_from(Placement).where(Placement.status == "offered")) == 1


def test_a_nomination_opens_one_pending_placement_even_when_reverted_and_made_again(make):
    hub_admin, [placement] = nominated_placements(make)
    application = placement.application
    admin = make.admin()
    workflow.perform(application, "revert", admin, reason="nominated by mistake")
    db.session.commit()
    staff = make.user(org=application.call.route.cluster)
    nominations.nominate(application=application, actor=staff, rationale="after all")
    assert db.session.scalar(select(func.count()).select_from(Placement).where(
        Placement.application_id == application.id)) == 1


def test_a_residency_forced_to_completed_schedules_its_impact_surveys(make):
    hub_admin, [placement] = nominated_placements(make)
    offer(placement, hub_admin)
    admin = make.admin()
    workflow.perform(placement, "force", admin, target="completed", reason="ended on paper")
    db.session.commit()
    surveys = db.session.scalars(select(ImpactSurvey).where(ImpactSurvey.placement_id == placement.id)).all()
    assert sorted(s.months_after for s in surveys) == [12, 24, 36]
