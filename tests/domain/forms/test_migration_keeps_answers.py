"""Issue 15: the migration that gives every call its own form moves today's answers with no answer lost.

The schema before forms (revision i15fb0000001) is built with today's data, the way the service wrote it:
answers in the application's JSON column, attachments and edit attributions. After the upgrade every
answer is an answer row pointing at the question of its call's form with the same key, every
attachment points at the pitch deck question, and the edits still name the same questions."""
from __future__ import annotations

import os
import tempfile
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from residency import create_app
from residency.core.extensions import db

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def scratch_url():
    main = os.environ.get("TEST_DATABASE_URL")
    if not main:
        yield "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="residency-forms-"), "m.sqlite3")
        return
    url = make_url(main)
    name = f"{url.database}_forms_migration"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


ANSWERS = {
    1: {"summary": "We detect pancreatic cancer early.", "team": "Two founders,\nthree engineers.", "technology": "TRL 4",
        "expertise": "Regulatory", "lab_needs": "One bench, BSL-1.", "funding_status": "Pre-seed",
        "funding_plans": "Innovation Norway"},
    2: {"summary": "Half a draft.", "team": ""},
    3: {"summary": "A key no form has", "pitch": "An answer under an old key"},
}


def _insert(conn, table: str, **values) -> None:
    """A row of today's schema: the columns given, and a plain value for every other required one."""
    from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, MetaData, Numeric, Table

    reflected = Table(table, MetaData(), autoload_with=conn)
    for column in reflected.columns:
        if column.name in values or column.nullable or column.primary_key or column.server_default is not None:
            continue
        kind = column.type
        values[column.name] = (False if isinstance(kind, Boolean) else 0 if isinstance(kind, (Integer, Numeric))
                               else NOW if isinstance(kind, DateTime) else date(2027, 1, 1) if isinstance(kind, Date)
                               else {} if isinstance(kind, JSON) else "x")
    conn.execute(reflected.insert().values(**values))


def _today(conn):
    """Rows as the service before forms wrote them."""
    for org_id, kind, country, number in ((1, "cluster", "NO", "923609016"), (2, "hub", "SE", "5560360793"),
                                          (3, "startup", "NO", "914778271"), (4, "startup", "NO", "982463718"),
                                          (5, "startup", "NO", "974760673")):
        _insert(conn, "organisation", id=org_id, kind=kind, name=f"Org {org_id}", country=country, org_number=number,
                timezone="Europe/Oslo")
    _insert(conn, "user_account", id=1, email="a@example.test", name="A", password_hash="x", language="en")
    _insert(conn, "route", id=1, home_country="NO", host_hub_id=2, cluster_id=1, status="open")
    for call_id in (1, 2):
        _insert(conn, "call", id=call_id, route_id=1, title=f"Call {call_id}", description="", timezone="Europe/Oslo",
                opens_at=NOW, closes_at=NOW + timedelta(days=30), nomination_deadline=NOW + timedelta(days=40),
                decision_deadline=NOW + timedelta(days=50), seats=3,
                residency_starts_on=date(2027, 3, 1), residency_ends_on=date(2027, 9, 1), status="published")
    for app_id, call_id, startup in ((1, 1, 3), (2, 1, 4), (3, 2, 5)):
        _insert(conn, "application", id=app_id, call_id=call_id, startup_id=startup, status="draft", answers=ANSWERS[app_id],
                track="drugs", trl=4, months=6, desks=1, benches=1, created_by_id=1, created_at=NOW, updated_at=NOW)
        _insert(conn, "application_edit", application_id=app_id, user_id=1, fields=["summary", "team"], created_at=NOW)
    for attachment_id, app_id, name, kind in ((1, 1, "deck.pdf", "application/pdf"), (2, 3, "deck.png", "image/png")):
        _insert(conn, "attachment", id=attachment_id, application_id=app_id, uploaded_by_id=1, filename=name,
                stored_name=f"stored-{attachment_id}", content_type=kind, size_bytes=10, sha256="0" * 64, created_at=NOW)


def test_every_answer_attachment_and_attribution_is_where_it_was(scratch_url):
    from flask_migrate import downgrade, upgrade

    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade(revision="i15fb0000001")
        with db.engine.begin() as conn:
            _today(conn)
        upgrade()
        from residency.domain.applications import services as applications
        from residency.domain.applications.models import Application, ApplicationEdit, Attachment

        for app_id, answers in ANSWERS.items():
            application = db.session.get(Application, app_id)
            values = applications.values_of(application)
            for key, value in answers.items():
                if not value:
                    continue
                if key == "pitch":  # kept by a hidden question of its own, readable to staff
                    form = applications.form_of_application(application)
                    kept = form.question("pitch")
                    assert kept is not None and kept.hidden and kept.label["en"] == "pitch"
                assert values[key] == value, (app_id, key)
            assert (values["track"], values["trl"], values["months"]) == ("drugs", 4, 6)
        # Every call has its own copy of the default form, in every language.
        from residency.domain.forms import services as forms

        first, second = forms.form_of(1), forms.form_of(2)
        assert first.keys[:2] == ["summary", "team"] and first.question("summary").id != second.question("summary").id
        assert first.question("team").label["nb"] and first.question("team").label["nb"] != "Who is in the team?"
        assert forms.form_of(None).question("summary") is not None  # the programme's default
        for attachment_id, call_id in ((1, 1), (2, 2)):
            attachment = db.session.get(Attachment, attachment_id)
            assert attachment.question_id == forms.form_of(call_id).question("attachments").id
        edits = db.session.query(ApplicationEdit).order_by(ApplicationEdit.application_id).all()
        assert [(e.application_id, e.fields) for e in edits] == [(1, ["summary", "team"]), (2, ["summary", "team"]),
                                                                 (3, ["summary", "team"])]
        db.session.remove()
        # And back: the answers return to the column.
        downgrade(revision="i15fb0000001")
        with db.engine.connect() as conn:
            stored = dict(conn.execute(text("SELECT id, answers FROM application ORDER BY id")).all())
        for app_id, answers in ANSWERS.items():
            back = stored[app_id] if isinstance(stored[app_id], dict) else __import__("json").loads(stored[app_id])
            assert {k: v for k, v in back.items()} == {k: v for k, v in answers.items() if v}, app_id
        db.session.remove()
        db.engine.dispose()
