"""Finnish and Icelandic deadlines on the days the clocks change.

Helsinki is an hour ahead of Oslo, Stockholm and Copenhagen (EET, EEST in summer); Reykjavik
keeps UTC all year (GMT, no daylight saving). On 28 March 2027 the EU clocks go forward at
01:00 UTC (Helsinki 03:00 EET becomes 04:00 EEST) and on 31 October 2027 they go back at 01:00
UTC (04:00 EEST becomes 03:00 EET); Iceland's clocks do not move. A call at a hub in Helsinki
or Reykjavik that closes at 23:59 local time on either day is stored as the right instant,
reminded N days before at 23:59 on the local clock (RESIDENCY_REMINDERS: 7 and 1 days before
closing for drafts, 3 before the nomination deadline, 3 before a grant offer lapses), written
in the reader's language with the zone named, and carried in calendar feeds with its zone.

The expected instants are written out by hand, never computed with the code under test."""
from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta, timezone

import pytest
from flask_babel import force_locale
from icalendar import Calendar
from sqlalchemy import func, select

from residency.core import outbox
from residency.core.extensions import db
from residency.core.i18n import format_in_zone
from residency.core.outbox_models import OutboxMessage
from residency.domain.accounts.models import Organisation
from residency.domain.funding import services as funding
from residency.domain.programme import services as programme
from residency.domain.reminders import calendar, services as reminders

from tests.scenarios import fill, resident

UTC = timezone.utc


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# name: (zone, home country, closing day, the closing instant in UTC, the zone's abbreviation that day,
#        {days before: when that reminder falls due, in UTC}, 3 days before (nomination reminder), in UTC)
CASES = {
    # Spring forward: 23:59 EEST (UTC+3) is 20:59 UTC; the day before is still EET (UTC+2): 21:59 UTC.
    "helsinki-spring": ("Europe/Helsinki", "FI", date(2027, 3, 28), utc(2027, 3, 28, 20, 59), "EEST",
                        {7: utc(2027, 3, 21, 21, 59), 1: utc(2027, 3, 27, 21, 59)}, utc(2027, 3, 25, 21, 59)),
    "reykjavik-spring": ("Atlantic/Reykjavik", "IS", date(2027, 3, 28), utc(2027, 3, 28, 23, 59), "GMT",
                         {7: utc(2027, 3, 21, 23, 59), 1: utc(2027, 3, 27, 23, 59)}, utc(2027, 3, 25, 23, 59)),
    # Fall back: 23:59 EET (UTC+2) is 21:59 UTC; the day before is still EEST (UTC+3): 20:59 UTC.
    "helsinki-autumn": ("Europe/Helsinki", "FI", date(2027, 10, 31), utc(2027, 10, 31, 21, 59), "EET",
                        {7: utc(2027, 10, 24, 20, 59), 1: utc(2027, 10, 30, 20, 59)}, utc(2027, 10, 28, 20, 59)),
    "reykjavik-autumn": ("Atlantic/Reykjavik", "IS", date(2027, 10, 31), utc(2027, 10, 31, 23, 59), "GMT",
                         {7: utc(2027, 10, 24, 23, 59), 1: utc(2027, 10, 30, 23, 59)}, utc(2027, 10, 28, 23, 59)),
}

# Icelandic kennitala numbers of legal entities (day + 40), valid under the hand rule and python-stdnum.
KENNITALA = itertools.cycle(["520202-3230", "450922-6090", "610321-4539", "510101-2359"])


def organisation(make, kind, country, zone=None, **kw) -> Organisation:
    if country != "IS":
        return make.organisation(kind, country=country, **({"timezone": zone} if zone else {}), **kw)
    number = next(KENNITALA)
    org = Organisation(kind=kind, name=f"Reykjavík {kind} {number}", country="IS", org_number=number, city="Reykjavík",
                       timezone=zone, **kw)
    if kind == "startup":
        org.founded_on, org.employees, org.track, org.trl = date(2022, 1, 1), 3, "drugs", 4
    db.session.add(org)
    db.session.commit()
    return org


def nordic_call(make, case):
    """A published call at a hub in the case's zone, its four moments typed by the administrator as
    local times (the call's zone left blank: the hub's). Closing and nominations at 23:59 on the day."""
    zone, country, day = CASES[case][:3]
    hub = organisation(make, "hub", country, zone)
    cluster = organisation(make, "cluster", country, zone)
    route = make.route(home_country=country, hub=hub, cluster=cluster, funders=[])
    admin = make.admin()
    call = programme.create_call(
        admin, route_id=route.id, title=f"Residency in {zone}", timezone_name=None,
        opens_at=datetime(day.year, day.month, 1, 9, 0) - timedelta(days=60),
        closes_at=datetime.combine(day, time(23, 59)), nomination_deadline=datetime.combine(day, time(23, 59)),
        decision_deadline=datetime.combine(day + timedelta(days=30), time(12, 0)), seats=2,
        residency_starts_on=day + timedelta(days=90), residency_ends_on=day + timedelta(days=400),
        criteria=[{"name": "Quality", "weight": "60"}, {"name": "Team", "weight": "40"}])
    programme.change_call_status(admin, call.id, "publish", now=call.opens_at)
    return call


def count(template) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template == template))


@pytest.mark.parametrize("case", CASES)
def test_the_deadline_is_stored_as_the_instant_of_2359_on_the_local_clock(make, case):
    zone, _country, _day, closes_utc, abbreviation, *_ = CASES[case]
    call = nordic_call(make, case)
    db.session.expire_all()
    assert call.timezone == zone  # from the hub
    assert call.closes_at == closes_utc and call.nomination_deadline == closes_utc
    assert programme.utc_to_local(call.closes_at, zone) == datetime.combine(CASES[case][2], time(23, 59))
    assert format_in_zone(call.closes_at, zone).endswith(f"23:59 {abbreviation} ({zone})")


@pytest.mark.parametrize("case", CASES)
def test_drafts_are_reminded_7_and_1_days_before_at_2359_local(make, case, app):
    zone, country, day, closes_utc, abbreviation, due, _nomination = CASES[case]
    call = nordic_call(make, case)
    startup = organisation(make, "startup", country)
    language = {"FI": "fi", "IS": "is"}[country]
    founder = make.user(org=startup, language=language)
    make.application(call=call, startup=startup, author=founder)
    for days in (7, 1):
        # Not a minute early, and not an hour late: an hour either way is the mistake a fixed UTC offset
        # (or Oslo's clock) makes on these days.
        before = count("call_closing")
        reminders.call_closing(due[days] - timedelta(minutes=1))
        assert count("call_closing") == before, days
        reminders.call_closing(due[days])
        assert count("call_closing") == before + 1, days
    reminders.call_closing(closes_utc - timedelta(minutes=5))
    assert count("call_closing") == 2
    keys = sorted(db.session.scalars(select(OutboxMessage.dedup_key)))
    assert [k.split(":")[1] for k in keys] == ["1d", "7d"]
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.like("call-closing:1d:%"))).one()
    assert message.context["due_text"] == format_in_zone(closes_utc, zone)
    assert message.context["due_text"].startswith(f"{day.day} {'March' if day.month == 3 else 'October'} 2027, 23:59 {abbreviation}")
    # The e-mail names the local time and the zone in the founder's own language.
    rendered = outbox.render(message)
    with force_locale(language):
        local_text = format_in_zone(closes_utc, zone)
    assert local_text in rendered.body and local_text.endswith(f"{abbreviation} ({zone})")
    assert ("23.59" if language == "fi" else "23:59") in local_text


@pytest.mark.parametrize("case", CASES)
def test_cluster_staff_are_reminded_3_days_before_the_nomination_deadline_at_2359_local(make, case):
    zone, country, day, closes_utc, abbreviation, _due, three_days = CASES[case]
    call = nordic_call(make, case)
    staff = make.user(org=call.route.cluster)
    assert reminders.nomination_deadline(three_days - timedelta(minutes=1)) == 0
    assert reminders.nomination_deadline(three_days) == 1
    [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "nomination_deadline")).all()
    assert message.recipient == staff.email
    assert message.context["due_text"].endswith(f"23:59 {abbreviation} ({zone})")
    assert reminders.nomination_deadline(three_days + timedelta(hours=2)) == 1 and count("nomination_deadline") == 1


@pytest.mark.parametrize("case", CASES)
def test_calendar_feeds_carry_the_deadline_in_its_zone(make, case):
    zone, country, day, closes_utc, _abbreviation, *_ = CASES[case]
    call = nordic_call(make, case)
    startup = organisation(make, "startup", country)
    founder = make.user(org=startup)
    draft = make.application(call=call, startup=startup, author=founder)
    staff = make.user(org=call.route.cluster)
    before = closes_utc - timedelta(days=10)
    for user, uid in ((founder, f"application-{draft.id}-deadline"), (staff, f"call-{call.id}-nomination-deadline")):
        text = calendar.feed(user, now=before).decode()
        cal = Calendar.from_ical(text)
        [event] = [e for e in cal.walk("VEVENT") if str(e["UID"]).startswith(uid)]
        assert event.start == closes_utc
        assert f"Time zone: {zone}." in str(event["DESCRIPTION"])
        unfolded = text.replace("\r\n ", "")
        if zone == "Atlantic/Reykjavik":
            # Reykjavik is UTC all year: RFC 5545 writes such a moment in UTC ("Z", never TZID=UTC), and
            # icalendar counts Atlantic/Reykjavik as UTC. The same wall-clock time every day of the year.
            assert f"DTSTART:{day:%Y%m%d}T235900Z" in unfolded
            assert cal.walk("VTIMEZONE") == []
        else:
            assert event["DTSTART"].params["TZID"] == zone
            assert f"DTSTART;TZID={zone}:{day:%Y%m%d}T235900" in unfolded
            [vtimezone] = cal.walk("VTIMEZONE")
            assert str(vtimezone["TZID"]) == zone
            kinds = {component.name for component in vtimezone.subcomponents}
            offsets = {c["TZOFFSETTO"].to_ical() for c in vtimezone.subcomponents}
            assert kinds == {"STANDARD", "DAYLIGHT"} and {str(o, "ascii") if isinstance(o, bytes) else o
                                                          for o in offsets} == {"+0200", "+0300"}
            assert f"{day:%Y%m%d}T040000" in unfolded  # the switch that day (04:00 EEST / 03:00 local), in the rules


@pytest.mark.parametrize("zone_given", ["Europe/Helsinki", None])
@pytest.mark.parametrize("case", ["helsinki-spring", "helsinki-autumn"])
def test_a_finnish_funders_grant_offer_lapses_and_is_reminded_on_helsinki_time(make, case, zone_given):
    """Also when the funder has no time zone of its own: a Finnish funder keeps Finland's clock, not Oslo's."""
    _zone, _country, day, closes_utc, abbreviation, _due, three_days = CASES[case]
    scheme, startup, founder, officer = resident(make, "FI", "EUR")
    scheme.funder.timezone = zone_given
    db.session.commit()
    now = datetime.combine(day - timedelta(days=20), time(9), UTC)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder, now=now)
    fill(fa, founder, requested="30000.00", own="170000.00")
    funding.submit(fa=fa, actor=founder, now=now)
    funding.start_assessment(fa=fa, actor=officer)
    funding.grant(fa=fa, actor=officer, amount="30000", share_percent="15", conditions="", offer_deadline=day,
                  report_due={"progress": day + timedelta(days=90), "final": day + timedelta(days=300)}, now=now)
    db.session.expire_all()
    assert funding.funder_zone(fa.scheme) == "Europe/Helsinki"
    assert fa.offer_expires_at == closes_utc  # 23:59 in Helsinki on the day the clocks change
    assert reminders.grant_offer_expiring(three_days - timedelta(minutes=1)) == 0
    assert reminders.grant_offer_expiring(three_days) == 1
    [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "funding_offer_expiring")).all()
    assert f"23:59 {abbreviation} (Europe/Helsinki)" in outbox.render(message).body
