"""The public calls pages: deadlines in the call's zone with the zone named; closed calls visible, not appliable."""
from datetime import datetime, timedelta, timezone

from residency.core.extensions import db
from residency.domain.applications.models import Application


def test_calls_page_shows_deadlines_in_the_calls_zone_and_time_left(client, make):
    now = datetime.now(timezone.utc)
    make.call(title="Open call", closes_at=now + timedelta(days=3, hours=2), timezone_name="Europe/Oslo")
    make.call(title="Old call", status="closed", opens_at=now - timedelta(days=90), closes_at=now - timedelta(days=30))
    make.call(title="Secret draft", status="draft")
    html = client.get("/calls").get_data(as_text=True)
    assert "Open call" in html and "Old call" in html and "Secret draft" not in html
    assert "(Europe/Oslo)" in html and "3 days left" in html
    assert "Not accepted: the call is closed." in html


def test_a_closed_call_offers_no_apply_button_and_refuses_a_direct_post(client, make, login):
    now = datetime.now(timezone.utc)
    call = make.call(status="closed", opens_at=now - timedelta(days=90), closes_at=now - timedelta(days=30))
    startup = make.organisation("startup", country=call.route.home_country)
    login(make.user(org=startup))
    html = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "This call is closed" in html and "Start or continue your application" not in html
    client.post(f"/startup/calls/{call.id}/apply")
    assert db.session.query(Application).count() == 0


def test_draft_call_page_is_404_for_visitors(client, make):
    assert client.get(f"/calls/{make.call(status='draft').id}").status_code == 404
