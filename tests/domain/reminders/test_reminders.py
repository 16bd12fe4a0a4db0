"""Reminder rules: each fires exactly once, at the right moment on the local clock,
across both daylight-saving switches; preferences; delivery over real SMTP."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from residency.domain.funding import services as funding
from residency.domain.review import nominations, services as reviews
from residency.core import outbox, workflow
from residency.domain.placements import services as placements
from residency.domain.reminders import services as reminders
from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage
from residency.domain.placements.models import Placement

UTC = timezone.utc


def count(template, delivery=None):
    stmt = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template == template)
    if delivery:
        stmt = stmt.where(OutboxMessage.delivery == delivery)
    return db.session.scalar(stmt)


def draft_in_call(make, closes_at, zone="Europe/Oslo", members=2):
    call = make.call(opens_at=closes_at - timedelta(days=60), closes_at=closes_at, timezone_name=zone)
    startup = make.organisation("startup", country="NO")
    users = [make.user(org=startup) for _ in range(members)]
    app_ = make.application(call=call, startup=startup, author=users[0])
    return call, app_, users


@pytest.mark.parametrize("closes_local, fires_utc, not_before_utc", [
    # Spring forward (30 March 2031): 1 day before 12:00 CEST is 12:00 CET the day before = 11:00 UTC, not 10:00.
    ("2031-03-30T12:00", datetime(2031, 3, 29, 11, 0, tzinfo=UTC), datetime(2031, 3, 29, 10, 59, tzinfo=UTC)),
    # Fall back (26 October 2031): 1 day before 12:00 CET is 12:00 CEST = 10:00 UTC, not 11:00.
    ("2031-10-26T12:00", datetime(2031, 10, 25, 10, 0, tzinfo=UTC), datetime(2031, 10, 25, 9, 59, tzinfo=UTC)),
])
def test_call_closing_reminders_follow_the_local_clock_across_dst(make, closes_local, fires_utc, not_before_utc):
    from zoneinfo import ZoneInfo

    closes_at = datetime.fromisoformat(closes_local).replace(tzinfo=ZoneInfo("Europe/Oslo")).astimezone(UTC)
    call, app_, users = draft_in_call(make, closes_at)
    seven_days = reminders.before(closes_at, "Europe/Oslo", 7)
    assert reminders.call_closing(seven_days - timedelta(minutes=1)) == 0
    reminders.call_closing(seven_days)
    assert count("call_closing") == 2  # one per member
    assert reminders.call_closing(not_before_utc) >= 0 and count("call_closing") == 2  # the 1-day one is not due yet
    reminders.call_closing(fires_utc)
    assert count("call_closing") == 4
    reminders.call_closing(fires_utc + timedelta(hours=1))  # a rerun writes nothing new
    assert count("call_closing") == 4
    keys = sorted(db.session.scalars(select(OutboxMessage.dedup_key)))
    assert keys == sorted(f"call-closing:{d}d:application:{app_.id}:user-{u.id}" for d in (7, 1) for u in users)


def test_submitted_applications_get_no_closing_reminder_and_extensions_move_it(make):
    closes_at = datetime(2031, 5, 10, 10, tzinfo=UTC)
    call, app_, users = draft_in_call(make, closes_at, members=1)
    done = make.application(call=call, status="submitted")
    admin = make.admin()
    from residency.domain.applications import services as applications

    applications.grant_extension(call=call, startup=app_.startup, closes_at=closes_at + timedelta(days=5), reason="ill",
                                 actor=admin)
    reminders.call_closing(closes_at - timedelta(hours=2))
    # The extended startup gets its 7-day reminder about its own deadline, not the call's 1-day one.
    [first] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "call_closing")).all()
    assert first.dedup_key.startswith("call-closing:7d:") and "15 May 2031" in first.context["due_text"]
    reminders.call_closing(closes_at + timedelta(days=4, hours=1))
    assert count("call_closing") == 2
    assert done.id not in {m.context.get("application_id") for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "call_closing"))}


def test_a_scheduler_down_for_a_week_sends_the_nearest_reminder_only(make):
    closes_at = datetime(2031, 5, 10, 10, tzinfo=UTC)
    draft_in_call(make, closes_at, members=1)
    reminders.call_closing(closes_at - timedelta(hours=3))
    assert [m.dedup_key.split(":")[1] for m in db.session.scalars(select(OutboxMessage))] == ["1d"]


def test_change_request_reminder_two_days_before(make):
    call = make.call(timezone_name="Europe/Stockholm")
    app_ = make.application(call=call, status="submitted")
    staff = make.user(org=call.route.cluster)
    from residency.domain.applications import services as applications

    respond_by = (datetime.now(UTC) + timedelta(days=10)).date()
    applications.request_changes(application=app_, actor=staff, message="More detail", respond_by=respond_by)
    due = app_.response_due_at
    reminders.change_request_due(reminders.before(due, "Europe/Stockholm", 2) - timedelta(minutes=1))
    assert count("change_request_due") == 0
    reminders.change_request_due(reminders.before(due, "Europe/Stockholm", 2))
    reminders.change_request_due(reminders.before(due, "Europe/Stockholm", 1))
    assert count("change_request_due") == 1


def under_review_call(make, seats=2):
    call = make.call(seats=seats)
    lead = make.user(org=call.route.cluster)
    apps = []
    for _ in range(2):
        a = make.application(call=call, status="submitted")
        workflow.perform(a, "start_review", lead)
        db.session.commit()
        apps.append(a)
    return call, lead, apps


def test_reviewers_with_unscored_assignments_and_unfilled_seats(make):
    call, lead, (a, b) = under_review_call(make)
    reviewer, done = make.user(org=call.route.cluster), make.user(org=call.route.cluster)
    reviews.assign(application=a, actor=lead, reviewer_ids=[reviewer.id, done.id])
    reviews.assign(application=b, actor=lead, reviewer_ids=[reviewer.id])
    reviews.save_review(application=a, actor=done, scores={c.id: 4 for c in call.criteria}, recommendation="maybe",
                        comment="ok", submit=True)
    due = reminders.before(call.nomination_deadline, call.timezone, 3)
    assert reminders.reviews_due(due - timedelta(minutes=1)) == 0
    reminders.reviews_due(due)
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "reviews_due")).all()
    assert [(m.user_id, m.context["count"]) for m in mails] == [(reviewer.id, 2)]
    reminders.nomination_deadline(due)
    staff_count = len(call.route.cluster.memberships)
    assert count("nomination_deadline") == staff_count
    reminders.nomination_deadline(due + timedelta(hours=5))
    assert count("nomination_deadline") == staff_count


def test_no_nomination_reminder_when_the_seats_are_filled(make):
    call, lead, (a, b) = under_review_call(make, seats=1)
    nominations.nominate(application=a, actor=lead, rationale="best")
    reminders.nomination_deadline(reminders.before(call.nomination_deadline, call.timezone, 3))
    assert count("nomination_deadline") == 0


def test_hub_waiting_over_ten_days(make):
    call, lead, (a, b) = under_review_call(make)
    nominations.nominate(application=a, actor=lead, rationale="best")
    hub_admin = make.user(org=call.route.host_hub)
    placement = db.session.scalar(select(Placement))
    reminders.hub_waiting(placement.created_at + timedelta(days=9, hours=23))
    assert count("hub_waiting") == 0
    reminders.hub_waiting(placement.created_at + timedelta(days=10))
    reminders.hub_waiting(placement.created_at + timedelta(days=11))
    assert count("hub_waiting") == 1
    assert db.session.scalar(select(OutboxMessage.user_id).where(OutboxMessage.template == "hub_waiting")) == hub_admin.id


def test_placement_and_funding_reminders(make, smtp_server):
    from tests.scenarios import BUDGET, resident

    scheme, startup, founder, officer = resident(make)
    assert db.session.scalar(select(Placement.status).where(Placement.application.has(startup_id=startup.id))) == "accepted"
    # The residency (1 March – 31 December 2030, Stockholm) starts in 14 days.
    reminders.placement_reminders(datetime(2030, 2, 14, 12, tzinfo=UTC))
    assert count("residency_starting") == 0
    reminders.placement_reminders(datetime(2030, 2, 15, 12, tzinfo=UTC))
    reminders.placement_reminders(datetime(2030, 2, 16, 12, tzinfo=UTC))
    assert count("residency_starting") == 1
    placements.start_due_residencies(now=datetime(2030, 3, 1, 12, tzinfo=UTC))
    reminders.placement_reminders(datetime(2030, 12, 1, 12, tzinfo=UTC))
    assert count("residency_ending") == 1

    fa = funding.start(scheme=scheme, startup=startup, actor=founder, now=datetime(2030, 4, 1, tzinfo=UTC))
    funding.save_draft(fa=fa, actor=founder, budget=BUDGET, values={
        "title": "Tox", "description": "GLP tox", "period_start": "2030-04-01", "period_end": "2030-12-31",
        "own_financing": "100000", "amount_requested": "100000"})
    submitted = datetime(2030, 4, 2, tzinfo=UTC)
    funding.submit(fa=fa, actor=founder, now=submitted)
    reminders.funding_pending(submitted + timedelta(days=29))
    assert count("funding_pending") == 0
    reminders.funding_pending(submitted + timedelta(days=30, minutes=1))
    assert count("funding_pending") == 1
    funding.start_assessment(fa=fa, actor=officer)
    funding.grant(fa=fa, actor=officer, amount="100000", share_percent="50", conditions="", offer_deadline=date(2030, 6, 20),
                  report_due={"progress": date(2030, 9, 1), "final": date(2031, 1, 31)}, now=datetime(2030, 6, 1, tzinfo=UTC))
    deadline = fa.offer_expires_at
    reminders.grant_offer_expiring(reminders.before(deadline, "Europe/Oslo", 3) - timedelta(minutes=1))
    assert count("funding_offer_expiring") == 0
    reminders.grant_offer_expiring(reminders.before(deadline, "Europe/Oslo", 3))
    assert count("funding_offer_expiring") == 1
    funding.accept_offer(fa=fa, actor=founder, now=datetime(2030, 6, 2, tzinfo=UTC))
    reminders.reports_due(datetime(2030, 8, 17, 12, tzinfo=UTC))
    assert count("report_due") == 0
    reminders.reports_due(datetime(2030, 8, 18, 12, tzinfo=UTC))
    reminders.reports_due(datetime(2030, 8, 30, 12, tzinfo=UTC))
    assert count("report_due") == 1
    reminders.reports_due(datetime(2030, 9, 2, 12, tzinfo=UTC))
    reminders.reports_due(datetime(2030, 9, 9, 12, tzinfo=UTC))
    assert count("report_overdue") == 1
    # Over real SMTP every reminder arrives exactly once (mandatory and optional alike).
    written = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.delivery == "queued"))
    outbox.deliver_due(now=datetime(2031, 1, 1, tzinfo=UTC))  # after the last reminder was written
    outbox.deliver_due(now=datetime(2031, 1, 2, tzinfo=UTC))
    # Long header values are folded on the wire; the keys themselves hold no spaces.
    delivered = ["".join(str(m["X-Residency-Dedup"]).split()) for m in smtp_server.messages]
    leftover = [(m.template, m.delivery, m.last_error, m.next_attempt_at) for m in db.session.scalars(select(OutboxMessage)) if m.delivery != "sent"]
    assert len(delivered) == written == len(set(delivered)), leftover
    templates = {key.split(":")[0] for key in delivered}
    assert {"residency-starting", "residency-ending", "funding-pending", "grant-offer-expiring", "report-due",
            "report-overdue"} <= templates


def test_preferences_digest_and_off_but_mandatory_always_goes(make, smtp_server):
    closes_at = datetime(2031, 5, 10, 10, tzinfo=UTC)
    call, app_, (digest_reader, quiet) = draft_in_call(make, closes_at)
    digest_reader.reminder_delivery, quiet.reminder_delivery = "digest", "off"
    db.session.commit()
    now = closes_at - timedelta(hours=3)
    reminders.call_closing(now)
    assert count("call_closing", "held") == 1 and count("call_closing", "muted") == 1
    assert outbox.deliver_due(now=now)["sent"] == 0
    assert outbox.send_digests(now=now) == 1
    assert outbox.send_digests(now=now + timedelta(hours=1)) == 0  # one digest a day
    assert outbox.deliver_due(now=now + timedelta(minutes=1))["sent"] == 1
    [digest] = smtp_server.messages
    assert digest["To"] == digest_reader.email and "closes on 10 May 2031" in digest.get_body(("plain",)).get_content()
    # A mandatory reminder ignores the preference.
    outbox.enqueue(recipient=quiet, template="change_request_due", context={"call_title": "x", "due_text": "y",
                   "application_id": app_.id}, dedup_key="mandatory-1")
    db.session.commit()
    outbox.deliver_due(now=now + timedelta(minutes=2))
    assert [m["To"] for m in smtp_server.messages] == [digest_reader.email, quiet.email]


def test_sweep_runs_every_rule_and_smtp_delivers_each_reminder_once(make, smtp_server):
    closes_at = datetime(2031, 5, 10, 10, tzinfo=UTC)
    draft_in_call(make, closes_at, members=3)
    now = closes_at - timedelta(hours=3)
    first = reminders.sweep(now)
    assert set(first) == {name for name, _rule in reminders.RULES}
    reminders.sweep(now + timedelta(minutes=5))
    outbox.deliver_due(now=now + timedelta(minutes=6))
    outbox.deliver_due(now=now + timedelta(minutes=7))
    assert len(smtp_server.messages) == 3
    assert len({m["X-Residency-Dedup"] for m in smtp_server.messages}) == 3


def test_a_failing_rule_neither_stops_nor_undoes_the_other_rules(make, monkeypatch):
    closes_at = datetime(2031, 5, 10, 10, tzinfo=UTC)
    draft_in_call(make, closes_at, members=2)
    now = closes_at - timedelta(hours=3)

    def broken(now):
        reminders.call_closing(now)  # writes, then fails: its unit is rolled back
        raise RuntimeError("a bad record")

    monkeypatch.setattr(reminders, "RULES", [("broken", broken)] + reminders.RULES)
    counts = reminders.sweep(now)
    assert counts["broken"] is None and counts["call-closing"] == 2
    db.session.expire_all()
    assert count("call_closing") == 2


def test_offer_expiring_three_days_before_by_the_hubs_clock(make):
    from tests.scenarios import nominated_placements, offer

    hub_admin, [p] = nominated_placements(make)
    make.user(org=p.application.startup)
    offer(p, hub_admin)  # expires 1 February 2030, 23:59 in Stockholm
    due = reminders.before(p.offer_expires_at, "Europe/Stockholm", 3)
    assert due == datetime(2030, 1, 29, 22, 59, tzinfo=UTC)
    reminders.placement_reminders(due - timedelta(minutes=1))
    assert count("placement_offer_expiring") == 0
    reminders.placement_reminders(due)
    reminders.placement_reminders(due + timedelta(days=1))
    members = len(p.application.startup.memberships)
    assert count("placement_offer_expiring") == members
