"""Where attachment files live (issue 13, item 5): in the database, so every web server on one
PostgreSQL reads them, or in a local folder (the SQLite default); files stored before a switch keep
working, and a command copies them into the database."""
from __future__ import annotations

import secrets

import pytest
from sqlalchemy import event, func, select

from residency import create_app
from residency.core import attachments as files
from residency.core.attachments import CHUNK_BYTES, AttachmentBlob
from residency.core.extensions import db
from residency.core.uow import unit_of_work
from residency.domain.applications import services as applications
from residency.domain.applications.models import Attachment

from tests.conftest import on_postgres

BIG_PDF = b"%PDF-1.7\n" + secrets.token_bytes(2 * CHUNK_BYTES + 777)


@pytest.fixture
def folder(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path / "attachments"))
    return tmp_path / "attachments"


@pytest.fixture
def storage(app, monkeypatch, folder):
    def use(name: str) -> None:
        monkeypatch.setitem(app.config, "ATTACHMENT_STORAGE", name)

    return use


@pytest.fixture
def draft(make, login):
    application = make.application()
    founder = application.created_by
    login(founder)
    return application, founder


def blobs() -> int:
    return db.session.scalar(select(func.count()).select_from(AttachmentBlob))


def test_auto_is_the_database_on_postgresql_and_the_folder_on_sqlite(app):
    assert app.config["ATTACHMENT_STORAGE"] == "auto"
    assert files.storage() == ("database" if on_postgres() else "local")


def test_an_unknown_storage_is_refused_at_startup():
    with pytest.raises(RuntimeError, match="ATTACHMENT_STORAGE"):
        create_app("testing", overrides={"ATTACHMENT_STORAGE": "s3"})


def test_the_instance_folder_can_be_the_machines_own(tmp_path, monkeypatch):
    monkeypatch.setenv("RESIDENCY_INSTANCE_PATH", str(tmp_path / "machine"))
    assert create_app("testing").instance_path == str(tmp_path / "machine")


def test_database_storage_keeps_the_bytes_in_the_table_and_streams_them_back_in_chunks(
        app, storage, folder, draft, client, count_queries):
    storage("database")
    application, founder = draft
    attachment = applications.add_attachment(application=application, actor=founder, filename="deck.pdf", data=BIG_PDF)
    assert blobs() == 1 and not any(folder.glob("*"))  # nothing on this machine's disk
    with count_queries() as counted:
        response = client.get(f"/startup/applications/{application.id}/attachments/{attachment.id}")
        body = response.get_data()
    assert response.status_code == 200 and body == BIG_PDF
    assert response.content_length == len(BIG_PDF) and response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    # The first chunk comes with the lookup, then one query per further chunk of CHUNK_BYTES.
    chunks = [s for s in counted.statements if "substr" in s.lower()]
    assert len(chunks) == 3


def test_a_failed_unit_of_work_leaves_no_bytes_behind(storage):
    storage("database")
    with pytest.raises(RuntimeError), unit_of_work():
        files.store(BIG_PDF)
        raise RuntimeError("the attachment's row could not be written")
    assert blobs() == 0


def test_removing_an_attachment_removes_its_bytes_in_the_same_unit(storage, draft):
    storage("database")
    application, founder = draft
    attachment = applications.add_attachment(application=application, actor=founder, filename="deck.pdf", data=BIG_PDF)
    applications.remove_attachment(application=application, actor=founder, attachment_id=attachment.id)
    assert blobs() == 0 and db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_file_stored_locally_before_the_switch_is_still_served_then_copied_into_the_database(
        app, storage, folder, draft, client):
    storage("local")
    application, founder = draft
    old = applications.add_attachment(application=application, actor=founder, filename="old.pdf", data=BIG_PDF)
    gone = applications.add_attachment(application=application, actor=founder, filename="gone.pdf", data=b"%PDF-gone")
    damaged = applications.add_attachment(application=application, actor=founder, filename="bad.pdf", data=b"%PDF-bad")
    (folder / gone.stored_name).unlink()
    (folder / damaged.stored_name).write_bytes(b"%PDF-tampered")
    assert blobs() == 0 and (folder / old.stored_name).exists()

    storage("database")
    url = f"/startup/applications/{application.id}/attachments/{old.id}"
    assert client.get(url).get_data() == BIG_PDF  # read from the folder: not in the database yet
    assert client.get(f"/startup/applications/{application.id}/attachments/{gone.id}").status_code == 404

    runner = app.test_cli_runner()
    result = runner.invoke(args=["attachments", "migrate-to-database", "--delete-local"])
    assert "Copied 1 files" in result.output and "1 are not in" in result.output and "1 did not match" in result.output
    assert result.exit_code == 1  # the damaged file is a reason to look
    assert not (folder / old.stored_name).exists() and (folder / damaged.stored_name).exists()
    assert db.session.scalar(select(AttachmentBlob.sha256).where(AttachmentBlob.stored_name == old.stored_name)) == old.sha256
    assert client.get(url).get_data() == BIG_PDF  # now from the database
    again = runner.invoke(args=["attachments", "migrate-to-database"])
    assert "Copied 0 files" in again.output and "1 were there already" in again.output


def test_switching_back_to_the_folder_still_reads_what_the_database_holds(storage, folder, draft, client):
    storage("database")
    application, founder = draft
    attachment = applications.add_attachment(application=application, actor=founder, filename="deck.pdf", data=BIG_PDF)
    storage("local")
    assert client.get(f"/startup/applications/{application.id}/attachments/{attachment.id}").get_data() == BIG_PDF
    new = applications.add_attachment(application=application, actor=founder, filename="new.pdf", data=b"%PDF-new")
    assert (folder / new.stored_name).read_bytes() == b"%PDF-new" and blobs() == 1


def test_local_storage_writes_the_folder_and_nothing_in_the_table(storage, folder, draft, client):
    storage("local")
    application, founder = draft
    attachment = applications.add_attachment(application=application, actor=founder, filename="deck.pdf", data=BIG_PDF)
    assert blobs() == 0 and (folder / attachment.stored_name).read_bytes() == BIG_PDF
    response = client.get(f"/startup/applications/{application.id}/attachments/{attachment.id}")
    assert response.get_data() == BIG_PDF
    applications.remove_attachment(application=application, actor=founder, attachment_id=attachment.id)
    assert not (folder / attachment.stored_name).exists()
