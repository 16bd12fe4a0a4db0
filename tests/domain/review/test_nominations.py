"""Nominations within seats and before the deadline; declines; released decisions."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from residency.domain.applications import rules, services as applications
from residency.domain.review import nominations
from residency.core import workflow
from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.extensions import db
from residency.domain.applications.models import Application
from residency.domain.review.models import Nomination
from residency.core.outbox_models import OutboxMessage
from residency.domain.placements.models import Placement


def under_review(make, call, n=1):
    staff = make.user(org=call.route.cluster)
    apps = []
    for _ in range(n):
        app_ = make.application(call=call, status="submitted")
        workflow.perform(app_, "start_review", staff)
        db.session.commit()
        apps.append(app_)
    return staff, apps


def test_nomination_creates_the_pending_placement_at_the_host_hub(make):
    call = make.call(seats=2)
    staff, [app_] = under_review(make, call)
    nomination = nominations.nominate(application=app_, actor=staff, rationale="Strong team")
    assert nomination.rank == 1 and app_.status == "nominated"
    placement = db.session.scalar(select(Placement))
    assert (placement.application_id, placement.hub_id, placement.status) == (app_.id, call.route.host_hub_id, "pending")


def test_nominations_never_exceed_the_seats(make, app):
    call = make.call(seats=2)
    staff, apps = under_review(make, call, 3)
    nominations.nominate(application=apps[0], actor=staff, rationale="a")
    nominations.nominate(application=apps[1], actor=staff, rationale="b")
    with app.test_request_context(), pytest.raises(Conflict, match="All 2 seats"):
        nominations.nominate(application=apps[2], actor=staff, rationale="c")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Nomination)) == 2
    assert db.session.get(Application, apps[2].id).status == "under_review"


def test_nominating_after_the_deadline_is_refused(make, app):
    call = make.call()
    staff, [app_] = under_review(make, call)
    with app.test_request_context(), pytest.raises(Conflict, match="nomination deadline passed"):
        nominations.nominate(application=app_, actor=staff, rationale="late",
                             now=call.nomination_deadline + timedelta(minutes=1))


def test_rationale_required(make):
    call = make.call()
    staff, [app_] = under_review(make, call)
    with pytest.raises(Invalid):
        nominations.nominate(application=app_, actor=staff, rationale=" ")


def test_decisions_are_held_until_release_then_sent_once(make):
    call = make.call(seats=1)
    staff, (yes, no) = under_review(make, call, 2)
    nominations.nominate(application=yes, actor=staff, rationale="Best fit")
    nominations.decline(application=no, actor=staff, reason="Weak budget (internal)", message="Thank you; apply again next year.")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template.like("decision_%"))) == 0
    # The startup still sees "Under review", and not the internal reason.
    assert rules.applicant_status(no) == "under_review"
    assert [c.action for c in applications.applicant_timeline(no, workflow.history(no, for_applicant=True))] == ["submit", "start_review"]

    _call, items, undecided = nominations.release_preview(call_id=call.id, actor=staff)
    assert {(i.application.id, i.decision) for i in items} == {(yes.id, "nominated"), (no.id, "not_nominated")}
    assert undecided == 0
    sent = nominations.release(call_id=call.id, actor=staff)
    assert sent == 2
    with pytest.raises(Conflict):
        nominations.release(call_id=call.id, actor=staff)
    db.session.rollback()
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template.like("decision_%"))).all()
    assert sorted(m.template for m in mails) == ["decision_nominated", "decision_not_nominated"]
    declined_mail = next(m for m in mails if m.template == "decision_not_nominated")
    assert declined_mail.context["note"] == "Thank you; apply again next year."
    assert "internal" not in str(declined_mail.context)
    db.session.expire_all()
    no = db.session.get(Application, no.id)
    assert rules.applicant_status(no) == "not_nominated"
    trail = applications.applicant_timeline(no, workflow.history(no, for_applicant=True))
    decline = trail[-1]
    assert decline.action == "decline" and workflow.public_reason(decline) is None and decline.note.startswith("Thank you")


def test_release_is_the_clusters_own(make):
    call = make.call()
    with pytest.raises(NotFound):
        nominations.release(call_id=call.id, actor=make.member("cluster"))


def test_two_staff_nominating_for_the_last_seat_at_once_exactly_one_wins(app, make):
    """Both databases: the seat count is read under the call's lock (a row lock on
    PostgreSQL, the write lock on SQLite), so the second nomination sees the first."""
    from tests.concurrency import errors, race, winners

    call = make.call(seats=1)
    staff, apps = under_review(make, call, 2)
    second = make.user(org=call.route.cluster)
    plan = {staff.id: apps[0].id, second.id: apps[1].id}

    def act(actor_id, barrier):
        from residency.domain.accounts.models import User

        application = db.session.get(Application, plan[actor_id])
        actor = db.session.get(User, actor_id)
        barrier.wait()
        nominations.nominate(application=application, actor=actor, rationale="at the same moment")

    results = race(app, list(plan), act, hold=0.3)
    assert errors(results) == []
    assert winners(results) == 1
    loser = next(v for v in results.values() if v != "won")
    assert "This call has 1 seat, and it is taken" in loser
    assert db.session.scalar(select(func.count()).select_from(Application).where(Application.status == "nominated")) == 1
    assert db.session.scalar(select(func.count()).select_from(Nomination)) == 1
