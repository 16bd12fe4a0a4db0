"""Issue 14: a notification opens the record it is about, and its time is on the reader's clock."""
from datetime import datetime, timezone

from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage

AT = datetime(2030, 1, 10, 19, 48, tzinfo=timezone.utc)


def note(user, template, context, key):
    db.session.add(OutboxMessage(dedup_key=key, recipient=user.email, user_id=user.id, template=template,
                                 context=context, created_at=AT, next_attempt_at=AT))
    db.session.commit()


def test_a_notification_links_to_its_record(client, make, login):
    founder = make.member("startup")
    note(founder, "placement_offered", {"hub_name": "BVH", "startup_name": "Acme", "placement_id": 42}, "n1")
    note(founder, "funding_granted", {"funder_name": "Innovation Norway", "startup_name": "Acme", "funding_id": 7}, "n2")
    note(founder, "digest", {}, "n3")
    login(founder)
    html = client.get("/account/notifications").get_data(as_text=True)
    assert '<a href="/startup/placements/42">' in html
    assert '<a href="/startup/funding/7">' in html


def test_staff_notifications_link_to_their_own_area(client, make, login):
    officer = make.member("funder")
    note(officer, "funding_offer_accepted", {"startup_name": "Acme", "title": "Tox", "funding_id": 9}, "n4")
    login(officer)
    assert '<a href="/funder/funding/9">' in client.get("/account/notifications").get_data(as_text=True)


def test_a_startup_without_its_own_zone_reads_its_countrys_clock(client, make, login):
    founder = make.member("startup", country="NO")
    for org in founder.organisations():
        org.timezone = None
    db.session.commit()
    note(founder, "digest", {}, "n5")
    login(founder)
    html = client.get("/account/notifications").get_data(as_text=True)
    assert "20:48" in html and "(UTC)" not in html
