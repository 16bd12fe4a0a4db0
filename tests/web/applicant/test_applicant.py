"""The startup's area: registering a startup, joining one, its profile, dashboard and join requests."""
import re

from sqlalchemy import func, select

from residency.core.extensions import db
from residency.domain.accounts.models import JoinRequest, Membership, Organisation
from residency.core.outbox_models import OutboxMessage

from tests.factories import valid_org_number


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def startup_data(**overrides):
    data = {
        "name": "Fjellbio AS", "country": "NO", "org_number": valid_org_number("NO", 4711), "city": "Tromsø",
        "founded_on": "2021-05-04", "employees": "6", "track": "diagnostics", "trl": "5",
    }
    data.update(overrides)
    return data


def create_data(**overrides):
    return {f"create-{k}": v for k, v in startup_data(**overrides).items()}


def join_data(country, org_number, message=""):
    return {"join-country": country, "join-org_number": org_number, "join-message": message}


# ---------------------------------------------------------------- registering a startup


def test_start_page_offers_both_ways_in(client, make, login):
    login(make.user())
    html = client.get("/startup/start").get_data(as_text=True)
    assert 'for="create-org_number"' in html and 'for="join-org_number"' in html
    assert "Register your startup" in html and "Join a startup that is already registered" in html


def test_start_needs_a_login(client):
    r = client.get("/startup/start")
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]


def test_creating_a_startup_stores_the_canonical_number_and_makes_the_user_a_member(client, make, login):
    user = make.user()
    login(user)
    number = valid_org_number("SE", 4712)  # canonical NNNNNN-NNNN
    r = client.post("/startup/start", data=create_data(country="SE", org_number=number.replace("-", " ")))
    assert r.status_code == 302 and r.headers["Location"].endswith("/startup/")
    startup = db.session.scalar(select(Organisation).where(Organisation.name == "Fjellbio AS"))
    assert (startup.kind, startup.country, startup.org_number, startup.track, startup.trl, startup.employees) == (
        "startup", "SE", number, "diagnostics", 5, 6)
    assert count(Membership, Membership.user_id == user.id, Membership.organisation_id == startup.id) == 1
    assert "Fjellbio AS" in client.get("/startup/").get_data(as_text=True)


def test_invalid_org_number_shows_the_checkers_message_and_creates_nothing(client, make, login):
    login(make.user())
    before = count(Organisation)
    r = client.post("/startup/start", data=create_data(org_number="123456789"))
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "fails its check digit" in html
    assert 'id="create-org_number-error"' in html
    assert 'value="Fjellbio AS"' in html and 'value="123456789"' in html  # what was typed is kept
    assert count(Organisation) == before and count(Membership) == 0


def test_wrong_length_and_missing_fields_are_explained(client, make, login):
    login(make.user())
    r = client.post("/startup/start", data=create_data(org_number="12345", name="", trl="", employees="-1"))
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "must have 9 digits; you entered 5" in html
    assert "Enter the startup&#39;s name." in html or "Enter the startup's name." in html
    assert "Choose the technology readiness level." in html
    assert "Enter a number of employees of 0 or more." in html
    assert count(Organisation) == 0


def test_founding_date_in_the_future_is_refused(client, make, login):
    login(make.user())
    r = client.post("/startup/start", data=create_data(founded_on="2199-01-01"))
    assert r.status_code == 422 and "cannot be in the future" in r.get_data(as_text=True)
    assert count(Organisation) == 0


def test_duplicate_number_is_refused_and_offers_to_ask_to_join(client, make, login):
    existing = make.organisation("startup", name="Already There AS", country="NO")
    login(make.user())
    before = count(Organisation)
    r = client.post("/startup/start", data=create_data(org_number=existing.org_number))
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Already There AS is already registered with this organisation number" in html
    assert 'href="#join-heading"' in html
    # The join form is filled in, ready to send.
    assert re.search(rf'<input id="join-org_number"[^>]*value="{existing.org_number}"', html)
    assert count(Organisation) == before and count(Membership) == 0


# ---------------------------------------------------------------- joining a startup


def test_join_request_then_a_member_approves_and_both_emails_are_queued(client, make, login):
    startup = make.organisation("startup", name="Nordlys AS", country="NO")
    founder = make.user(org=startup, email="founder@example.test")
    colleague = make.user(org=startup, email="colleague@example.test")
    newcomer = make.user(email="newcomer@example.test", name="Nina Newcomer")

    login(newcomer)
    r = client.post("/startup/join", data=join_data("NO", startup.org_number, "I run the lab."))
    assert r.status_code == 302 and r.headers["Location"].endswith("/startup/start")
    assert "You asked to join Nordlys AS" in client.get("/startup/start").get_data(as_text=True)
    request = db.session.scalar(select(JoinRequest))
    assert (request.user_id, request.organisation_id, request.message, request.decided_at) == (
        newcomer.id, startup.id, "I run the lab.", None)
    asked = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "join_request")).all()
    assert sorted(m.recipient for m in asked) == ["colleague@example.test", "founder@example.test"]
    assert asked[0].context == {"name": "Nina Newcomer", "email": "newcomer@example.test",
                                "organisation": "Nordlys AS", "organisation_id": startup.id}
    assert client.get("/startup/").status_code == 403  # not a member yet

    login(founder)
    page = client.get(f"/startup/organisations/{startup.id}").get_data(as_text=True)
    assert "Nina Newcomer" in page and f"/join-requests/{request.id}/approve" in page
    r = client.post(f"/startup/organisations/{startup.id}/join-requests/{request.id}/approve")
    assert r.status_code == 302

    assert count(Membership, Membership.user_id == newcomer.id, Membership.organisation_id == startup.id) == 1
    db.session.expire_all()
    request = db.session.get(JoinRequest, request.id)
    assert request.approved is True and request.decided_by_id == founder.id and request.decided_at is not None
    decided = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "join_decided")).all()
    assert [(m.recipient, m.context) for m in decided] == [
        ("newcomer@example.test", {"organisation": "Nordlys AS", "approved": True})]

    # Deciding twice is not possible.
    again = client.post(f"/startup/organisations/{startup.id}/join-requests/{request.id}/decline")
    assert again.status_code == 409

    login(newcomer)
    assert "Nordlys AS" in client.get("/startup/").get_data(as_text=True)


def test_declining_sends_the_requester_a_no_and_adds_no_member(client, make, login):
    startup = make.organisation("startup")
    founder = make.user(org=startup)
    newcomer = make.user()
    request = JoinRequest(user=newcomer, organisation=startup)
    db.session.add(request)
    db.session.commit()
    login(founder)
    r = client.post(f"/startup/organisations/{startup.id}/join-requests/{request.id}/decline")
    assert r.status_code == 302
    assert count(Membership, Membership.user_id == newcomer.id) == 0
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "join_decided"))
    assert message.recipient == newcomer.email and message.context["approved"] is False


def test_asking_to_join_an_unknown_number_explains_and_keeps_the_input(client, make, login):
    login(make.user())
    number = valid_org_number("NO", 9911)
    r = client.post("/startup/join", data=join_data("NO", number, "hello"))
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "No startup is registered in Norway" in html
    assert f'value="{number}"' in html and "hello" in html
    assert count(JoinRequest) == 0 and count(OutboxMessage) == 0


def test_asking_twice_is_refused(client, make, login):
    startup = make.organisation("startup")
    make.user(org=startup)
    login(make.user())
    assert client.post("/startup/join", data=join_data("NO", startup.org_number)).status_code == 302
    r = client.post("/startup/join", data=join_data("NO", startup.org_number))
    assert r.status_code == 422 and "You have already asked to join" in r.get_data(as_text=True)
    assert count(JoinRequest) == 1


def test_a_cluster_cannot_be_joined_from_the_startup_area(client, make, login):
    cluster = make.organisation("cluster")
    make.user(org=cluster)
    login(make.user())
    r = client.post("/startup/join", data=join_data("NO", cluster.org_number))
    assert r.status_code == 422 and count(JoinRequest) == 0


# ---------------------------------------------------------------- permissions


def test_non_member_gets_404_on_another_startups_profile_edit_and_join_requests(client, make, login):
    startup = make.organisation("startup")
    make.user(org=startup)
    request = JoinRequest(user=make.user(), organisation=startup)
    db.session.add(request)
    db.session.commit()
    outsider = make.member("startup")
    login(outsider)
    assert client.get(f"/startup/organisations/{startup.id}").status_code == 404
    assert client.get(f"/startup/organisations/{startup.id}/edit").status_code == 404
    assert client.post(f"/startup/organisations/{startup.id}/edit", data=startup_data()).status_code == 404
    for decision in ("approve", "decline"):
        r = client.post(f"/startup/organisations/{startup.id}/join-requests/{request.id}/{decision}")
        assert r.status_code == 404
    # Nor through the outsider's own startup with the other startup's request.
    own = outsider.organisations("startup")[0]
    assert client.post(f"/startup/organisations/{own.id}/join-requests/{request.id}/approve").status_code == 404
    db.session.expire_all()
    assert db.session.get(JoinRequest, request.id).decided_at is None
    assert count(Membership, Membership.user_id == request.user_id) == 0
    assert count(OutboxMessage) == 0


def test_a_cluster_is_not_a_startup_profile(client, make, login):
    staff = make.member("cluster")
    login(staff)
    assert client.get(f"/startup/organisations/{staff.organisations()[0].id}").status_code == 404


# ---------------------------------------------------------------- profile


def test_member_edits_the_profile_with_the_same_checks(client, make, login):
    startup = make.organisation("startup", name="Old Name AS")
    member = make.user(org=startup)
    login(member)
    form = client.get(f"/startup/organisations/{startup.id}/edit").get_data(as_text=True)
    assert 'value="Old Name AS"' in form

    bad = client.post(f"/startup/organisations/{startup.id}/edit",
                      data=startup_data(name="New Name AS", org_number="987654321"))
    assert bad.status_code == 422 and "fails its check digit" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Organisation, startup.id).name == "Old Name AS"

    taken = make.organisation("startup", country="NO")
    clash = client.post(f"/startup/organisations/{startup.id}/edit",
                        data=startup_data(org_number=taken.org_number))
    assert clash.status_code == 422 and "Another organisation is already registered" in clash.get_data(as_text=True)

    good = client.post(f"/startup/organisations/{startup.id}/edit",
                       data=startup_data(name="New Name AS", track="devices", trl="7"))
    assert good.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Organisation, startup.id)
    assert (saved.name, saved.track, saved.trl, saved.city) == ("New Name AS", "devices", 7, "Tromsø")
    page = client.get(f"/startup/organisations/{startup.id}").get_data(as_text=True)
    assert "New Name AS" in page and "Medical devices" in page


# ---------------------------------------------------------------- dashboard


def test_dashboard_lists_applications_with_applicant_labels_and_open_calls(client, make, login):
    startup = make.organisation("startup", name="Labelled AS")
    member = make.user(org=startup)
    call = make.call(title="Gothenburg residency")
    make.application(call=call, startup=startup, status="submitted", author=member)
    login(member)
    html = client.get("/startup/").get_data(as_text=True)
    assert "Applications" in html and "Gothenburg residency" in html
    assert ">Submitted<" in html and "awaiting review" not in html  # the applicant's word, not staff's
    assert f'href="/calls/{call.id}"' in html  # open call to the startup's country


def test_dashboard_shows_pending_join_requests_with_buttons(client, make, login):
    startup = make.organisation("startup")
    member = make.user(org=startup)
    request = JoinRequest(user=make.user(name="Waiting Person"), organisation=startup)
    db.session.add(request)
    db.session.commit()
    login(member)
    html = client.get("/startup/").get_data(as_text=True)
    assert "Waiting Person" in html
    assert f"/startup/organisations/{startup.id}/join-requests/{request.id}/approve" in html
    assert f"/startup/organisations/{startup.id}/join-requests/{request.id}/decline" in html


def test_dashboard_query_count_does_not_grow_with_applications(client, make, login, count_queries):
    startup = make.organisation("startup")
    member = make.user(org=startup)
    make.user(org=startup)
    db.session.add(JoinRequest(user=make.user(), organisation=startup))
    db.session.commit()
    route = make.route()
    # One active application per startup and call: twenty applications need twenty calls.
    calls = [make.call(route=route) for _ in range(20)]
    make.application(call=calls[0], startup=startup, author=member)
    login(member)

    def measure():
        db.session.expire_all()
        with count_queries() as counted:
            r = client.get("/startup/")
        assert r.status_code == 200
        return counted.n

    with_one = measure()
    for i in range(1, 20):
        make.application(call=calls[i], startup=startup, author=member, status="submitted" if i % 2 else "draft")
    with_twenty = measure()
    # Ten on a page, newest first; the pager says how many there are and leads to the rest.
    html = client.get("/startup/").get_data(as_text=True)
    assert html.count("<span class=\"status-tag\">") == 10
    assert "1–10 of 20 applications" in html and f"applications_{startup.id}_page=2" in html
    second = client.get(f"/startup/?applications_{startup.id}_page=2").get_data(as_text=True)
    assert second.count("<span class=\"status-tag\">") == 10 and "11–20 of 20 applications" in second
    # sign-in with the account and its memberships, open calls, members, join requests, the page of the
    # applications (counted, with their extensions), their latest events, placements, surveys
    assert with_one == with_twenty == 7
    # A page past the end (applications went away since the link was made): the last page, two statements more.
    past_the_end = f"/startup/?applications_{startup.id}_page=9"
    db.session.expire_all()
    with count_queries() as past:
        html = client.get(past_the_end).get_data(as_text=True)
    assert "11–20 of 20 applications" in html and past.n == 9, "\n".join(s[:90] for s in past.statements)


def test_the_dashboard_shows_a_page_of_applications_whatever_the_startup_holds(client, make, login, count_queries):
    """Fifty applications (the issue's startup@demo.test): ten rows and their timelines are drawn, not fifty;
    each page holds other applications, a page past the end shows the last one with a message, and the
    startup's own page is paged the same way."""
    startup = make.organisation("startup")
    member = make.user(org=startup)
    route = make.route()
    made = [make.application(call=make.call(route=route), startup=startup, author=member).id for _ in range(50)]
    login(member)

    def shown(html):
        return [int(i) for i in re.findall(r'<th scope="row"><a href="/startup/applications/(\d+)">', html)]

    seen = []
    for page in range(1, 6):
        html = client.get(f"/startup/?applications_{startup.id}_page={page}").get_data(as_text=True)
        assert html.count("<span class=\"status-tag\">") == 10
        seen += shown(html)
    assert sorted(seen) == sorted(made)  # every application on exactly one page
    assert seen[:10] == made[::-1][:10]  # newest first
    past = client.get(f"/startup/?applications_{startup.id}_page=9").get_data(as_text=True)
    assert "There is no page 9" in past and shown(past) == made[::-1][40:]
    profile = client.get(f"/startup/organisations/{startup.id}").get_data(as_text=True)
    assert profile.count("<span class=\"status-tag\">") == 10 and "1–10 of 50 applications" in profile


def test_prefixed_forms_and_decision_buttons_carry_working_csrf_tokens(client, make, login, app):
    startup = make.organisation("startup")
    member = make.user(org=startup)
    request = JoinRequest(user=make.user(), organisation=startup)
    db.session.add(request)
    db.session.commit()
    login(make.user())
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get("/startup/start").get_data(as_text=True)
        token = re.search(r'name="create-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post("/startup/start", data=create_data()).status_code == 400
        r = client.post("/startup/start", data={"create-csrf_token": token, **create_data()})
        assert r.status_code == 302 and count(Organisation, Organisation.name == "Fjellbio AS") == 1

        app.config["WTF_CSRF_ENABLED"] = False
        login(member)
        app.config["WTF_CSRF_ENABLED"] = True
        approve = f"/startup/organisations/{startup.id}/join-requests/{request.id}/approve"
        assert client.post(approve).status_code == 400
        page = client.get(f"/startup/organisations/{startup.id}").get_data(as_text=True)
        token = re.search(rf'action="{approve}" class="inline"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"',
                          page).group(1)
        assert client.post(approve, data={"csrf_token": token}).status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_dashboard_timeline_shows_the_latest_events_of_a_long_history(client, make, login, count_queries):
    """The dashboard reads at most five events of each application however long its history, counts
    them all in the summary, links to the full timeline and leaves an unreleased decision out of both."""
    from datetime import timedelta
    from residency.core import workflow

    startup = make.organisation("startup")
    member = make.user(org=startup)
    call = make.call()
    staff = make.user(org=call.route.cluster)
    application = make.application(call=call, startup=startup, author=member, status="submitted")
    for round_ in range(5):
        workflow.perform(application, "request_changes", staff, reason=f"Round {round_}: more on the team")
        workflow.perform(application, "resubmit", member)
    workflow.perform(application, "start_review", staff)
    workflow.perform(application, "decline", staff, reason="Internal: outside our focus", note="Not this time")
    db.session.commit()
    login(member)

    def measure():
        db.session.expire_all()
        with count_queries() as counted:
            r = client.get("/startup/")
        assert r.status_code == 200
        return counted.n, r.get_data(as_text=True)

    queries, html = measure()
    # submit, five rounds of change request and resubmission, start of review: the decline is not released.
    assert "12 events" in html
    timeline = html[html.index('<ol class="timeline">'):]
    timeline = timeline[:timeline.index("</ol>")]
    assert timeline.count("<li>") == 5
    assert "Not this time" not in html
    assert f'/startup/applications/{application.id}#timeline' in html and "The whole timeline (12 events)" in html
    for round_ in range(5):
        workflow.perform(make.application(call=make.call(route=call.route), startup=startup, author=member,
                                          status="submitted"), "withdraw", member, reason="Elsewhere")
    db.session.commit()
    assert measure()[0] == queries
