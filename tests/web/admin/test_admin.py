"""The programme administrator's area, through the browser's eyes."""
from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from residency.core.extensions import db
from residency.domain.programme.models import Call, Route
from residency.domain.accounts.models import Invitation, Organisation
from residency.core.outbox_models import OutboxMessage
from residency.core.models import StatusChange

from tests.factories import valid_org_number

UTC = timezone.utc


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _admin_urls(app):
    """Every URL of the admin blueprint with the methods it answers."""
    values = {"organisation_id": 1, "invitation_id": 1, "call_id": 1, "record_id": 1, "message_id": 1,
              "workflow_name": "call", "action": "publish", "scheme_id": 1, "route_id": 1, "application_id": 1,
              "key": "summary", "direction": "up"}
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("admin."):
                continue
            url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
            for method in sorted(rule.methods & {"GET", "POST"}):
                yield method, url


# ------------------------------------------------------------------ permission


@pytest.mark.parametrize("kind", ["startup", "cluster", "hub", "funder"])
def test_everyone_but_programme_admins_gets_403_on_every_admin_url(app, make, login, kind):
    make.call(status="draft")
    client = login(make.member(kind))
    urls = list(_admin_urls(app))
    assert len(urls) >= 20  # the test walks the whole area, not a sample
    for method, url in urls:
        response = client.open(url, method=method)
        assert response.status_code == 403, (method, url, response.status_code)
    assert _count(StatusChange) == 0


def test_anonymous_visitors_are_sent_to_log_in(app, client):
    for method, url in _admin_urls(app):
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"], (method, url)


def test_dashboard_counts_and_links_to_every_page(make, login):
    admin = make.admin()
    make.organisation("hub", country="SE")
    make.call(status="published")
    make.outbox_message(delivery="failed")
    make.outbox_message(delivery="queued")
    page = login(admin).get("/admin/").get_data(as_text=True)
    for link in ("/admin/organisations", "/admin/organisations/new", "/admin/invitations", "/admin/invitations/new",
                 "/admin/routes", "/admin/routes/new", "/admin/calls", "/admin/calls/new", "/admin/outbox",
                 "/admin/workflow"):
        assert f'href="{link}' in page or f'action="{link}' in page, link
    assert "1 call is open for applications now." in page
    assert "1 message failed" in page and "1 message waiting to be sent" in page


# --------------------------------------------------------------- organisations


def _organisation_form(**overrides):
    data = dict(kind="hub", name="Gothenburg Hub", country="SE", org_number="5560117482", city="Gothenburg",
                timezone="", website="https://hub.example.se", founded_on="", employees="", track="", trl="")
    data.update(overrides)
    return data


def test_create_organisation_stores_the_canonical_number_and_the_country_zone(make, login):
    client = login(make.admin())
    response = client.post("/admin/organisations/new", data=_organisation_form())
    assert response.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Gothenburg Hub"))
    assert (org.kind, org.org_number, org.timezone, org.founded_on) == ("hub", "556011-7482", "Europe/Stockholm", None)


def test_invalid_org_number_shows_the_rules_message_on_the_field_and_creates_nothing(make, login):
    client = login(make.admin())
    before = _count(Organisation)
    response = client.post("/admin/organisations/new", data=_organisation_form(country="NO", org_number="923000012",
                                                                               name="Typo AS"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="org_number-error"' in page
    assert "fails its check digit" in page
    assert 'value="Typo AS"' in page and 'value="923000012"' in page  # what was typed is kept
    assert _count(Organisation) == before


def test_duplicate_org_number_is_refused_even_typed_differently(make, login):
    existing = make.organisation("hub", country="SE", name="First Hub")
    client = login(make.admin())
    raw = existing.org_number.replace("-", "")  # the same number without its hyphen
    response = client.post("/admin/organisations/new", data=_organisation_form(org_number=raw, name="Second Hub"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "First Hub is already registered with this organisation number." in page
    assert _count(Organisation, Organisation.name == "Second Hub") == 0


def test_startup_needs_its_profile_and_other_kinds_have_none(make, login):
    client = login(make.admin())
    response = client.post("/admin/organisations/new", data=_organisation_form(kind="startup", name="Bio AS", country="NO",
                                                                               org_number=valid_org_number("NO", 4242)))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter the date the startup was founded." in page and "Choose the startup&#39;s track." in page
    assert 'id="startup-profile" hidden' not in page  # the profile is shown when the kind is startup
    response = client.post("/admin/organisations/new", data=_organisation_form(
        kind="startup", name="Bio AS", country="NO", org_number=valid_org_number("NO", 4242),
        founded_on="2023-02-01", employees="4", track="digital_health", trl="5"))
    assert response.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Bio AS"))
    assert (org.founded_on, org.employees, org.track, org.trl) == (date(2023, 2, 1), 4, "digital_health", 5)
    # A cluster's form hides the profile and stores none of it.
    client.post("/admin/organisations/new", data=_organisation_form(
        kind="cluster", name="Cluster X", country="NO", org_number=valid_org_number("NO", 4343), trl="5", track="drugs"))
    cluster = db.session.scalar(select(Organisation).where(Organisation.name == "Cluster X"))
    assert (cluster.trl, cluster.track) == (None, None)
    assert 'id="startup-profile" hidden' in client.get("/admin/organisations/new?kind=hub").get_data(as_text=True)


def test_bad_time_zone_and_website_are_refused_on_their_fields(make, login):
    client = login(make.admin())
    response = client.post("/admin/organisations/new", data=_organisation_form(timezone="Mars/Olympus", website="javascript://x.y"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="timezone-error"' in page and 'id="website-error"' in page


def test_edit_organisation_keeps_its_kind(make, login):
    hub = make.organisation("hub", country="SE", name="Old Name")
    client = login(make.admin())
    form = client.get(f"/admin/organisations/{hub.id}/edit").get_data(as_text=True)
    assert 'value="Old Name"' in form and 'name="kind"' not in form
    response = client.post(f"/admin/organisations/{hub.id}/edit", data=_organisation_form(
        kind="startup", name="New Name", org_number=hub.org_number, city="Lund", timezone="Europe/Stockholm"))
    assert response.status_code == 302
    db.session.refresh(hub)
    assert (hub.name, hub.kind, hub.city) == ("New Name", "hub", "Lund")


def test_organisation_list_filters_by_kind(make, login):
    make.organisation("hub", country="SE", name="Hub Alpha")
    make.organisation("cluster", name="Cluster Beta")
    page = login(make.admin()).get("/admin/organisations?kind=hub").get_data(as_text=True)
    assert "Hub Alpha" in page and "Cluster Beta" not in page


def _queries(count_queries, client, url) -> int:
    """Statements one request issues, measured as in production (each request has its own app context)."""
    with count_queries() as counted:
        response = client.get(url)
    assert response.status_code == 200
    return counted.n


def test_organisation_list_uses_the_same_queries_for_2_and_30_rows(make, login, count_queries):
    client = login(make.admin())
    make.organisation("hub", country="SE")
    small = _queries(count_queries, client, "/admin/organisations")
    for _ in range(28):
        make.organisation("cluster")
    large = _queries(count_queries, client, "/admin/organisations")
    assert small == large


# ----------------------------------------------------------------- invitations


def test_invitation_creates_an_outbox_row_and_shows_as_pending(make, login):
    hub = make.organisation("hub", country="SE", name="Invite Hub")
    client = login(make.admin())
    response = client.post("/admin/invitations/new", data={"email": "New.Staff@Example.org", "organisation_id": hub.id})
    assert response.status_code == 302
    invitation = db.session.scalar(select(Invitation))
    assert (invitation.email, invitation.organisation_id) == ("new.staff@example.org", hub.id)
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "invitation"))
    assert message.recipient == "new.staff@example.org"
    page = client.get("/admin/invitations?state=pending").get_data(as_text=True)
    assert "new.staff@example.org" in page and "Pending" in page and "Withdraw" in page


def test_startups_cannot_be_chosen_for_an_invitation(make, login):
    startup = make.organisation("startup")
    client = login(make.admin())
    response = client.post("/admin/invitations/new", data={"email": "a@example.org", "organisation_id": startup.id})
    assert response.status_code == 422
    assert _count(Invitation) == 0 and _count(OutboxMessage) == 0


def test_revoke_invitation_sets_revoked_at(make, login):
    hub = make.organisation("hub", country="SE")
    client = login(make.admin())
    client.post("/admin/invitations/new", data={"email": "x@example.org", "organisation_id": hub.id})
    invitation = db.session.scalar(select(Invitation))
    response = client.post(f"/admin/invitations/{invitation.id}/revoke", follow_redirects=True)
    assert "its link no longer works" in response.get_data(as_text=True)
    db.session.refresh(invitation)
    assert invitation.revoked_at is not None
    again = client.post(f"/admin/invitations/{invitation.id}/revoke", follow_redirects=True).get_data(as_text=True)
    assert "already withdrawn" in again


def test_invitation_list_uses_the_same_queries_for_2_and_30_rows(make, login, count_queries):
    admin = make.admin()
    client = login(admin)
    hubs = [make.organisation("hub", country="SE") for _ in range(3)]

    def invite(n):
        client.post("/admin/invitations/new", data={"email": f"p{n}@example.org", "organisation_id": hubs[n % 3].id})

    for n in range(2):
        invite(n)
    small = _queries(count_queries, client, "/admin/invitations")
    for n in range(2, 30):
        invite(n)
    large = _queries(count_queries, client, "/admin/invitations")
    assert small == large


# ---------------------------------------------------------------------- routes


def test_create_route_and_refuse_a_second_one_for_the_same_country_and_hub(make, login):
    hub = make.organisation("hub", country="SE", name="BVH")
    cluster = make.organisation("cluster", name="OCC")
    funders = [make.organisation("funder", name="Innovation Norway"), make.organisation("funder", name="Other Funder")]
    client = login(make.admin())
    data = {"home_country": "NO", "host_hub_id": hub.id, "cluster_id": cluster.id, "funder_ids": [f.id for f in funders]}
    assert client.post("/admin/routes/new", data=data).status_code == 302
    route = db.session.scalar(select(Route))
    assert (route.home_country, route.host_hub_id, route.cluster_id) == ("NO", hub.id, cluster.id)
    assert sorted(f.name for f in route.funders) == ["Innovation Norway", "Other Funder"]
    response = client.post("/admin/routes/new", data=data)
    assert response.status_code == 422
    assert "There is already a route from Norway to BVH." in response.get_data(as_text=True)
    assert _count(Route) == 1


def test_route_to_a_hub_in_the_home_country_is_refused(make, login):
    hub = make.organisation("hub", country="NO", name="Oslo Hub")
    cluster = make.organisation("cluster")
    response = login(make.admin()).post("/admin/routes/new", data={"home_country": "NO", "host_hub_id": hub.id,
                                                                    "cluster_id": cluster.id})
    assert response.status_code == 422
    assert "a residency route leads to a hub in another country" in response.get_data(as_text=True)
    assert _count(Route) == 0


def test_route_list_uses_the_same_queries_for_2_and_30_rows(make, login, count_queries):
    client = login(make.admin())
    cluster = make.organisation("cluster")
    for _ in range(2):
        make.route(cluster=cluster)
    small = _queries(count_queries, client, "/admin/routes")
    for _ in range(28):
        make.route(cluster=cluster)
    large = _queries(count_queries, client, "/admin/routes")
    assert small == large


# ----------------------------------------------------------------------- calls


def _call_form(route, **overrides):
    data = dict(route_id=route.id, title="Spring residency", description="Come to Gothenburg.", timezone="Europe/Oslo",
                opens_at="2027-03-28T12:00", closes_at="2027-05-01T12:00", nomination_deadline="2027-06-01T12:00",
                decision_deadline="2027-06-15T12:00", seats="3", residency_starts_on="2027-09-01",
                residency_ends_on="2028-06-30")
    data.update({"criteria-0-name": "Science", "criteria-0-weight": "60", "criteria-1-name": "Team", "criteria-1-weight": "40"})
    data.update(overrides)
    return data


def test_call_created_with_local_times_is_stored_as_the_right_utc_instants(make, login):
    route = make.route()
    client = login(make.admin())
    response = client.post("/admin/calls/new", data=_call_form(route))
    assert response.status_code == 302
    call = db.session.scalar(select(Call))
    # 28 March 2027 is the night Europe moves to summer time: noon in Oslo is 10:00 UTC.
    assert call.opens_at == datetime(2027, 3, 28, 10, 0, tzinfo=UTC)
    assert call.closes_at == datetime(2027, 5, 1, 10, 0, tzinfo=UTC)
    assert call.status == "draft" and call.seats == 3
    assert [(c.name, str(c.weight)) for c in call.criteria] == [("Science", "60.00"), ("Team", "40.00")]
    page = client.get(f"/admin/calls/{call.id}").get_data(as_text=True)
    assert "28 March 2027, 12:00 CEST (Europe/Oslo)" in page
    edit = client.get(f"/admin/calls/{call.id}/edit").get_data(as_text=True)
    assert 'value="2027-03-28T12:00"' in edit  # shown back in the call's own zone


def test_call_time_zone_defaults_to_the_host_hubs(make, login):
    route = make.route()  # the hub is in Europe/Stockholm
    client = login(make.admin())
    assert 'value="Europe/Stockholm"' in client.get(f"/admin/calls/new?route_id={route.id}").get_data(as_text=True)
    client.post("/admin/calls/new", data=_call_form(route, timezone="", opens_at="2027-01-10T09:00"))
    call = db.session.scalar(select(Call))
    assert call.timezone == "Europe/Stockholm" and call.opens_at == datetime(2027, 1, 10, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("overrides, field, message", [
    (dict(closes_at="2027-03-28T11:00"), "closes_at", "Applications must close after the call opens."),
    (dict(nomination_deadline="2027-04-30T12:00"), "nomination_deadline", "The nomination deadline cannot be before applications close."),
    (dict(decision_deadline="2027-05-31T12:00"), "decision_deadline", "The decision deadline cannot be before the nomination deadline."),
    (dict(seats="0"), "seats", "Offer at least one seat."),
    (dict(residency_ends_on="2027-09-01"), "residency_ends_on", "The residency window must end after it starts."),
    ({"criteria-0-weight": "0"}, "criteria-0-weight", "The weight must be more than 0."),
    ({"criteria-0-weight": "lots"}, "criteria-0-weight", "Enter the weight as a number"),
    (dict(opens_at="2027-03-28T02:30"), "opens_at", "does not exist in Europe/Oslo"),
    (dict(closes_at="2027-10-31T02:30", nomination_deadline="2027-11-01T12:00", decision_deadline="2027-11-02T12:00"),
     "closes_at", "happens twice in Europe/Oslo"),
])
def test_call_rules_are_refused_on_their_field_with_nothing_saved(make, login, overrides, field, message):
    route = make.route()
    client = login(make.admin())
    response = client.post("/admin/calls/new", data=_call_form(route, title="Kept title", **overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in page
    assert message in page
    assert 'value="Kept title"' in page
    for value in overrides.values():
        assert value in page  # the typed values come back
    assert _count(Call) == 0


def test_edit_call_and_refuse_editing_an_archived_one(make, login):
    call = make.call(status="published", timezone_name="Europe/Stockholm")
    client = login(make.admin())
    form = _call_form(call.route, title="Renamed", **{"criteria-0-name": "Only one", "criteria-0-weight": "1.5",
                                                       "criteria-1-name": "", "criteria-1-weight": ""})
    form.pop("route_id")
    response = client.post(f"/admin/calls/{call.id}/edit", data=form)
    assert response.status_code == 302
    db.session.refresh(call)
    assert call.title == "Renamed" and call.status == "published"
    assert [(c.name, str(c.weight)) for c in call.criteria] == [("Only one", "1.50")]
    archived = make.call(status="archived")
    response = client.post(f"/admin/calls/{archived.id}/edit", data=form, follow_redirects=True)
    assert "Only draft and published calls can be edited" in response.get_data(as_text=True)
    db.session.refresh(archived)
    assert archived.title != "Renamed"


def test_publish_without_criteria_is_refused_with_the_guards_message(make, login):
    call = make.call(status="draft", criteria=())
    response = login(make.admin()).post(f"/admin/calls/{call.id}/publish", follow_redirects=True)
    assert "Add at least one scoring criterion before publishing the call." in response.get_data(as_text=True)
    db.session.refresh(call)
    assert call.status == "draft"
    assert _count(StatusChange, StatusChange.workflow == "call") == 0


def test_publish_close_reopen_archive_through_the_ui_write_the_audit_trail(make, login):
    now = datetime.now(UTC)
    call = make.call(status="draft", opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=10))
    admin = make.admin()
    client = login(admin)
    assert "Publish" in client.get(f"/admin/calls/{call.id}").get_data(as_text=True)
    for action, state in (("publish", "published"), ("close", "closed"), ("reopen", "published"), ("close", "closed"),
                          ("archive", "archived")):
        response = client.post(f"/admin/calls/{call.id}/{action}", follow_redirects=True)
        assert response.status_code == 200
        db.session.refresh(call)
        assert call.status == state, response.get_data(as_text=True)
    changes = db.session.scalars(select(StatusChange).where(StatusChange.workflow == "call", StatusChange.record_id == call.id)
                                 .order_by(StatusChange.id)).all()
    assert [(c.action, c.to_state, c.actor_id) for c in changes] == [
        ("publish", "published", admin.id), ("close", "closed", admin.id), ("reopen", "published", admin.id),
        ("close", "closed", admin.id), ("archive", "archived", admin.id)]


def test_an_action_not_allowed_now_is_explained(make, login):
    call = make.call(status="draft")
    response = login(make.admin()).post(f"/admin/calls/{call.id}/archive", follow_redirects=True)
    assert "This cannot be done now: the record is Draft." in response.get_data(as_text=True)


def test_call_list_shows_every_status_with_the_same_queries_for_2_and_30_rows(make, login, count_queries):
    client = login(make.admin())
    route = make.route()
    make.call(route=route, status="draft", title="Draft call")
    make.call(route=route, status="archived", title="Archived call")
    page = client.get("/admin/calls").get_data(as_text=True)
    assert "Draft call" in page and "Archived call" in page
    small = _queries(count_queries, client, "/admin/calls")
    for n in range(28):
        make.call(route=make.route(cluster=route.cluster) if n % 2 else route, status="draft")
    large = _queries(count_queries, client, "/admin/calls")
    assert small == large


# ------------------------------------------------------------- force and revert


def test_force_needs_a_reason(make, login):
    call = make.call(status="draft")
    client = login(make.admin())
    response = client.post(f"/admin/workflow/call/{call.id}", data={"action": "force", "target": "closed", "reason": " "})
    assert response.status_code == 422
    assert 'id="reason-error"' in response.get_data(as_text=True)
    db.session.refresh(call)
    assert call.status == "draft" and _count(StatusChange) == 0


def test_force_and_revert_with_a_reason_are_in_the_audit_trail(make, login):
    app_ = make.application(status="submitted")
    admin = make.admin()
    client = login(admin)
    response = client.post(f"/admin/workflow/application/{app_.id}",
                           data={"action": "force", "target": "nominated", "reason": "Cluster asked by phone"})
    assert response.status_code == 302
    db.session.refresh(app_)
    assert app_.status == "nominated"
    response = client.post(f"/admin/workflow/application/{app_.id}", data={"action": "revert", "reason": "Mistake"})
    assert response.status_code == 302
    db.session.refresh(app_)
    assert app_.status == "submitted"
    page = client.get(f"/admin/workflow/application/{app_.id}").get_data(as_text=True)
    assert "Cluster asked by phone" in page and "Mistake" in page and "correction by an administrator" in page
    forced = db.session.scalars(select(StatusChange).where(StatusChange.forced.is_(True)).order_by(StatusChange.id)).all()
    assert [(c.action, c.to_state, c.actor_id, c.visible_to_applicant) for c in forced] == [
        ("force", "nominated", admin.id, False), ("revert", "submitted", admin.id, False)]


def test_force_to_the_current_status_is_explained_and_keeps_the_reason(make, login):
    call = make.call(status="draft")
    response = login(make.admin()).post(f"/admin/workflow/call/{call.id}",
                                        data={"action": "force", "target": "draft", "reason": "Typed reason"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The record is already Draft." in page and "Typed reason" in page
    assert _count(StatusChange) == 0


@pytest.mark.parametrize("path", ["/admin/workflow/nonsense/1", "/admin/workflow/placement/1", "/admin/workflow/call/999"])
def test_unknown_workflow_or_record_is_404(make, login, path):
    make.call(status="draft")
    assert login(make.admin()).get(path).status_code == 404


def test_record_finder_leads_to_the_audit_trail(make, login):
    call = make.call(status="draft")
    response = login(make.admin()).get(f"/admin/workflow?workflow=call&record_id={call.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/workflow/call/{call.id}")


# ---------------------------------------------------------------------- outbox


def test_outbox_filters_newest_first_and_resends_a_failed_message(make, login):
    now = datetime.now(UTC)
    make.outbox_message(delivery="sent", recipient="sent@example.org", created_at=now - timedelta(hours=3))
    failed = make.outbox_message(delivery="failed", recipient="old-failure@example.org", attempts=6,
                                 last_error="SMTPRecipientsRefused: nope", created_at=now - timedelta(hours=2))
    make.outbox_message(delivery="failed", recipient="new-failure@example.org", attempts=6, created_at=now - timedelta(hours=1))
    client = login(make.admin())
    page = client.get("/admin/outbox?delivery=failed").get_data(as_text=True)
    assert "sent@example.org" not in page
    assert page.index("new-failure@example.org") < page.index("old-failure@example.org")
    assert "SMTPRecipientsRefused: nope" in page and "Resend" in page
    response = client.post(f"/admin/outbox/{failed.id}/resend", follow_redirects=True)
    assert "queued again" in response.get_data(as_text=True)
    db.session.refresh(failed)
    assert (failed.delivery, failed.attempts, failed.last_error) == ("queued", 0, None)


def test_outbox_pages_and_uses_the_same_queries_for_2_and_30_rows(make, login, count_queries):
    client = login(make.admin())
    for _ in range(2):
        make.outbox_message(delivery="failed", last_error="boom")
    small = _queries(count_queries, client, "/admin/outbox")
    for _ in range(28):
        make.outbox_message(delivery="failed", last_error="boom")
    large = _queries(count_queries, client, "/admin/outbox")
    assert small == large == 3
    for _ in range(30):
        make.outbox_message(delivery="sent")
    older = re.search(r'href="([^"]+)" rel="next"', client.get("/admin/outbox").get_data(as_text=True)).group(1)
    page_two = client.get(html.unescape(older)).get_data(as_text=True)
    assert "Page 2 of 2" in page_two
    assert _queries(count_queries, client, html.unescape(older)) == 3


def test_lifecycle_buttons_carry_a_csrf_token(app, make, login):
    call = make.call(status="draft")
    client = login(make.admin())
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post(f"/admin/calls/{call.id}/publish").status_code == 400
        db.session.refresh(call)
        assert call.status == "draft"
        page = client.get(f"/admin/calls/{call.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post(f"/admin/calls/{call.id}/publish", data={"csrf_token": token}).status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    db.session.refresh(call)
    assert call.status == "published"
