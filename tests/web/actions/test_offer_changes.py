"""Issue 14: the hub changes or withdraws an offer before the startup answers it."""
import re
from datetime import date, datetime, timezone

from sqlalchemy import select

from residency.core.extensions import db
from residency.core.models import StatusChange
from residency.core.outbox_models import OutboxMessage
from residency.domain.placements import services as placements
from residency.domain.placements.models import Placement

from tests.scenarios import nominated_placements

AMEND = {"amend-starts_on": "2030-04-01", "amend-ends_on": "2030-09-30", "amend-desks": "2", "amend-benches": "1",
         "amend-offer_expires_on": "2030-03-01", "amend-conditions": "New rental agreement"}


def offered(make, desks=2, benches=1):
    hub_admin, [placement] = nominated_placements(make, 1, desks=desks, benches=benches)
    placements.offer(placement=placement, actor=hub_admin, starts_on=date(2030, 3, 1), ends_on=date(2030, 8, 31),
                     desks=1, benches=0, offer_expires_on=date(2030, 2, 1), conditions="Rental agreement",
                     now=datetime(2030, 1, 10, tzinfo=timezone.utc))
    return hub_admin, db.session.get(Placement, placement.id)


def mails(template):
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)))


def test_the_hub_changes_an_offer_and_the_startup_is_emailed_the_new_terms(client, make, login):
    hub_admin, placement = offered(make)
    login(hub_admin)
    html = client.get(f"/hub/placements/{placement.id}").get_data(as_text=True)
    assert f"/hub/placements/{placement.id}/amend-offer" in html and 'value="2030-02-01"' in html
    r = client.post(f"/hub/placements/{placement.id}/amend-offer", data=AMEND)
    assert r.status_code == 302
    p = db.session.get(Placement, placement.id)
    assert (p.status, p.starts_on, p.ends_on, p.desks, p.benches, p.conditions) == (
        "offered", date(2030, 4, 1), date(2030, 9, 30), 2, 1, "New rental agreement")
    assert p.offer_expires_at.date() == date(2030, 3, 1)
    assert db.session.scalar(select(StatusChange.action).where(StatusChange.workflow == "placement")
                             .order_by(StatusChange.id.desc()).limit(1)) == "amend_offer"
    [mail] = mails("placement_offer_amended")
    assert mail.context["starts_on"] == "2030-04-01" and mail.context["desks"] == 2


def test_a_changed_offer_must_fit_the_capacity_and_keeps_what_was_typed(client, make, login):
    hub_admin, placement = offered(make, desks=2)
    login(hub_admin)
    r = client.post(f"/hub/placements/{placement.id}/amend-offer", data=AMEND | {"amend-desks": "3"})
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "Not enough space at the hub" in html and "New rental agreement" in html
    p = db.session.get(Placement, placement.id)
    assert (p.desks, p.starts_on) == (1, date(2030, 3, 1))
    assert mails("placement_offer_amended") == []


def test_the_hub_withdraws_an_offer_with_a_reason_and_its_space_is_free(client, make, login):
    hub_admin, placement = offered(make, desks=1)
    login(hub_admin)
    r = client.post(f"/hub/placements/{placement.id}/withdraw-offer", data={"withdraw-reason": ""})
    assert r.status_code == 422 and db.session.get(Placement, placement.id).status == "offered"
    r = client.post(f"/hub/placements/{placement.id}/withdraw-offer", data={"withdraw-reason": "The lab is closed for repairs"})
    assert r.status_code == 302
    p = db.session.get(Placement, placement.id)
    assert (p.status, p.offer_expires_at) == ("pending", None)
    [mail] = mails("placement_offer_withdrawn")
    assert mail.context["reason"] == "The lab is closed for repairs"
    # The space it held is free again: the hub can offer the same desk anew.
    r = client.post(f"/hub/placements/{placement.id}/offer", data={
        "offer-starts_on": "2030-03-01", "offer-ends_on": "2030-08-31", "offer-desks": "1", "offer-benches": "0",
        "offer-offer_expires_on": "2030-02-01", "offer-conditions": ""})
    assert r.status_code == 302 and db.session.get(Placement, placement.id).status == "offered"


def test_an_answered_offer_can_no_longer_be_changed_or_withdrawn(client, make, login):
    hub_admin, placement = offered(make)
    founder = make.user(org=placement.application.startup)
    placements.answer_offer(placement=placement, actor=founder, accept=True, now=datetime(2030, 1, 11, tzinfo=timezone.utc))
    login(hub_admin)
    assert "/amend-offer" not in client.get(f"/hub/placements/{placement.id}").get_data(as_text=True)
    assert client.post(f"/hub/placements/{placement.id}/amend-offer", data=AMEND).status_code == 409
    assert client.post(f"/hub/placements/{placement.id}/withdraw-offer", data={"withdraw-reason": "x"}).status_code == 409
    assert db.session.get(Placement, placement.id).status == "accepted"


def test_the_startup_cannot_change_or_withdraw_the_offer(client, make, login):
    hub_admin, placement = offered(make)
    founder = make.user(org=placement.application.startup)
    login(founder)
    assert client.post(f"/hub/placements/{placement.id}/withdraw-offer", data={"withdraw-reason": "x"}).status_code in (403, 404)
    assert db.session.get(Placement, placement.id).status == "offered"


# ------------------------------------------------------------ the startup's answer


def test_accepting_an_offer_needs_the_box_ticked_next_to_it(client, make, login):
    hub_admin, placement = offered(make)
    login(make.user(org=placement.application.startup))
    r = client.post(f"/startup/placements/{placement.id}/accept", data={})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'id="accept-confirm-error"' in html and "Tick the box to confirm that you accept the offer." in html
    assert db.session.get(Placement, placement.id).status == "offered"


def test_an_offer_changed_after_the_startup_opened_it_is_not_accepted_unseen(client, make, login):
    hub_admin, placement = offered(make)
    founder = make.user(org=placement.application.startup)
    login(founder)
    html = client.get(f"/startup/placements/{placement.id}").get_data(as_text=True)

    terms = re.search(r'name="accept-terms"[^>]*value="(\d+)"', html) or re.search(r'value="(\d+)"[^>]*name="accept-terms"', html)
    terms = terms.group(1)
    # Meanwhile the hub changes the dates.
    placements.amend_offer(placement=db.session.get(Placement, placement.id), actor=hub_admin, starts_on=date(2030, 4, 1),
                           ends_on=date(2030, 9, 30), desks=1, benches=0, offer_expires_on=date(2030, 2, 1),
                           conditions="", now=datetime(2030, 1, 12, tzinfo=timezone.utc))
    r = client.post(f"/startup/placements/{placement.id}/accept", data={"accept-confirm": "y", "accept-terms": terms})
    assert r.status_code == 409 and "The hub changed the offer after you opened it" in r.get_data(as_text=True)
    assert "1 April 2030" in r.get_data(as_text=True)
    assert db.session.get(Placement, placement.id).status == "offered"
    html = r.get_data(as_text=True)
    new_terms = (re.search(r'name="accept-terms"[^>]*value="(\d+)"', html) or re.search(r'value="(\d+)"[^>]*name="accept-terms"', html)).group(1)
    assert new_terms != terms
    r = client.post(f"/startup/placements/{placement.id}/accept", data={"accept-confirm": "y", "accept-terms": new_terms})
    assert r.status_code == 302 and db.session.get(Placement, placement.id).status == "accepted"
