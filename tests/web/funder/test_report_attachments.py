"""Attachments on funding reports (issue 14, item 5): the startup attaches PDFs, images and office
documents to a report it has not submitted, and removes them; the funder's officer who reviews the
report and the startup see them listed; exactly who may see the report downloads them (404 for
anyone else); the files live where application attachments do (the folder or the database)."""
from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from residency.core import attachments as files
from residency.core import workflow
from residency.core.attachments import AttachmentBlob
from residency.core.errors import Invalid
from residency.core.extensions import db
from residency.core.uow import unit_of_work
from residency.domain.funding import report_files
from residency.domain.funding import services as funding
from residency.domain.funding.models import FundingApplication, ReportAttachment

from tests.factories import make_scheme
from tests.scenarios import PDF, _in_progress
from tests.web.funder.test_funding_pages import reports_of, text

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def office_file(main_part: str, extra: dict | None = None) -> bytes:
    """A minimal OOXML package whose main part is of type ``main_part``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
                         f'<Override PartName="/word/document.xml" ContentType="{main_part}"/></Types>')
        package.writestr("word/document.xml", "<w:document/>")
        for name, content in (extra or {}).items():
            package.writestr(name, content)
    return buffer.getvalue()


DOCX = office_file(DOCX_TYPE + ".main+xml")
DOCM = office_file("application/vnd.ms-word.document.macroEnabled.main+xml", {"word/vbaProject.bin": b"\x00" * 64})


def odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        package.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


@pytest.fixture
def folder(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path / "attachments"))
    return tmp_path / "attachments"


@pytest.fixture(params=["local", "database"])
def storage(request, app, monkeypatch, folder):
    monkeypatch.setitem(app.config, "ATTACHMENT_STORAGE", request.param)
    return request.param


def upload(client, fa, report, name: str, data: bytes):
    return client.post(f"/startup/funding/{fa.id}/reports/{report.id}/attachments",
                       data={f"files-{report.id}-attachment": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def stored_count(storage: str, folder) -> int:
    if storage == "database":
        return db.session.scalar(select(func.count()).select_from(AttachmentBlob))
    return len(list(folder.iterdir())) if folder.exists() else 0


def test_the_startup_attaches_files_to_its_report_and_the_officer_reads_them(make, login, storage, folder):
    scheme, startup, founder, officer, fa = _in_progress(make)
    progress, _final = reports_of(fa)
    client = login(founder)
    assert upload(client, fa, progress, "results.pdf", PDF).status_code == 302
    assert upload(client, fa, progress, "budget follow-up.docx", DOCX).status_code == 302
    assert upload(client, fa, progress, "notes.odt", odt()).status_code == 302
    assert stored_count(storage, folder) == 3
    pdf, docx, notes = db.session.scalars(select(ReportAttachment).order_by(ReportAttachment.id)).all()
    assert (docx.content_type, notes.content_type) == (DOCX_TYPE, "application/vnd.oasis.opendocument.text")
    page = text(client.get(f"/startup/funding/{fa.id}"))
    base = f"/startup/funding/{fa.id}/reports/{progress.id}/attachments"
    for a in (pdf, docx, notes):
        assert f'href="{base}/{a.id}"' in page and a.filename in page
    assert f"Remove {pdf.filename}" in page

    # Removed while the report is a draft: its row and its bytes go.
    notes_id = notes.id
    assert client.post(f"{base}/{notes_id}/remove").status_code == 302
    assert db.session.get(ReportAttachment, notes_id) is None and stored_count(storage, folder) == 2

    assert client.post(f"/startup/funding/{fa.id}/reports/{progress.id}",
                       data={f"report-{progress.id}-text": "On track; see the attached results."}).status_code == 302
    # Submitted: the files stay, but can no longer be changed.
    page = text(client.get(f"/startup/funding/{fa.id}"))
    assert f'href="{base}/{pdf.id}"' in page and "Remove" not in page
    refused = client.post(f"{base}/{pdf.id}/remove")
    assert refused.status_code == 409 and "can no longer be changed" in text(refused)
    assert upload(client, fa, progress, "late.pdf", PDF).status_code == 409
    assert stored_count(storage, folder) == 2

    desk = login(officer)
    page = text(desk.get(f"/funder/funding/{fa.id}"))
    assert f'href="{base}/{pdf.id}"' in page and f'href="{base}/{docx.id}"' in page
    download = desk.get(f"{base}/{docx.id}")
    assert download.status_code == 200 and download.data == DOCX and download.mimetype == DOCX_TYPE
    assert "no-store" in download.headers["Cache-Control"]
    assert "budget follow-up.docx" in download.headers["Content-Disposition"].replace("%20", " ")
    assert login(founder).get(f"{base}/{pdf.id}").data == PDF
    assert login(make.admin()).get(f"{base}/{pdf.id}").status_code == 200


def test_a_returned_report_takes_new_files_again(make, login, folder):
    scheme, startup, founder, officer, fa = _in_progress(make)
    progress, _final = reports_of(fa)
    funding.submit_report(report=progress, actor=founder, text="First go.")
    funding.return_report(report=progress, actor=officer, comments="Attach the tox data.")
    client = login(founder)
    assert upload(client, fa, progress, "tox.pdf", PDF).status_code == 302
    assert [a.filename for a in db.session.get(type(progress), progress.id).attachments] == ["tox.pdf"]


def test_only_who_may_see_the_report_downloads_its_files(make, login, folder):
    scheme, startup, founder, officer, fa = _in_progress(make)
    progress, final = reports_of(fa)
    attachment = report_files.add_attachment(report=progress, actor=founder, filename="results.pdf", data=PDF)
    url = f"/startup/funding/{fa.id}/reports/{progress.id}/attachments/{attachment.id}"
    other_funder = make.member("funder", name="Vinnova")
    make_scheme(other_funder.organisations("funder")[0], currency="SEK", countries=("SE",))
    for stranger in (make.member("startup"), other_funder, make.member("hub"), make.member("cluster")):
        client = login(stranger)
        assert client.get(url).status_code == 404
        assert client.post(f"{url}/remove").status_code == 404
        assert upload(client, fa, progress, "mine.pdf", PDF).status_code == 404
    client = login(founder)
    # The file under another report's or another application's address is not found either.
    assert client.get(f"/startup/funding/{fa.id}/reports/{final.id}/attachments/{attachment.id}").status_code == 404
    assert client.get(f"/startup/funding/{fa.id + 1000}/reports/{progress.id}/attachments/{attachment.id}").status_code == 404
    # The officer may see the report, but attaching and removing are the startup's.
    desk = login(officer)
    assert desk.post(f"{url}/remove").status_code == 403
    assert upload(desk, fa, progress, "officer.pdf", PDF).status_code == 403
    assert db.session.get(ReportAttachment, attachment.id) is not None


@pytest.mark.parametrize("name, data, words", [
    ("empty.pdf", b"", "Choose a file to attach."),
    ("page.pdf", b"<html><script>alert(1)</script></html>", "Its content was checked, not its name."),
    ("macros.docx", DOCM, "without macros"),
    ("broken.docx", b"PK\x03\x04" + b"\x00" * 40, "Its content was checked, not its name."),
])
def test_files_of_other_kinds_are_refused_with_the_reason_and_nothing_is_stored(make, login, folder, name, data, words):
    scheme, startup, founder, officer, fa = _in_progress(make)
    progress, _final = reports_of(fa)
    refused = upload(login(founder), fa, progress, name, data)
    assert refused.status_code == 422 and words in text(refused)
    assert db.session.scalar(select(func.count()).select_from(ReportAttachment)) == 0
    assert stored_count("local", folder) == 0


def test_at_most_five_files_and_ten_megabytes(app, make, folder, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_STORAGE", "local")  # PostgreSQL's default is the database
    scheme, startup, founder, officer, fa = _in_progress(make)
    progress, _final = reports_of(fa)
    for n in range(report_files.MAX_REPORT_ATTACHMENTS):
        report_files.add_attachment(report=progress, actor=founder, filename=f"{n}.pdf", data=PDF)
    with pytest.raises(Invalid, match="at most 5 attachments"):
        report_files.add_attachment(report=progress, actor=founder, filename="6.pdf", data=PDF)
    _p, final = reports_of(fa)
    big = b"%PDF-1.7\n" + b"0" * report_files.MAX_FILE_BYTES
    with pytest.raises(Invalid, match="files can be at most 10 MB") as refused:
        report_files.add_attachment(report=final, actor=founder, filename="big.pdf", data=big)
    assert "attachment" in refused.value.field_errors
    assert stored_count("local", folder) == report_files.MAX_REPORT_ATTACHMENTS


def test_a_failed_unit_of_work_leaves_no_local_file_and_a_failed_removal_keeps_it(app, folder, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_STORAGE", "local")
    with pytest.raises(RuntimeError), unit_of_work():
        files.save(PDF)
        raise RuntimeError("the unit fails after the file was written")
    assert stored_count("local", folder) == 0
    with unit_of_work():
        kept, _digest = files.save(PDF)
    with pytest.raises(RuntimeError), unit_of_work():
        files.discard(kept)
        raise RuntimeError("the removal fails")
    assert (folder / kept).exists()
    with unit_of_work():
        files.discard(kept)
    assert not (folder / kept).exists()


def test_a_grant_taken_back_takes_its_reports_files_with_it(make, app, folder, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_STORAGE", "local")
    scheme, startup, founder, officer, fa = _in_progress(make)
    progress, _final = reports_of(fa)
    report_files.add_attachment(report=progress, actor=founder, filename="draft.pdf", data=PDF)
    assert stored_count("local", folder) == 1
    with unit_of_work():
        workflow.perform(fa, "force", make.admin(), target="under_assessment", reason="granted the wrong scheme")
    assert db.session.get(FundingApplication, fa.id).status == "under_assessment"
    assert db.session.scalar(select(func.count()).select_from(ReportAttachment)) == 0
    assert stored_count("local", folder) == 0


def test_an_office_document_is_told_by_its_content():
    assert files.sniff_document(DOCX) == DOCX_TYPE
    assert files.sniff_document(odt()) == "application/vnd.oasis.opendocument.text"
    assert files.sniff_document(DOCM) is None
    assert files.sniff_document(PDF) == "application/pdf"
    assert files.named_for("report", DOCX_TYPE) == "report.docx"
