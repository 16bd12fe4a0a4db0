"""The JSON API: personal tokens, permission on every record, pagination and transitions."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from residency.domain.accounts import tokens
from residency.core.extensions import db
from residency.domain.accounts.token_models import ApiToken
from residency.domain.applications.models import Application
from residency.domain.funding.models import FundingApplication
from residency.core.models import StatusChange
from residency.core.db import utcnow

from tests.scenarios import resident


def token_for(user, days=30) -> str:
    return tokens.create(actor=user, name="script", days=days).secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


# ------------------------------------------------------------------ tokens


def test_token_page_creates_shows_once_lists_and_revokes(make, login, client):
    user = make.member("startup")
    client = login(user)
    page = client.get("/api/tokens")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    created = client.post("/api/tokens", data={"csrf_token": csrf, "name": "CI", "days": "90"})
    assert created.status_code == 200
    secret = re.search(r"<code data-token>([^<]+)</code>", created.get_data(as_text=True)).group(1)
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert token.token_hash != secret and secret.startswith(token.prefix)
    assert timedelta(days=89) < token.expires_at - token.created_at <= timedelta(days=90)
    assert client.get("/api/v1/applications", headers=bearer(secret)).status_code == 200

    listing = client.get("/api/tokens").get_data(as_text=True)
    assert "CI" in listing and secret not in listing  # shown once only
    assert client.post(f"/api/tokens/{token.id}/revoke", data={"csrf_token": csrf}).status_code == 302
    assert client.get("/api/v1/applications", headers=bearer(secret)).status_code == 401


def test_token_page_needs_login_and_csrf(make, login, client):
    assert client.get("/api/tokens").status_code == 302
    user = make.member("startup")
    client = login(user)
    client.application.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/api/tokens", data={"name": "CI", "days": "90"})
        assert response.status_code == 400
        # The API itself authenticates by token, not cookie, and needs no CSRF token.
        application = make.application(status="submitted")
        secret = token_for(application.created_by)
        withdrawn = client.post(f"/api/v1/applications/{application.id}/transitions",
                                json={"action": "withdraw", "reason": "Changed plans"}, headers=bearer(secret))
        assert withdrawn.status_code == 200, withdrawn.get_data(as_text=True)
    finally:
        client.application.config["WTF_CSRF_ENABLED"] = False
    assert db.session.scalar(select(ApiToken.id).where(ApiToken.name == "CI")) is None


def test_another_users_token_cannot_be_revoked(make, login):
    owner, other = make.member("startup"), make.member("startup")
    secret = token_for(owner)
    token = db.session.scalar(select(ApiToken))
    client = login(other)
    assert client.post(f"/api/tokens/{token.id}/revoke").status_code == 404
    assert client.get("/api/v1/applications", headers=bearer(secret)).status_code == 200


def test_missing_unknown_expired_and_revoked_tokens_get_401_json(make, client):
    user = make.member("startup")
    expired = token_for(user)
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    revoked = token_for(user)
    tokens.revoke(actor=user, token_id=db.session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()).limit(1)))

    for headers in ({}, bearer("rx_nonsense"), bearer(expired), bearer(revoked), {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/applications", headers=headers)
        assert response.status_code == 401, headers
        assert response.is_json and set(response.get_json()) >= {"error", "message"}
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # Public calls need no token, but a bad one is still refused.
    assert client.get("/api/v1/calls").status_code == 200
    assert client.get("/api/v1/calls", headers=bearer(expired)).status_code == 401


def test_session_cookie_alone_does_not_authenticate_the_api(make, login):
    client = login(make.member("startup"))
    assert client.get("/api/v1/applications").status_code == 401


# ------------------------------------------------------------------ permission


def test_a_startup_token_sees_only_its_own_applications(make, client):
    call = make.call()
    mine = make.application(call=call, status="submitted")
    theirs = make.application(call=call, status="submitted")
    me = make.user(org=mine.startup)
    headers = bearer(token_for(me))

    listing = client.get("/api/v1/applications", headers=headers)
    assert listing.status_code == 200
    assert [a["id"] for a in listing.get_json()] == [mine.id]
    assert client.get(f"/api/v1/applications/{mine.id}", headers=headers).status_code == 200
    refused = client.get(f"/api/v1/applications/{theirs.id}", headers=headers)
    assert refused.status_code == 404 and refused.is_json and set(refused.get_json()) >= {"error", "message"}
    # Acting on it is refused the same way: it does not exist for this caller.
    response = client.post(f"/api/v1/applications/{theirs.id}/transitions", json={"action": "withdraw", "reason": "x"},
                           headers=headers)
    assert response.status_code == 404


def test_cluster_staff_see_submitted_applications_of_their_route_but_no_drafts(make, client):
    call = make.call()
    submitted = make.application(call=call, status="submitted")
    make.application(call=call, status="draft")
    elsewhere = make.application(status="submitted")
    staff = make.user(org=call.route.cluster)
    listing = client.get("/api/v1/applications", headers=bearer(token_for(staff))).get_json()
    assert [a["id"] for a in listing] == [submitted.id]
    assert listing[0]["status_label"] == "Submitted, awaiting review" and listing[0]["actions"] == ["request_changes", "start_review"]
    assert client.get(f"/api/v1/applications/{elsewhere.id}", headers=bearer(token_for(staff))).status_code == 404


def test_calls_are_public_and_drafts_are_not_listed(make, client):
    published = make.call(status="published")
    draft = make.call(status="draft")
    listing = client.get("/api/v1/calls").get_json()
    assert [c["id"] for c in listing] == [published.id]
    assert client.get(f"/api/v1/calls/{draft.id}").status_code == 404
    assert client.get(f"/api/v1/calls/{published.id}").get_json()["route"]["home_country"] == "NO"


def test_placements_funding_and_reports_follow_the_web_pages_rules(make, client):
    scheme, startup, founder, officer = resident(make)
    from residency.domain.funding import services as funding

    fa = funding.start(scheme=scheme, startup=startup, actor=founder)
    stranger = make.member("startup")
    mine, theirs = bearer(token_for(founder)), bearer(token_for(stranger))

    placements = client.get("/api/v1/placements", headers=mine).get_json()
    assert len(placements) == 1 and placements[0]["status"] == "accepted"
    assert client.get("/api/v1/placements", headers=theirs).get_json() == []
    assert client.get(f"/api/v1/placements/{placements[0]['id']}", headers=theirs).status_code == 404

    assert [f["id"] for f in client.get("/api/v1/funding-applications", headers=mine).get_json()] == [fa.id]
    # The funder's officers never see drafts.
    assert client.get("/api/v1/funding-applications", headers=bearer(token_for(officer))).get_json() == []
    assert client.get(f"/api/v1/funding-applications/{fa.id}", headers=bearer(token_for(officer))).status_code == 404
    assert client.get("/api/v1/reports/999999", headers=mine).status_code == 404


def test_an_unreleased_decision_stays_under_review_for_the_startup(make, client):
    from residency.domain.review import nominations
    from residency.core import workflow

    call = make.call()
    application = make.application(call=call, status="submitted")
    staff = make.user(org=call.route.cluster)
    workflow.perform(application, "start_review", staff)
    db.session.commit()
    nominations.nominate(application=application, actor=staff, rationale="fit")
    founder = make.user(org=application.startup)
    headers = bearer(token_for(founder))
    seen = client.get(f"/api/v1/applications/{application.id}", headers=headers).get_json()
    assert seen["status"] == "under_review" and seen["status_label"] == "Under review"
    # The pending placement is not the startup's to know about yet.
    assert client.get("/api/v1/placements", headers=headers).get_json() == []
    refused = client.post(f"/api/v1/applications/{application.id}/transitions", json={"action": "withdraw", "reason": "x"},
                          headers=headers)
    assert refused.status_code == 409 and "Nominated" not in refused.get_json()["message"]


# ------------------------------------------------------------------ pagination


def test_lists_are_paginated_with_an_x_pagination_header(make, client, count_queries):
    call = make.call()
    startup = make.organisation("startup")
    founder = make.user(org=startup)
    ids = []
    for _ in range(5):
        other_call = make.call(route=call.route)
        ids.append(make.application(call=other_call, startup=startup, author=founder).id)
    headers = bearer(token_for(founder))

    first = client.get("/api/v1/applications?page=1&page_size=2", headers=headers)
    meta = json.loads(first.headers["X-Pagination"])
    assert meta["total"] == 5 and meta["total_pages"] == 3 and meta["page"] == 1 and meta["next_page"] == 2
    assert [a["id"] for a in first.get_json()] == ids[:2]
    last = client.get("/api/v1/applications?page=3&page_size=2", headers=headers)
    assert [a["id"] for a in last.get_json()] == ids[4:]

    too_big = client.get("/api/v1/applications?page_size=1000", headers=headers)
    assert too_big.status_code == 422 and too_big.is_json and "page_size" in too_big.get_json()["errors"]
    assert client.get("/api/v1/applications?page=0", headers=headers).status_code == 422

    with count_queries() as small:
        client.get("/api/v1/applications?page_size=1", headers=headers)
    with count_queries() as large:
        client.get("/api/v1/applications?page_size=5", headers=headers)
    assert small.n == large.n == 5


# ------------------------------------------------------------------ transitions


def test_a_transition_goes_through_the_workflow_and_writes_the_audit_row(make, client):
    call = make.call()
    application = make.application(call=call, status="submitted")
    staff = make.user(org=call.route.cluster)
    headers = bearer(token_for(staff))

    response = client.post(f"/api/v1/applications/{application.id}/transitions", json={"action": "start_review"},
                           headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "under_review" and body["from_status"] == "submitted" and body["action"] == "start_review"
    change = db.session.get(StatusChange, body["change_id"])
    assert (change.workflow, change.record_id, change.actor_id, change.to_state) == (
        "application", application.id, staff.id, "under_review")
    assert db.session.get(Application, application.id).status == "under_review"

    again = client.post(f"/api/v1/applications/{application.id}/transitions", json={"action": "start_review"},
                        headers=headers)
    assert again.status_code == 409 and again.is_json and again.get_json()["message"]
    assert db.session.scalar(select(StatusChange).where(StatusChange.id > change.id)) is None


def test_transition_refusals_have_the_right_codes(make, client):
    call = make.call()
    application = make.application(call=call, status="submitted")
    founder = db.session.get(Application, application.id).created_by
    staff = make.user(org=call.route.cluster)
    url = f"/api/v1/applications/{application.id}/transitions"

    # The startup sees the application but may not review it.
    forbidden = client.post(url, json={"action": "start_review"}, headers=bearer(token_for(founder)))
    assert forbidden.status_code == 403 and forbidden.is_json
    # A withdrawal needs a reason.
    missing = client.post(url, json={"action": "withdraw"}, headers=bearer(token_for(founder)))
    assert missing.status_code == 422 and "reason" in missing.get_json()["errors"]
    # No action, an unknown one, or one without the details it needs.
    assert client.post(url, json={}, headers=bearer(token_for(staff))).status_code == 422
    assert client.post(url, json={"action": "fly"}, headers=bearer(token_for(staff))).status_code == 422
    assert client.post(url, json={"action": "nominate"}, headers=bearer(token_for(staff))).status_code == 422
    assert client.post(url, data="not json", headers=bearer(token_for(staff)) | {"Content-Type": "application/json"}
                       ).status_code in (400, 422)
    withdrawn = client.post(url, json={"action": "withdraw", "reason": "We pivoted"}, headers=bearer(token_for(founder)))
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert db.session.get(Application, application.id).status == "withdrawn"


def test_openapi_document_is_served_without_external_assets(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.0.3" and spec["info"]["version"] == "v1"
    assert "/api/v1/applications/{application_id}" in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    assert client.get("/api/v1/swagger-ui").status_code == 404


def test_a_page_past_the_end_is_empty_even_for_a_huge_number(make, client):
    make.call()
    response = client.get("/api/v1/calls?page=505536608146003898778255360&page_size=17")
    assert response.status_code == 200 and response.get_json() == []


def test_ids_beyond_the_database_range_are_not_found(make, client):
    secret = token_for(make.member("startup"))
    for path in ("/api/v1/calls/132522782344299950374912", "/api/v1/applications/7410841806731961434112",
                 "/api/v1/applications/0"):
        response = client.get(path, headers=bearer(secret))
        assert response.status_code == 404 and response.is_json, path


def test_actions_that_need_details_take_them_in_the_body(make, client):
    """Nominate, offer and grant through the API go through the same services as the pages."""
    from datetime import date, timedelta

    from residency.domain.review.models import Nomination
    from residency.domain.placements.models import Placement

    call = make.call(seats=1)
    application = make.application(call=call, status="submitted")
    staff = make.user(org=call.route.cluster)
    headers = bearer(token_for(staff))
    url = f"/api/v1/applications/{application.id}/transitions"
    assert client.post(url, json={"action": "start_review"}, headers=headers).status_code == 200
    refused = client.post(url, json={"action": "nominate", "rationale": " "}, headers=headers)
    assert refused.status_code == 422 and "rationale" in refused.get_json()["errors"]
    done = client.post(url, json={"action": "nominate", "rationale": "Best fit", "rank": 1}, headers=headers)
    assert done.status_code == 200 and done.get_json()["status"] == "nominated"
    assert db.session.scalar(select(Nomination.rationale).where(Nomination.application_id == application.id)) == "Best fit"

    placement = db.session.scalar(select(Placement).where(Placement.application_id == application.id))
    hub_admin = make.user(org=call.route.host_hub)
    start = call.residency_starts_on
    offer_url = f"/api/v1/placements/{placement.id}/transitions"
    missing = client.post(offer_url, json={"action": "offer"}, headers=bearer(token_for(hub_admin)))
    assert missing.status_code == 422 and "starts_on" in missing.get_json()["errors"]
    make.capacity(call.route.host_hub, start, start + timedelta(days=400), desks=4, benches=2)
    offered = client.post(offer_url, headers=bearer(token_for(hub_admin)), json={
        "action": "offer", "starts_on": start.isoformat(), "ends_on": (start + timedelta(days=90)).isoformat(),
        "desks": 1, "benches": 1, "offer_expires_on": (date.today() + timedelta(days=10)).isoformat()})
    assert offered.status_code == 200, offered.get_json()
    assert db.session.get(Placement, placement.id).status == "offered"


def test_a_funder_cancels_a_grant_in_progress_through_the_api(make, client):
    """The API's cancel goes through the funding service the officer's page uses: a reason is required."""
    from tests.scenarios import _in_progress

    scheme, startup, founder, officer, fa = _in_progress(make)
    url = f"/api/v1/funding-applications/{fa.id}/transitions"
    officer_headers = bearer(token_for(officer))
    assert "cancel" in client.get(f"/api/v1/funding-applications/{fa.id}", headers=officer_headers).get_json()["actions"]

    missing = client.post(url, json={"action": "cancel"}, headers=officer_headers)
    assert missing.status_code == 422 and "reason" in missing.get_json()["errors"]
    forbidden = client.post(url, json={"action": "cancel", "reason": "Not ours"}, headers=bearer(token_for(founder)))
    assert forbidden.status_code == 403
    assert db.session.get(FundingApplication, fa.id).status == "in_progress"

    done = client.post(url, json={"action": "cancel", "reason": "The company was wound up."}, headers=officer_headers)
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["status"] == "cancelled" and body["from_status"] == "in_progress" and body["action"] == "cancel"
    change = db.session.get(StatusChange, body["change_id"])
    assert change.reason == "The company was wound up." and change.actor_id == officer.id
