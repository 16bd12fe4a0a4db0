"""The application pages: drafts keep what was typed, submission, attachments, withdrawal, 404s."""
import io
import re

import pytest
from sqlalchemy import select

from residency.extensions import db
from residency.models import Application, Attachment, OutboxMessage

from ..services.test_applications import EXE, PDF, complete_values


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
    data = complete_values(call) | {"intent": "save", "new_attachment": (io.BytesIO(PDF), "deck.pdf")}
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
    assert db.session.get(Application, app_id).answers["team"] != "sneaky"


def test_executable_renamed_pdf_is_refused_and_answers_are_kept(client, applicant):
    call, startup, founder = applicant
    app_id = start(client, call)
    r = client.post(f"/startup/applications/{app_id}", content_type="multipart/form-data",
                    data={"summary": "Keep me", "intent": "save", "new_attachment": (io.BytesIO(EXE), "deck.pdf")})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "not a PDF or an image" in html and "Keep me" in html
    assert db.session.scalars(select(Attachment)).all() == []


def test_other_startups_application_and_attachment_urls_answer_404(client, applicant, make, login):
    call, startup, founder = applicant
    app_id = start(client, call)
    client.post(f"/startup/applications/{app_id}", content_type="multipart/form-data",
                data={"intent": "save", "new_attachment": (io.BytesIO(PDF), "deck.pdf")})
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
    assert html.count("Wait for the cluster") == 50
    assert fifty.n == one.n, "\n".join(fifty.statements)
