"""Issue 14: cluster staff take a nomination back while the hub has not acted on it."""
from datetime import date, datetime, timezone

from sqlalchemy import func, select

from residency.core import workflow
from residency.core.extensions import db
from residency.core.models import StatusChange
from residency.domain.applications.models import Application
from residency.domain.placements import services as placements
from residency.domain.placements.models import Placement
from residency.domain.review import nominations
from residency.domain.review.models import Nomination


def nominated(make, seats=1):
    call = make.call(seats=seats)
    staff = make.user(org=call.route.cluster)
    apps = []
    for _ in range(seats + 1):
        app_ = make.application(call=call, status="submitted")
        workflow.perform(app_, "start_review", staff)
        db.session.commit()
        apps.append(app_)
    nominations.nominate(application=apps[0], actor=staff, rationale="Strong team")
    return call, staff, apps


def test_staff_take_a_nomination_back_and_the_seat_is_free_again(client, make, login):
    call, staff, (first, second) = nominated(make)
    login(staff)
    html = client.get(f"/cluster/applications/{first.id}").get_data(as_text=True)
    assert f"/cluster/applications/{first.id}/unnominate" in html
    r = client.post(f"/cluster/applications/{first.id}/unnominate", data={"unnominate-reason": "Wrong company picked"})
    assert r.status_code == 302
    assert db.session.get(Application, first.id).status == "under_review"
    assert db.session.scalar(select(func.count()).select_from(Nomination)) == 0
    placement = db.session.scalar(select(Placement).where(Placement.application_id == first.id))
    assert placement.status == "cancelled"
    change = db.session.scalar(select(StatusChange).where(StatusChange.workflow == "application",
                                                          StatusChange.action == "unnominate"))
    assert (change.actor_id, change.reason) == (staff.id, "Wrong company picked")
    # The seat the message told them to free is free: another application can be nominated.
    r = client.post(f"/cluster/applications/{second.id}/nominate", data={"nominate-rationale": "Better fit"})
    assert r.status_code == 302 and db.session.get(Application, second.id).status == "nominated"


def test_taking_a_nomination_back_needs_a_reason_next_to_the_field(client, make, login):
    call, staff, (first, _second) = nominated(make)
    login(staff)
    r = client.post(f"/cluster/applications/{first.id}/unnominate", data={"unnominate-reason": "  "})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'id="unnominate-reason-error"' in html or "A reason is required." in html
    assert db.session.get(Application, first.id).status == "nominated"


def test_a_nomination_the_hub_has_offered_cannot_be_taken_back(client, make, login):
    call, staff, (first, _second) = nominated(make)
    call.residency_starts_on, call.residency_ends_on = date(2030, 1, 1), date(2031, 12, 31)
    hub = call.route.host_hub
    make.capacity(hub, date(2030, 1, 1), date(2031, 12, 31), desks=4, benches=4)
    hub_admin = make.user(org=hub)
    placement = db.session.scalar(select(Placement).where(Placement.application_id == first.id))
    placements.offer(placement=placement, actor=hub_admin, starts_on=date(2030, 3, 1), ends_on=date(2030, 8, 31),
                     desks=1, benches=0, offer_expires_on=date(2030, 2, 1), conditions="",
                     now=datetime(2030, 1, 10, tzinfo=timezone.utc))
    login(staff)
    r = client.post(f"/cluster/applications/{first.id}/unnominate", data={"unnominate-reason": "Changed our mind"})
    assert r.status_code == 409
    assert "The hub has already acted on this nomination" in r.get_data(as_text=True)
    assert db.session.get(Application, first.id).status == "nominated"
    assert db.session.get(Placement, placement.id).status == "offered"


def test_hub_staff_and_other_clusters_cannot_take_a_nomination_back(client, make, login):
    call, staff, (first, _second) = nominated(make)
    other = make.user(org=make.organisation("cluster"))
    login(other)
    assert client.post(f"/cluster/applications/{first.id}/unnominate", data={"unnominate-reason": "x"}).status_code == 404
    assert db.session.get(Application, first.id).status == "nominated"
