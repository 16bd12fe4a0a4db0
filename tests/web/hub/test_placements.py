"""The hub's placement pages (inbox, occupancy, one placement and its actions) and the startup's offer page."""
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from residency.domain.placements import services as placements
from residency.core import workflow
from residency.core.extensions import db
from residency.domain.review.models import Nomination, Review
from residency.domain.placements.models import Placement

from tests.scenarios import nominated_placements

OFFER = {"offer-starts_on": "2030-03-01", "offer-ends_on": "2030-08-31", "offer-desks": "1", "offer-benches": "0",
         "offer-offer_expires_on": "2030-02-01", "offer-conditions": "Rental agreement with a confidentiality clause"}


def value_of(html, name):
    return re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html).group(1)


def offer_now(placement, hub_admin, **kw):
    values = dict(starts_on=date(2030, 3, 1), ends_on=date(2030, 8, 31), desks=1, benches=0, offer_expires_on=date(2030, 2, 1))
    values.update(kw)
    return placements.offer(placement=placement, actor=hub_admin, now=datetime(2030, 1, 10, tzinfo=timezone.utc), **values)


def add_review(make, placement, score):
    reviewer = make.user(org=placement.application.call.route.cluster)
    db.session.add(Review(application_id=placement.application_id, reviewer_id=reviewer.id, recommendation="nominate",
                          comment="", weighted_score=score, submitted_at=datetime(2029, 12, 1, tzinfo=timezone.utc)))
    db.session.commit()


# ------------------------------------------------------------------ inbox


def test_inbox_lists_nominees_in_rank_order_with_wishes_reviews_and_rationale(client, make, login):
    hub_admin, (a, b, c) = nominated_placements(make, 3)
    # The cluster ranks c first, then a, then b.
    ranks = {c.application_id: 1, a.application_id: 2, b.application_id: 3}
    for n in db.session.scalars(select(Nomination)):
        n.rank = ranks[n.application_id]
        n.rationale = f"Rationale for rank {n.rank}"
    a.application.desired_start, a.application.months, a.application.desks, a.application.benches = date(2030, 4, 1), 6, 2, 1
    db.session.commit()
    add_review(make, a, 4)
    add_review(make, a, 3)
    login(hub_admin)
    html = client.get(f"/hub/{a.hub_id}/inbox").get_data(as_text=True)
    names = [p.application.startup.name for p in (c, a, b)]
    positions = [html.index(n) for n in names]
    assert positions == sorted(positions)
    assert "Rationale for rank 1" in html and "Rationale for rank 3" in html
    assert "3.50 over 2 reviews" in html
    assert "from 1 April 2030" in html and "6 months" in html and "2 desks" in html and "1 bench" in html
    assert "No submitted review" in html


def test_inbox_query_count_does_not_grow_with_rows(client, make, login, count_queries):
    hub_admin, [first] = nominated_placements(make, 1)
    login(hub_admin)
    add_review(make, first, 4)

    def measure():
        db.session.expire_all()
        with count_queries() as counted:
            r = client.get(f"/hub/{first.hub_id}/inbox")
        assert r.status_code == 200
        return counted.n, r.get_data(as_text=True)

    one, _html = measure()
    call = first.application.call
    call.seats = 30
    db.session.commit()
    staff = make.user(org=call.route.cluster)
    from residency.domain.review import nominations

    for i in range(12):
        app_ = make.application(call=call, status="submitted")
        workflow.perform(app_, "start_review", staff)
        db.session.commit()
        nominations.nominate(application=app_, actor=staff, rationale=f"fit {i}")
    pending = db.session.scalars(select(Placement).where(Placement.status == "pending").order_by(Placement.id)).all()
    offer_now(pending[1], hub_admin)
    placements.waitlist(placement=pending[2], actor=hub_admin)
    add_review(make, pending[3], 5)
    many, html = measure()
    assert html.count("/hub/placements/") >= 13
    # The sign-in, the memberships and their hubs; the sections' sizes; the placements of each section's
    # page and of the prompts; those rows with what they show.
    assert many == one == 5, (one, many)


def test_inbox_prompts_to_offer_the_next_waitlisted_after_a_lapse(client, make, login):
    hub_admin, (a, b, c) = nominated_placements(make, 3, desks=1)
    offer_now(a, hub_admin)
    placements.waitlist(placement=c, actor=hub_admin)  # rank 3
    placements.waitlist(placement=b, actor=hub_admin)  # rank 2: first in line
    login(hub_admin)
    html = client.get(f"/hub/{a.hub_id}/inbox").get_data(as_text=True)
    assert "Offer the next waitlisted nominee" not in html
    placements.lapse_expired_offers(now=datetime(2030, 2, 2, tzinfo=timezone.utc))
    html = client.get(f"/hub/{a.hub_id}/inbox").get_data(as_text=True)
    assert "Offer the next waitlisted nominee" in html
    assert f'/hub/placements/{b.id}#offer">{b.application.startup.name}, number 2' in html
    assert html.count('class="next-in-line"') == 1
    row = html[html.index('class="next-in-line"'):]
    assert row.index(b.application.startup.name) < row.index("</tr>")


# ------------------------------------------------------------------ occupancy


def test_occupancy_shows_capacity_booked_and_offered_per_month(client, make, login):
    hub_admin, (a, b) = nominated_placements(make, 2, desks=3, benches=2)
    offer_now(a, hub_admin, desks=2, benches=1)
    placements.answer_offer(placement=a, actor=make.user(org=a.application.startup), accept=True,
                            now=datetime(2030, 1, 20, tzinfo=timezone.utc))
    offer_now(b, hub_admin, starts_on=date(2030, 6, 15), ends_on=date(2030, 7, 31), desks=1, benches=0,
              offer_expires_on=date(2030, 2, 1))
    login(hub_admin)
    r = client.get(f"/hub/{a.hub_id}/occupancy?from=2030-05")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<caption>" in html and 'aria-hidden="true"' in html and "<svg" in html
    desks = html[html.index('id="kind-desks"'):html.index('id="kind-benches"')]
    june = desks[desks.index("June 2030</th>"):]
    june = june[:june.index("</tr>")]
    # Busiest day 15 June: 3 desks, 2 booked, 1 offered, none free.
    cells = [c.split("<")[0].strip() for c in june.split("<td>")[1:]]
    assert cells[1:5] == ["3", "2", "1", "0"], cells
    assert "15 June 2030" in june and "Full" in june
    september = desks[desks.index("September 2030</th>"):]
    assert [c.split("<")[0].strip() for c in september[:september.index("</tr>")].split("<td>")[1:]][1:5] == ["3", "0", "0", "3"]
    # A month that makes no sense falls back to the current one, with a message.
    assert "Choose a month like 2030-03" in client.get(f"/hub/{a.hub_id}/occupancy?from=May").get_data(as_text=True)


# ------------------------------------------------------------------ the placement page and its actions


def test_placement_page_prefills_the_offer_from_the_application(client, make, login):
    hub_admin, [p] = nominated_placements(make)
    p.application.desired_start, p.application.months, p.application.desks, p.application.benches = date(2030, 4, 1), 6, 2, 1
    db.session.commit()
    login(hub_admin)
    html = client.get(f"/hub/placements/{p.id}").get_data(as_text=True)
    assert value_of(html, "offer-starts_on") == "2030-04-01"
    assert value_of(html, "offer-ends_on") == "2030-09-30"
    assert (value_of(html, "offer-desks"), value_of(html, "offer-benches")) == ("2", "1")
    assert "fit" in html  # the nomination's rationale
    assert "Put on the waitlist" in html and "Reject the nomination" in html
    assert "Extend" not in html


def test_offer_through_the_page_then_refusal_names_the_full_dates_and_keeps_the_values(client, make, login):
    hub_admin, (a, b) = nominated_placements(make, 2, desks=1)
    login(hub_admin)
    r = client.post(f"/hub/placements/{a.id}/offer", data=OFFER)
    assert r.status_code == 302
    a = db.session.get(Placement, a.id)
    assert (a.status, a.starts_on, a.desks, a.conditions) == ("offered", date(2030, 3, 1), 1,
                                                              "Rental agreement with a confidentiality clause")
    follow = client.get(f"/hub/placements/{a.id}").get_data(as_text=True)
    assert "1 February 2030, 23:59 CET (Europe/Stockholm)" in follow
    r = client.post(f"/hub/placements/{b.id}/offer", data=OFFER | {"offer-starts_on": "2030-05-01", "offer-ends_on": "2030-12-31"})
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "Not enough space at the hub: office desks from 1 May 2030 to 31 August 2030 (1 of 1 already booked or offered)" in html
    assert value_of(html, "offer-ends_on") == "2030-12-31" and "Rental agreement with a confidentiality clause" in html
    assert db.session.get(Placement, b.id).status == "pending"
    assert db.session.get(Placement, b.id).starts_on is None


def test_bad_offer_input_is_refused_with_422_and_field_errors(client, make, login):
    hub_admin, [p] = nominated_placements(make)
    login(hub_admin)
    r = client.post(f"/hub/placements/{p.id}/offer", data=OFFER | {"offer-starts_on": "2029-06-01", "offer-desks": ""})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Enter the number of office desks" in html and value_of(html, "offer-starts_on") == "2029-06-01"
    r = client.post(f"/hub/placements/{p.id}/offer", data=OFFER | {"offer-starts_on": "2029-06-01"})
    assert r.status_code == 422
    assert "within the call&#39;s window" in r.get_data(as_text=True)
    assert db.session.get(Placement, p.id).status == "pending"


def test_waitlist_reject_and_not_allowed_now(client, make, login):
    hub_admin, (a, b) = nominated_placements(make, 2)
    login(hub_admin)
    assert client.post(f"/hub/placements/{a.id}/waitlist", data={"waitlist-reason": ""}).status_code == 302
    assert db.session.get(Placement, a.id).status == "waitlisted"
    r = client.post(f"/hub/placements/{b.id}/reject", data={"reject-reason": ""})
    assert r.status_code == 422 and "A reason is required." in r.get_data(as_text=True)
    assert client.post(f"/hub/placements/{b.id}/reject", data={"reject-reason": "No lab space for BSL-2"}).status_code == 302
    assert db.session.get(Placement, b.id).status == "rejected"
    # Rejected: nothing more may be done.
    r = client.post(f"/hub/placements/{b.id}/waitlist", data={})
    assert r.status_code == 409 and "This cannot be done now: the record is Rejected." in r.get_data(as_text=True)
    r = client.post(f"/hub/placements/{b.id}/extend", data={"extend-ends_on": "2030-12-31"})
    assert r.status_code == 409
    r = client.post(f"/hub/placements/{b.id}/check-in", data={"checkin-checked_in_on": "2030-03-01"})
    assert r.status_code == 409


def test_residency_check_in_extend_beyond_capacity_and_complete(client, make, login):
    hub_admin, (a, b) = nominated_placements(make, 2, desks=1)
    offer_now(a, hub_admin, ends_on=date(2030, 6, 30))
    offer_now(b, hub_admin, starts_on=date(2030, 8, 1), ends_on=date(2030, 12, 31))
    for p in (a, b):
        placements.answer_offer(placement=p, actor=make.user(org=p.application.startup), accept=True,
                                now=datetime(2030, 1, 20, tzinfo=timezone.utc))
    placements.start_due_residencies(now=datetime(2030, 3, 2, tzinfo=timezone.utc))
    login(hub_admin)
    assert client.post(f"/hub/placements/{a.id}/check-in", data={"checkin-checked_in_on": "2030-03-02"}).status_code == 302
    assert db.session.get(Placement, a.id).checked_in_on == date(2030, 3, 2)
    r = client.post(f"/hub/placements/{a.id}/extend", data={"extend-ends_on": "2030-09-15"})
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "from 1 August 2030 to 15 September 2030" in html and value_of(html, "extend-ends_on") == "2030-09-15"
    assert client.post(f"/hub/placements/{a.id}/extend", data={"extend-ends_on": "2030-07-31"}).status_code == 302
    assert db.session.get(Placement, a.id).ends_on == date(2030, 7, 31)
    r = client.post(f"/hub/placements/{a.id}/terminate", data={"terminate-reason": ""})
    assert r.status_code == 422
    assert client.post(f"/hub/placements/{a.id}/complete", data={"complete-checked_out_on": "2030-07-31"}).status_code == 302
    done = db.session.get(Placement, a.id)
    assert (done.status, done.checked_out_on) == ("completed", date(2030, 7, 31))
    html = client.get(f"/hub/placements/{a.id}").get_data(as_text=True)
    assert "Completed" in html and "the scheduler" in html and "Extended to 31 July 2030" in html
    assert client.post(f"/hub/placements/{b.id}/terminate", data={"terminate-reason": "Moved out"}).status_code == 409


def test_placement_page_reads_the_history_names_in_a_fixed_number_of_queries(client, make, login, count_queries):
    from residency.core.models import StatusChange

    hub_admin, [p] = nominated_placements(make)
    login(hub_admin)

    def note_by(user):
        db.session.add(StatusChange(workflow="placement", record_id=p.id, from_state="pending", to_state="pending",
                                    action="waitlist", actor_id=user.id, reason=f"Seen by {user.name}"))
        db.session.commit()

    def measure():
        db.session.expire_all()
        with count_queries() as counted:
            r = client.get(f"/hub/placements/{p.id}")
        assert r.status_code == 200
        return counted.n, r.get_data(as_text=True)

    note_by(make.user(org=p.hub))
    one, _html = measure()
    colleagues = [make.user(org=p.hub) for _ in range(6)]
    for user in colleagues:
        note_by(user)
    many, html = measure()
    assert all(user.name in html for user in colleagues)
    # 13: the nominee's attachments are listed too (issue 14); the call's form (sections, questions)
    # and the answers in it are three (issue 15).
    assert many == one == 12, (one, many)


# ------------------------------------------------------------------ the startup's page


def test_startup_sees_the_offer_in_the_hubs_zone_and_accepts(client, make, login):
    hub_admin, [p] = nominated_placements(make)
    offer_now(p, hub_admin, offer_expires_on=date(2030, 2, 1))
    founder = make.user(org=p.application.startup)
    login(founder)
    html = client.get(f"/startup/placements/{p.id}").get_data(as_text=True)
    assert "1 February 2030, 23:59 CET (Europe/Stockholm)" in html
    assert "Rental agreement with a confidentiality clause" not in html  # none given in this offer
    assert "Accept the offer" in html and "1 March 2030" in html and "31 August 2030" in html
    dashboard = client.get("/startup/").get_data(as_text=True)
    assert f"/startup/placements/{p.id}" in dashboard and "Residency: Offer received" in dashboard
    assert client.post(f"/startup/placements/{p.id}/accept", data={"accept-confirm": "y"}).status_code == 302
    assert db.session.get(Placement, p.id).status == "accepted"
    html = client.get(f"/startup/placements/{p.id}").get_data(as_text=True)
    assert "You accepted. The residency starts on 1 March 2030." in html
    assert client.post(f"/startup/placements/{p.id}/decline").status_code == 409


def test_an_expired_offer_cannot_be_accepted(client, make, login, app):
    hub_admin, [p] = nominated_placements(make)
    # An offer that lapsed a moment ago but the scheduler has not run yet.
    offer_now(p, hub_admin)
    db.session.get(Placement, p.id).offer_expires_at = datetime(2020, 1, 1, tzinfo=timezone.utc)
    db.session.commit()
    login(make.user(org=p.application.startup))
    html = client.get(f"/startup/placements/{p.id}").get_data(as_text=True)
    assert "Accept the offer" not in html and "The time to answer this offer has passed." in html
    r = client.post(f"/startup/placements/{p.id}/accept", data={"accept-confirm": "y"})
    assert r.status_code == 409 and "This offer expired" in r.get_data(as_text=True)


def test_pending_placement_is_hidden_from_the_startup_until_decisions_are_released(client, make, login):
    hub_admin, [p] = nominated_placements(make)
    founder = make.user(org=p.application.startup)
    login(founder)
    assert client.get(f"/startup/placements/{p.id}").status_code == 404
    p.application.call.decisions_released_at = datetime(2029, 1, 1, tzinfo=timezone.utc)
    db.session.commit()
    assert "You are nominated." in client.get(f"/startup/placements/{p.id}").get_data(as_text=True)


# ------------------------------------------------------------------ permissions


HUB_POSTS = [("offer", OFFER), ("waitlist", {}), ("reject", {"reject-reason": "x"}), ("extend", {"extend-ends_on": "2031-01-01"}),
             ("terminate", {"terminate-reason": "x"}), ("complete", {}), ("check-in", {"checkin-checked_in_on": "2030-03-01"})]


def test_admin_of_another_hub_gets_404_everywhere(client, make, login):
    hub_admin, [p] = nominated_placements(make)
    other = make.member("hub", country="SE")
    login(other)
    assert client.get(f"/hub/{p.hub_id}/inbox").status_code == 404
    assert client.get(f"/hub/{p.hub_id}/occupancy").status_code == 404
    assert client.get(f"/hub/placements/{p.id}").status_code == 404
    for action, data in HUB_POSTS:
        assert client.post(f"/hub/placements/{p.id}/{action}", data=data).status_code == 404, action
    assert client.get(f"/startup/placements/{p.id}").status_code == 404
    assert db.session.get(Placement, p.id).status == "pending"


def test_startups_see_only_their_own_placement_and_may_not_act_as_the_hub(client, make, login):
    hub_admin, (a, b) = nominated_placements(make, 2)
    offer_now(a, hub_admin)
    offer_now(b, hub_admin, starts_on=date(2030, 9, 1), ends_on=date(2030, 10, 31))
    founder_b = make.user(org=b.application.startup)
    login(founder_b)
    assert client.get(f"/startup/placements/{a.id}").status_code == 404
    assert client.post(f"/startup/placements/{a.id}/accept").status_code == 404
    assert db.session.get(Placement, a.id).status == "offered"
    # The startup's own placement at the hub's pages: a role that may not act there.
    assert client.get(f"/hub/placements/{b.id}").status_code == 403
    assert client.post(f"/hub/placements/{b.id}/reject", data={"reject-reason": "x"}).status_code == 403
    assert client.get(f"/hub/{b.hub_id}/inbox").status_code == 403


def test_hub_admin_may_see_the_placement_but_not_answer_for_the_startup(client, make, login):
    hub_admin, [p] = nominated_placements(make)
    offer_now(p, hub_admin)
    login(hub_admin)
    assert client.get(f"/hub/placements/{p.id}").status_code == 200
    # The startup's page is for its members only.
    assert client.post(f"/startup/placements/{p.id}/accept").status_code == 404
    assert db.session.get(Placement, p.id).status == "offered"


@pytest.mark.parametrize("path", ["/hub/placements/999999", "/startup/placements/999999"])
def test_unknown_placements_are_404(client, make, login, path):
    login(make.member("hub", country="SE") if path.startswith("/hub") else make.member("startup"))
    assert client.get(path).status_code == 404


def test_startup_dashboard_links_placements_in_a_fixed_number_of_queries(client, make, login, count_queries):
    from residency.domain.review import nominations

    startup = make.organisation("startup", country="NO")
    founder = make.user(org=startup)
    route = make.route()
    staff = make.user(org=route.cluster)

    def nominated():
        call = make.call(route=route)
        call.decisions_released_at = datetime(2020, 1, 1, tzinfo=timezone.utc)
        db.session.commit()
        app_ = make.application(call=call, startup=startup, author=founder, status="submitted")
        workflow.perform(app_, "start_review", staff)
        db.session.commit()
        nominations.nominate(application=app_, actor=staff, rationale="fit")

    nominated()
    login(founder)

    def measure():
        db.session.expire_all()
        with count_queries() as counted:
            html = client.get("/startup/").get_data(as_text=True)
        return counted.n, html

    one, html = measure()
    assert html.count("/startup/placements/") == 1
    for _ in range(9):
        nominated()
    ten, html = measure()
    assert html.count("/startup/placements/") == 10 and "Residency: Nominated, awaiting the hub" in html
    # The sign-in, open calls, members, join requests, the page of applications (counted, with extensions),
    # their latest events, their placements, the surveys.
    assert ten == one == 8
