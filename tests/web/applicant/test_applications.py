"""The application pages: drafts keep what was typed, submission, attachments, withdrawal, 404s."""
import io
import re

import pytest
from sqlalchemy import select

from residency.core.extensions import db
from residency.domain.applications.models import Application, Attachment
from residency.core.outbox_models import OutboxMessage

from tests.scenarios import EXE, PDF, complete_values
from tests.factories import answers_of


@pytest.fixture
def applicant(make, login):
    call = make.call()
    startup = make.organisation("startup", country="NO")
    founder = make.user(org=startup)
    login(founder)
    return call, startup, founder


def start(client, call):
    r = client.post(f"/startup/calls/{call.id}/apply")
    assert r.status_code == 302
    return int(re.search(r"/applications/(\d+)", r.headers["Location"]).group(1))


def test_apply_opens_a_draft_and_the_form_shows_the_call_deadline_in_its_zone(client, applicant):
    call, startup, founder = applicant
    app_id = start(client, call)
    html = client.get(f"/startup/applications/{app_id}").get_data(as_text=True)
    assert "(Europe/Stockholm)" in html and "Save draft" in html
    assert f'value="{startup.trl}"' in html or f'<option selected value="{startup.trl}">' in html


def test_failed_submit_keeps_every_line_typed(client, applicant):
    call, startup, founder = applicant
    app_id = start(client, call)
    typed = {"summary": "We detect cancer early.", "team": "Line one\nLine two", "months": "30"}
    r = client.post(f"/startup/applications/{app_id}", data=typed | {"intent": "submit"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "We detect cancer early." in html and "Line one\nLine two" in html and 'value="30"' in html
    assert "A residency lasts from 1 to 24 months." in html
    assert db.session.get(Application, app_id).status == "draft"


def test_submit_with_upload_then_read_only_and_receipt(client, applicant):
    call, startup, founder = applicant
    app_id = start(client, call)
    data = complete_values(call) | {"intent": "save", "attachments": (io.BytesIO(PDF), "deck.pdf")}
    r = client.post(f"/startup/applications/{app_id}", data=data, content_type="multipart/form-data")
    assert r.status_code == 302
    r = client.post(f"/startup/applications/{app_id}", data=complete_values(call) | {"intent": "submit"})
    assert r.status_code == 302
    assert db.session.get(Application, app_id).status == "submitted"
    html = client.get(f"/startup/applications/{app_id}").get_data(as_text=True)
    assert "read-only copy" in html and "Save draft" not in html
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "application_submitted")) is not None
    # Editing after submission is refused.
    r = client.post(f"/startup/applications/{app_id}", data={"team": "sneaky", "intent": "save"})
    assert r.status_code == 409
    assert answers_of(db.session.get(Application, app_id))["team"] != "sneaky"


def test_executable_renamed_pdf_is_refused_and_answers_are_kept(client, applicant):
    call, startup, founder = applicant
    app_id = start(client, call)
    r = client.post(f"/startup/applications/{app_id}", content_type="multipart/form-data",
                    data={"summary": "Keep me", "intent": "save", "attachments": (io.BytesIO(EXE), "deck.pdf")})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "not a PDF or an image" in html and "Keep me" in html
    assert db.session.scalars(select(Attachment)).all() == []


def test_other_startups_application_and_attachment_urls_answer_404(client, applicant, make, login):
    call, startup, founder = applicant
    app_id = start(client, call)
    client.post(f"/startup/applications/{app_id}", content_type="multipart/form-data",
                data={"intent": "save", "attachments": (io.BytesIO(PDF), "deck.pdf")})
    attachment = db.session.scalar(select(Attachment))
    assert client.get(f"/startup/applications/{app_id}/attachments/{attachment.id}").data.startswith(b"%PDF")
    login(make.member("startup"))
    assert client.get(f"/startup/applications/{app_id}").status_code == 404
    assert client.get(f"/startup/applications/{app_id}/attachments/{attachment.id}").status_code == 404
    assert client.post(f"/startup/applications/{app_id}", data={"team": "x"}).status_code == 404
    assert client.post(f"/startup/applications/{app_id}/withdraw", data={"reason": "x"}).status_code == 404


def test_withdraw_needs_a_reason(client, applicant):
    call, startup, founder = applicant
    app_id = start(client, call)
    client.post(f"/startup/applications/{app_id}/withdraw", data={"reason": ""})
    assert db.session.get(Application, app_id).status == "draft"
    client.post(f"/startup/applications/{app_id}/withdraw", data={"reason": "Timing"})
    assert db.session.get(Application, app_id).status == "withdrawn"


def test_second_apply_to_the_same_call_leads_back_to_the_existing_draft(client, applicant):
    call, startup, founder = applicant
    app_id = start(client, call)
    r = client.post(f"/startup/calls/{call.id}/apply")
    assert r.headers["Location"].endswith(f"/startup/applications/{app_id}")
    assert len(db.session.scalars(select(Application)).all()) == 1


def test_dashboard_query_count_is_the_same_for_1_and_50_applications(client, make, login, count_queries):
    startup = make.organisation("startup", country="NO")
    founder = make.user(org=startup)
    route = make.route()
    make.application(call=make.call(route=route), startup=startup, author=founder, status="submitted")
    login(founder)
    with count_queries() as one:
        assert client.get("/startup/").status_code == 200
    for _ in range(49):
        make.application(call=make.call(route=route), startup=startup, author=founder, status="submitted")
    with count_queries() as fifty:
        html = client.get("/startup/").get_data(as_text=True)
    assert html.count("Wait for the cluster") == 10  # a page of them; the pager leads to the rest
    assert one.n == fifty.n == 7, "\n".join(fifty.statements)


def submitted_application(make):
    from residency.domain.applications import services as svc

    call = make.call()
    startup = make.organisation("startup", country="NO")
    founder = make.user(org=startup)
    app_ = svc.start(call=call, startup=startup, actor=founder)
    svc.add_attachment(application=app_, actor=founder, filename="deck.pdf", data=PDF)
    svc.submit(application=app_, actor=founder, values=complete_values(call), loaded_edit_id=None)
    return app_, founder


def test_change_request_loop_through_the_pages(client, make, login):
    from datetime import date, timedelta

    app_, founder = submitted_application(make)
    staff = make.user(org=app_.call.route.cluster)
    login(staff)
    assert "deck.pdf" in client.get(f"/cluster/applications/{app_.id}").get_data(as_text=True)
    r = client.post(f"/cluster/applications/{app_.id}/request-changes", data={"message": "", "respond_by": ""})
    assert r.status_code == 422 and db.session.get(Application, app_.id).status == "submitted"
    respond_by = (date.today() + timedelta(days=10)).isoformat()
    r = client.post(f"/cluster/applications/{app_.id}/request-changes", data={"message": "Describe the lab plan", "respond_by": respond_by})
    assert r.status_code == 302 and db.session.get(Application, app_.id).status == "changes_requested"
    login(founder)
    html = client.get(f"/startup/applications/{app_.id}").get_data(as_text=True)
    assert "Describe the lab plan" in html and "Resubmit application" in html
    r = client.post(f"/startup/applications/{app_.id}", data=complete_values(app_.call, lab_needs="A BSL-2 bench") | {"intent": "submit"})
    assert r.status_code == 302
    assert db.session.get(Application, app_.id).status == "submitted"


def test_staff_of_another_cluster_get_404_on_the_application_and_its_attachments(client, make, login):
    app_, founder = submitted_application(make)
    attachment_id = app_.attachments[0].id
    login(make.member("cluster"))
    assert client.get(f"/cluster/applications/{app_.id}").status_code == 404
    assert client.get(f"/startup/applications/{app_.id}/attachments/{attachment_id}").status_code == 404
    assert client.post(f"/cluster/applications/{app_.id}/start-review").status_code == 404
    # The nominating cluster's staff may download it.
    login(make.user(org=app_.call.route.cluster))
    assert client.get(f"/startup/applications/{app_.id}/attachments/{attachment_id}").data.startswith(b"%PDF")


def test_admin_grants_an_extension_in_the_calls_zone_and_only_that_startup_gets_in(client, make, login):
    from residency.domain.applications import rules
    from residency.domain.applications.models import DeadlineExtension

    call = make.call()
    startup = make.organisation("startup", country="NO", name="Late But Good AS")
    login(make.admin())
    assert "Late But Good AS" in client.get(f"/admin/calls/{call.id}").get_data(as_text=True)
    r = client.post(f"/admin/calls/{call.id}/extensions", data={"startup_id": startup.id, "closes_at": "2000-01-01T12:00",
                                                                "reason": "Too early"})
    assert r.status_code == 422 and db.session.scalars(select(DeadlineExtension)).all() == []
    r = client.post(f"/admin/calls/{call.id}/extensions", data={"startup_id": startup.id, "closes_at": "2099-06-15T12:00",
                                                                "reason": ""})
    assert r.status_code == 422
    r = client.post(f"/admin/calls/{call.id}/extensions", data={"startup_id": startup.id, "closes_at": "2099-06-15T12:00",
                                                                "reason": "Founder was ill"})
    assert r.status_code == 302
    extension = db.session.scalar(select(DeadlineExtension))
    assert extension.closes_at.isoformat() == "2099-06-15T10:00:00+00:00"  # 12:00 CEST in Stockholm
    assert rules.effective_deadline(call, startup.id) == extension.closes_at
    other = make.organisation("startup", country="NO")
    assert rules.effective_deadline(call, other.id) == call.closes_at
    # Startup staff cannot grant themselves an extension.
    login(make.user(org=startup))
    r = client.post(f"/admin/calls/{call.id}/extensions", data={"startup_id": startup.id, "closes_at": "2099-04-01T12:00",
                                                                "reason": "Please"})
    assert r.status_code == 403
    assert len(db.session.scalars(select(DeadlineExtension)).all()) == 1


def test_an_extension_at_a_time_the_clocks_skip_says_what_the_clocks_do(client, make, login):
    """2099-03-29 02:30 does not exist in Europe/Stockholm (the clocks go forward from 02:00 to 03:00):
    the field says so, with the zone named, and nothing is granted."""
    from residency.domain.applications.models import DeadlineExtension

    call = make.call()
    startup = make.organisation("startup", country="NO")
    login(make.admin())
    r = client.post(f"/admin/calls/{call.id}/extensions", data={"startup_id": startup.id, "closes_at": "2099-03-29T02:30",
                                                                "reason": "Founder was ill"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and db.session.scalars(select(DeadlineExtension)).all() == []
    assert "02:30 does not exist in Europe/Stockholm" in html and "go forward from 02:00 to 03:00" in html


def test_the_dashboard_gives_a_draft_the_newest_extension_of_its_startup_as_its_deadline(app, client, make, login):
    from datetime import datetime, timedelta, timezone

    from residency.core.i18n import format_in_zone
    from residency.domain.applications.models import DeadlineExtension

    now = datetime.now(timezone.utc).replace(microsecond=0)
    call = make.call(opens_at=now - timedelta(days=20), closes_at=now - timedelta(days=1))
    extended, other = (make.organisation("startup", country=call.route.home_country) for _ in range(2))
    founder = make.user(org=extended)
    for startup in (extended, other):
        make.application(call=call, startup=startup, author=founder if startup is extended else None)
    # Rows are never updated: the newest grant is the one in force, even when it is earlier than the one before.
    for days, startup in ((5, extended), (3, extended), (9, other)):
        db.session.add(DeadlineExtension(call_id=call.id, startup_id=startup.id, closes_at=now + timedelta(days=days),
                                         reason="Lab move"))
        db.session.commit()
    login(founder)
    html = client.get("/startup/").get_data(as_text=True)
    with app.test_request_context():
        in_force, earlier, others = (format_in_zone(now + timedelta(days=d), call.timezone) for d in (3, 5, 9))
    assert "Complete and submit the application" in html and "The call has closed" not in html
    assert in_force in html and earlier not in html and others not in html
