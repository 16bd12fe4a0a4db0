"""Forced and reverted placements stay consistent with their nomination, their dates and the
hub's capacity; capacity periods and their ids (issue 12, items 5 and 6)."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from residency.core import workflow
from residency.core.errors import Conflict, NotFound
from residency.core.extensions import db
from residency.domain.placements import hubs
from residency.domain.placements import services as placements
from residency.domain.placements.models import Placement
from residency.domain.programme.models import HubCapacity
from tests.scenarios import nominated_placements, offer

UTC = timezone.utc


def test_a_placement_cannot_be_forced_to_an_offer_it_has_no_dates_for(make, app):
    hub_admin, [placement] = nominated_placements(make)
    admin = make.admin()
    for target in ("offered", "accepted", "active", "completed"):
        with app.test_request_context(), pytest.raises(Conflict, match="no dates, desks and lab benches yet"):
            workflow.perform(placement, "force", admin, target=target, reason="on paper")
        db.session.rollback()
    assert db.session.get(Placement, placement.id).status == "pending"


def test_a_placement_cannot_be_forced_live_without_its_nomination_nor_cancelled_by_hand(make, app):
    hub_admin, [placement] = nominated_placements(make)
    admin = make.admin()
    with app.test_request_context(), pytest.raises(Conflict, match="cancelled only with its nomination"):
        workflow.perform(placement, "force", admin, target="cancelled", reason="tidy up")
    db.session.rollback()
    application = db.session.get(Placement, placement.id).application
    workflow.perform(application, "revert", admin, reason="nominated by mistake")
    db.session.commit()
    placement = db.session.get(Placement, placement.id)
    assert placement.status == "cancelled"
    with app.test_request_context(), pytest.raises(Conflict, match="The application is not nominated"):
        workflow.perform(placement, "revert", admin, reason="undo")
    db.session.rollback()
    assert db.session.get(Placement, placement.id).status == "cancelled"


def test_reviving_a_lapsed_offer_by_force_checks_the_hubs_capacity(make, app):
    hub_admin, (a, b) = nominated_placements(make, 2, desks=1)
    offer(a, hub_admin)
    placements.lapse_expired_offers(now=datetime(2030, 2, 2, tzinfo=UTC))
    assert db.session.get(Placement, a.id).status == "lapsed"
    offer(b, hub_admin, now=datetime(2030, 2, 3, tzinfo=UTC), expires=date(2030, 2, 20))
    admin = make.admin()
    with app.test_request_context(), pytest.raises(Conflict, match="Not enough space at the hub"):
        workflow.perform(db.session.get(Placement, a.id), "revert", admin, reason="the startup did answer")
    db.session.rollback()
    assert db.session.get(Placement, a.id).status == "lapsed"


# ------------------------------------------------------------------ capacity periods


def test_ids_are_never_reused_so_a_stale_delete_cannot_remove_the_newer_period(make):
    hub = make.organisation("hub", country="SE")
    hub_admin = make.user(org=hub)
    old = hubs.add_capacity(actor=hub_admin, hub_id=hub.id, starts_on=date(2030, 1, 1), ends_on=date(2030, 6, 30),
                            desks=4, benches=2)
    old_id = old.id
    hubs.delete_capacity(actor=hub_admin, hub_id=hub.id, capacity_id=old_id)
    new = hubs.add_capacity(actor=hub_admin, hub_id=hub.id, starts_on=date(2030, 1, 1), ends_on=date(2030, 6, 30),
                            desks=6, benches=2)
    assert new.id != old_id
    # The stale tab deletes the period it showed: gone already, so nothing is removed.
    with pytest.raises(NotFound, match="no longer exists"):
        hubs.delete_capacity(actor=hub_admin, hub_id=hub.id, capacity_id=old_id)
    db.session.rollback()
    assert db.session.scalars(select(HubCapacity.id)).all() == [new.id]


def test_a_stale_tabs_delete_through_the_page_is_a_404_and_the_new_period_survives(make, client, login):
    hub = make.organisation("hub", country="SE")
    login(make.user(org=hub))
    form = {"starts_on": "2030-01-01", "ends_on": "2030-06-30", "desks": "4", "benches": "2"}
    assert client.post(f"/hub/{hub.id}/capacity", data=form).status_code == 302
    old_id = db.session.scalar(select(HubCapacity.id))
    assert client.post(f"/hub/{hub.id}/capacity/{old_id}/delete", data={"confirmed": "yes"}).status_code == 302
    assert client.post(f"/hub/{hub.id}/capacity", data=form | {"desks": "6"}).status_code == 302
    new_id = db.session.scalar(select(HubCapacity.id))
    assert new_id != old_id
    r = client.post(f"/hub/{hub.id}/capacity/{old_id}/delete", data={"confirmed": "yes"})
    assert r.status_code == 404
    assert db.session.scalars(select(HubCapacity.desks)).all() == [6]


def test_a_period_whose_space_is_booked_stays(make, app):
    hub_admin, [placement] = nominated_placements(make)
    offer(placement, hub_admin)
    period = db.session.scalar(select(HubCapacity).where(HubCapacity.hub_id == placement.hub_id))
    with app.test_request_context(), pytest.raises(Conflict, match="Placements booked or offered use this period's space"):
        hubs.delete_capacity(actor=hub_admin, hub_id=placement.hub_id, capacity_id=period.id)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(HubCapacity)) == 1
