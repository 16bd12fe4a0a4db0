"""An attachment's name follows its sniffed content, and attachment ids are never reused (issue 12, item 6)."""
import io

from sqlalchemy import select

from residency.core.attachments import named_for
from residency.core.extensions import db
from residency.domain.applications.models import Attachment

from tests.scenarios import PDF
from tests.web.applicant.test_applications import applicant, start  # noqa: F401

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def upload(client, app_id, data, name):
    r = client.post(f"/startup/applications/{app_id}", content_type="multipart/form-data",
                    data={"intent": "save", "attachments": (io.BytesIO(data), name)})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]


def test_a_pdf_named_html_is_stored_and_served_as_pdf(client, applicant):
    call, startup, founder = applicant
    app_id = start(client, call)
    upload(client, app_id, PDF, "pitch-deck.html")
    attachment = db.session.scalar(select(Attachment))
    assert (attachment.filename, attachment.content_type) == ("pitch-deck.pdf", "application/pdf")
    r = client.get(f"/startup/applications/{app_id}/attachments/{attachment.id}")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert r.headers["Content-Type"] == "application/pdf"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "pitch-deck.pdf" in disposition and ".html" not in disposition


def test_names_that_fit_their_content_are_kept_and_others_get_the_right_extension():
    assert named_for("photo.JPEG", "image/jpeg") == "photo.JPEG"
    assert named_for("deck", "application/pdf") == "deck.pdf"
    assert named_for("logo.pdf", "image/png") == "logo.png"
    assert named_for("report.final.exe", "application/pdf") == "report.final.pdf"


def test_a_file_attached_before_names_followed_content_is_served_under_the_right_name(client, applicant):
    call, startup, founder = applicant
    app_id = start(client, call)
    upload(client, app_id, PNG, "logo.png")
    attachment = db.session.scalar(select(Attachment))
    attachment.filename = "logo.html"  # as stored before this rule
    db.session.commit()
    r = client.get(f"/startup/applications/{app_id}/attachments/{attachment.id}")
    assert r.headers["Content-Type"] == "image/png" and "logo.png" in r.headers["Content-Disposition"]


def test_a_removed_attachments_id_is_never_given_to_the_next_file(client, applicant):
    call, startup, founder = applicant
    app_id = start(client, call)
    upload(client, app_id, PDF, "first.pdf")
    first_id = db.session.scalar(select(Attachment.id))
    r = client.post(f"/startup/applications/{app_id}", data={"intent": f"remove-{first_id}"})
    assert r.status_code == 302
    assert db.session.scalar(select(Attachment.id)) is None
    upload(client, app_id, PNG, "second.png")
    second_id = db.session.scalar(select(Attachment.id))
    assert second_id != first_id
    # A stale page's link to the removed file finds nothing, never the newer file.
    assert client.get(f"/startup/applications/{app_id}/attachments/{first_id}").status_code == 404
