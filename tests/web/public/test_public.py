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


def test_closed_calls_come_a_page_at_a_time_latest_first_in_fixed_queries(client, make, count_queries):
    """However many calls have closed, /calls lists the open ones and 25 closed ones, the latest first."""
    now = datetime.now(timezone.utc)
    make.call(title="Open call", closes_at=now + timedelta(days=3))
    route = make.route()
    for i in range(30):
        make.call(title=f"Closed call {i:02d}", status="closed", route=route, opens_at=now - timedelta(days=200),
                  closes_at=now - timedelta(days=100 - i))

    def read(path):
        db.session.expire_all()
        with count_queries() as counted:
            response = client.get(path)
        assert response.status_code == 200
        return counted.n, response.get_data(as_text=True)

    first_queries, first = read("/calls")
    assert "Open call" in first and "Closed call 29" in first and "Closed call 05" in first
    assert "Closed call 04" not in first and "30 closed calls" in first
    assert first.index("Closed call 29") < first.index("Closed call 05")
    second_queries, second = read("/calls?page=2")
    assert "Closed call 04" in second and "Closed call 00" in second and "Closed call 05" not in second
    assert "Open call" in second
    assert second_queries == first_queries
    past_end = read("/calls?page=99")[1]
    assert "Closed call 00" in past_end
