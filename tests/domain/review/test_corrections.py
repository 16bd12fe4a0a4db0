"""Forced and reverted application transitions leave the nomination, its placement and the
seats consistent (issue 12, item 5): cancel, reuse, or refuse with a plain message."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from residency.core import workflow
from residency.core.errors import Conflict
from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage
from residency.domain.applications import services as applications
from residency.domain.placements import services as placements
from residency.domain.placements.models import Placement
from residency.domain.programme.models import Call
from residency.domain.review import nominations
from residency.domain.review.models import Nomination
from tests.scenarios import nominated_placements, offer

UTC = timezone.utc


def _nominated(make, n=1):
    hub_admin, found = nominated_placements(make, n)
    application = found[0].application
    staff = make.user(org=application.call.route.cluster)
    return hub_admin, found, application, staff, make.admin()


def _mails_to(org_id_users, template):
    emails = {u.email for u in org_id_users}
    return [m for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template))
            if m.recipient in emails]


def test_revert_then_decline_leaves_nothing_the_hub_can_offer_and_the_startup_gets_no_offer(make, app):
    hub_admin, [placement], application, staff, admin = _nominated(make)
    founder = make.user(org=application.startup)
    workflow.perform(application, "revert", admin, reason="nominated by mistake")
    db.session.commit()
    nominations.decline(application=application, actor=staff, reason="weaker than the others", message="Sorry")
    placement = db.session.get(Placement, placement.id)
    assert placement.status == "cancelled"
    with app.test_request_context(), pytest.raises(Conflict, match="Cancelled"):
        offer(placement, hub_admin)
    db.session.rollback()
    assert db.session.get(Placement, placement.id).status == "cancelled"
    assert _mails_to([founder], "placement_offered") == []
    # The cancellation is the hub's and the cluster's record, not the startup's.
    changes = workflow.history(placement, for_applicant=False)
    assert [(c.action, c.to_state, c.visible_to_applicant) for c in changes] == [("cancel", "cancelled", False)]


def test_revert_then_decline_through_the_hub_pages_offers_nothing(make, client, login):
    hub_admin, [placement], application, staff, admin = _nominated(make)
    founder = make.user(org=application.startup)
    workflow.perform(application, "revert", admin, reason="nominated by mistake")
    db.session.commit()
    nominations.decline(application=application, actor=staff, reason="weaker", message="Sorry")
    from residency.domain.placements import hub_queries

    inbox = hub_queries.inbox(hub_admin, placement.hub_id)
    assert [r.placement.id for r in inbox.waiting.rows] == []
    assert [(r.placement.id, r.label) for r in inbox.closed.rows] == [(placement.id, "Cancelled: no longer nominated")]
    login(hub_admin)
    r = client.post(f"/hub/placements/{placement.id}/offer", data={
        "offer-starts_on": "2030-03-01", "offer-ends_on": "2030-08-31", "offer-desks": "1", "offer-benches": "0",
        "offer-offer_expires_on": "2030-02-01"})
    assert r.status_code == 409
    assert "Cancelled: no longer nominated" in r.get_data(as_text=True)
    assert db.session.get(Placement, placement.id).status == "cancelled"
    assert _mails_to([founder], "placement_offered") == []


def test_a_waitlisted_placement_is_cancelled_with_its_nomination_and_reopened_when_nominated_again(make):
    hub_admin, [placement], application, staff, admin = _nominated(make)
    placements.waitlist(placement=placement, actor=hub_admin)
    workflow.perform(application, "revert", admin, reason="nominated by mistake")
    db.session.commit()
    assert db.session.get(Placement, placement.id).status == "cancelled"
    nominations.nominate(application=application, actor=staff, rationale="after all")
    assert db.session.scalar(select(func.count()).select_from(Placement).where(
        Placement.application_id == application.id)) == 1
    assert db.session.get(Placement, placement.id).status == "pending"
    assert db.session.scalar(select(func.count()).select_from(Nomination).where(
        Nomination.application_id == application.id)) == 1


def test_reverting_the_revert_renominates_within_the_seats_and_reopens_the_placement(make):
    hub_admin, [placement], application, staff, admin = _nominated(make)
    workflow.perform(application, "revert", admin, reason="mistake")
    db.session.commit()
    workflow.perform(application, "revert", admin, reason="it was right after all")
    db.session.commit()
    assert application.status == "nominated"
    assert db.session.get(Placement, placement.id).status == "pending"


def test_a_nomination_cannot_be_taken_back_once_the_hub_has_offered(make, app):
    hub_admin, [placement], application, staff, admin = _nominated(make)
    offer(placement, hub_admin)
    with app.test_request_context(), pytest.raises(Conflict) as refusal:
        workflow.perform(application, "revert", admin, reason="mistake")
    assert "The hub has already acted on this nomination: the placement is Offered" in str(refusal.value.message)
    db.session.rollback()
    assert db.session.get(type(application), application.id).status == "nominated"
    assert db.session.get(Placement, placement.id).status == "offered"


def test_forcing_a_nomination_respects_the_seats_and_records_the_nomination(make, app):
    hub_admin, [first], application, staff, admin = _nominated(make)  # a call of one seat, taken
    other = make.application(call=application.call, status="submitted")
    with app.test_request_context(), pytest.raises(Conflict, match="This call has 1 seat, and it is taken"):
        workflow.perform(other, "force", admin, target="nominated", reason="phone decision")
    db.session.rollback()
    call = db.session.get(Call, application.call_id)
    call.seats = 2
    db.session.commit()
    workflow.perform(other, "force", admin, target="nominated", reason="phone decision")
    db.session.commit()
    nomination = db.session.scalar(select(Nomination).where(Nomination.application_id == other.id))
    assert (nomination.rationale, nomination.rank, nomination.nominated_by_id) == ("phone decision", 2, admin.id)
    assert db.session.scalar(select(Placement.status).where(Placement.application_id == other.id)) == "pending"


def test_a_withdrawn_application_cannot_be_revived_beside_the_startups_newer_one(make, app):
    first = make.application(status="submitted")
    founder = make.user(org=first.startup)
    applications.withdraw(application=first, actor=founder, reason="wrong team")
    second = make.application(call=first.call, startup=first.startup, author=founder, status="submitted")
    admin = make.admin()
    with app.test_request_context(), pytest.raises(Conflict, match=f"another application to this call \\(number {second.id}\\)"):
        workflow.perform(first, "revert", admin, reason="withdrawn by mistake")
    db.session.rollback()
    applications.withdraw(application=db.session.get(type(second), second.id), actor=founder, reason="duplicate")
    workflow.perform(db.session.get(type(first), first.id), "revert", admin, reason="withdrawn by mistake")
    db.session.commit()
    assert db.session.get(type(first), first.id).status == "submitted"


def test_the_startup_is_told_the_state_it_may_see_not_an_unreleased_decision(make, app):
    hub_admin, [placement], application, staff, admin = _nominated(make)
    founder = make.user(org=application.startup)
    with app.test_request_context(), pytest.raises(Conflict) as refusal:
        workflow.perform(application, "withdraw", founder, reason="changed our minds")
    message = str(refusal.value.message)
    assert "Under review" in message and "Nominated" not in message
    db.session.rollback()
    # Once released, the decision is the startup's to know.
    call = db.session.get(Call, application.call_id)
    call.decisions_released_at = datetime(2030, 1, 1, tzinfo=UTC)
    db.session.commit()
    with app.test_request_context(), pytest.raises(Conflict, match="Nominated"):
        workflow.perform(db.session.get(type(application), application.id), "withdraw", founder, reason="changed")
    db.session.rollback()


def test_the_startup_posting_to_an_unreleased_placement_gets_404_not_its_state(make, app):
    from residency.core.errors import NotFound

    hub_admin, [placement], application, staff, admin = _nominated(make)
    founder = make.user(org=application.startup)
    with app.test_request_context(), pytest.raises(NotFound):
        workflow.perform(placement, "accept", founder)
    db.session.rollback()


def test_the_startup_sees_under_review_in_the_409_page_too(make, client, login):
    hub_admin, [placement], application, staff, admin = _nominated(make)
    founder = make.user(org=application.startup)
    login(founder)
    r = client.post(f"/startup/applications/{application.id}/withdraw", data={"reason": "changed our minds"})
    body = r.get_data(as_text=True)
    if r.status_code == 302:  # the page flashes the refusal
        body = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Nominated" not in body
    assert db.session.get(type(application), application.id).status == "nominated"


def test_the_administrators_correction_page_shows_the_refusal_in_plain_words(make, client, login):
    hub_admin, [placement], application, staff, admin = _nominated(make)
    offer(placement, hub_admin)
    login(admin)
    r = client.post(f"/admin/workflow/application/{application.id}", data={"action": "revert", "reason": "mistake"})
    assert r.status_code == 422  # the form page again, with the refusal on it
    assert "The hub has already acted on this nomination" in r.get_data(as_text=True)
    assert db.session.get(type(application), application.id).status == "nominated"
