"""Issue 14: the startup's dashboard shows its placement's dates; a residency under way no
longer says "Offer lapses"; the funder's list says what waits for the officer."""
from datetime import date, datetime, timezone

from residency.core import workflow
from residency.core.extensions import db
from residency.domain.placements import services as placements
from residency.domain.placements.models import Placement

from tests.scenarios import nominated_placements
from tests.web.funder.test_funding_pages import submitted, text


def offered(make):
    hub_admin, [placement] = nominated_placements(make, 1)
    placements.offer(placement=placement, actor=hub_admin, starts_on=date(2030, 3, 1), ends_on=date(2030, 8, 31),
                     desks=1, benches=0, offer_expires_on=date(2030, 2, 1), conditions="",
                     now=datetime(2030, 1, 10, tzinfo=timezone.utc))
    return hub_admin, db.session.get(Placement, placement.id)


def test_the_startup_dashboard_shows_the_placement_dates_and_answer_by(client, make, login):
    hub_admin, placement = offered(make)
    login(make.user(org=placement.application.startup))
    html = client.get("/startup/").get_data(as_text=True)
    assert "Residency: Offer received" in html
    assert "1 March 2030 to 31 August 2030" in html
    assert "Answer by 1 February 2030" in html


def test_a_placement_in_residence_no_longer_says_offer_lapses(client, make, login):
    hub_admin, placement = offered(make)
    founder = make.user(org=placement.application.startup)
    placements.answer_offer(placement=placement, actor=founder, accept=True, now=datetime(2030, 1, 11, tzinfo=timezone.utc))
    workflow.perform(db.session.get(Placement, placement.id), "start", None, now=datetime(2030, 3, 1, 6, tzinfo=timezone.utc))
    db.session.commit()
    login(hub_admin)
    html = client.get(f"/hub/placements/{placement.id}").get_data(as_text=True)
    assert "In residence" in html and "Offer lapses" not in html
    login(founder)
    dashboard = client.get("/startup/").get_data(as_text=True)
    assert "1 March 2030 to 31 August 2030" in dashboard and "Answer by" not in dashboard


def test_the_funder_list_says_what_waits_for_the_officer(make, login):
    scheme, startup, founder, officer, fa = submitted(make)
    page = text(login(officer).get("/funder/funding"))
    assert "Start the assessment" in page
