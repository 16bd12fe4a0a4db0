"""The private iCalendar feed: residencies, offers and deadlines, in the right zone, for the right person only."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from icalendar import Calendar

from residency.domain.placements import services as placements
from residency.core.extensions import db
from residency.domain.accounts.models import User

from tests.scenarios import nominated_placements
from tests.web.hub.test_placements import offer_now


def events_of(body: bytes) -> dict:
    calendar = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def feed_of(client, user) -> bytes:
    token = db.session.get(User, user.id).calendar_token
    r = client.get(f"/calendar/{token}.ics")
    assert r.status_code == 200
    assert r.mimetype == "text/calendar"
    return r.data


def test_calendar_page_creates_and_renews_the_address(client, make, login):
    user = make.member("startup")
    login(user)
    html = client.get("/calendar").get_data(as_text=True)
    assert "Create my calendar address" in html
    assert client.post("/calendar").status_code == 302
    first = db.session.get(User, user.id).calendar_token
    assert first and f"/calendar/{first}.ics" in client.get("/calendar").get_data(as_text=True)
    client.post("/calendar")
    second = db.session.get(User, user.id).calendar_token
    assert second != first
    assert client.get(f"/calendar/{first}.ics").status_code == 404
    assert client.get(f"/calendar/{second}.ics").status_code == 200
    client.post("/calendar/stop")
    assert db.session.get(User, user.id).calendar_token is None
    assert client.get(f"/calendar/{second}.ics").status_code == 404


def test_calendar_page_needs_a_login_and_unknown_tokens_are_404(client):
    assert client.get("/calendar").status_code == 302
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_startup_feed_holds_the_residency_and_the_offer_expiry_in_the_hubs_zone(client, make, login):
    hub_admin, [p] = nominated_placements(make)
    offer_now(p, hub_admin, starts_on=date(2030, 3, 1), ends_on=date(2030, 8, 31), offer_expires_on=date(2030, 2, 1))
    founder = make.user(org=p.application.startup)
    login(founder)
    client.post("/calendar")
    events = events_of(feed_of(client, founder))
    residency = events[f"placement-{p.id}-residency@nordic-residency-exchange"]
    assert residency.start == date(2030, 3, 1)
    assert residency.end == date(2030, 9, 1)  # exclusive: the last day is 31 August
    assert "DTSTART;VALUE=DATE:20300301" in residency.to_ical().decode()
    expiry = events[f"placement-{p.id}-offer-expiry@nordic-residency-exchange"]
    start = expiry.start
    assert (start.date(), start.time()) == (date(2030, 2, 1), time(23, 59))
    assert str(start.tzinfo) == "Europe/Stockholm" or getattr(start.tzinfo, "key", None) == "Europe/Stockholm"
    assert start == datetime(2030, 2, 1, 22, 59, tzinfo=timezone.utc)
    assert expiry["DTSTART"].params["TZID"] == "Europe/Stockholm"
    calendar = Calendar.from_ical(feed_of(client, founder))
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    assert "Offer" in str(residency["SUMMARY"]) and str(residency["STATUS"]) == "TENTATIVE"


def test_hub_and_cluster_feeds_and_drafts_of_open_calls(client, make, login):
    hub_admin, (a, b) = nominated_placements(make, 2)
    offer_now(a, hub_admin)
    placements.answer_offer(placement=a, actor=make.user(org=a.application.startup), accept=True,
                            now=datetime(2030, 1, 20, tzinfo=timezone.utc))
    login(hub_admin)
    client.post("/calendar")
    hub_events = events_of(feed_of(client, hub_admin))
    assert str(hub_events[f"placement-{a.id}-residency@nordic-residency-exchange"]["STATUS"]) == "CONFIRMED"
    assert f"placement-{b.id}-residency@nordic-residency-exchange" not in hub_events  # pending: no dates yet
    # Cluster staff: the nomination deadlines of their calls, in the call's zone.
    call = a.application.call
    staff = make.user(org=call.route.cluster)
    login(staff)
    client.post("/calendar")
    deadline = events_of(feed_of(client, staff))[f"call-{call.id}-nomination-deadline@nordic-residency-exchange"]
    assert deadline.start == call.nomination_deadline.replace(microsecond=0)
    assert deadline["DTSTART"].params["TZID"] == call.timezone
    # A startup's draft in an open call (Oslo time), and none for a call that has closed.
    open_call = make.call(timezone_name="Europe/Oslo")
    closed_call = make.call(opens_at=datetime.now(timezone.utc) - timedelta(days=30),
                            closes_at=datetime.now(timezone.utc) - timedelta(days=1))
    startup = make.organisation("startup")
    founder = make.user(org=startup)
    draft = make.application(call=open_call, startup=startup, author=founder)
    late = make.application(call=closed_call, startup=startup, author=founder)
    login(founder)
    client.post("/calendar")
    events = events_of(feed_of(client, founder))
    due = events[f"application-{draft.id}-deadline@nordic-residency-exchange"]
    assert due.start == open_call.closes_at.replace(microsecond=0) and due["DTSTART"].params["TZID"] == "Europe/Oslo"
    assert due.start.tzinfo == ZoneInfo("Europe/Oslo") or str(due.start.tzinfo) == "Europe/Oslo"
    assert f"application-{late.id}-deadline@nordic-residency-exchange" not in events


def test_another_users_feed_shows_nothing_of_this_user(client, make, login):
    hub_admin, [p] = nominated_placements(make)
    offer_now(p, hub_admin)
    founder = make.user(org=p.application.startup)
    stranger = make.member("startup")
    other_hub = make.member("hub", country="SE")
    for user in (founder, stranger, other_hub):
        login(user)
        client.post("/calendar")
    mine = feed_of(client, founder)
    assert p.application.startup.name.encode() in mine
    for user in (stranger, other_hub):
        body = feed_of(client, user)
        assert events_of(body) == {}
        assert p.application.startup.name.encode() not in body and p.hub.name.encode() not in body
