"""``Application.submitted_at``: set by the application workflow with the audit row, at the change's own
time, on every submission (a resubmission and an administrator forcing an application on out of its
draft too), never cleared; the migration that adds it fills it from the audit trail the same way."""
from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from residency import create_app
from residency.core import workflow
from residency.core.extensions import db
from residency.domain.applications import rules
from residency.domain.applications.models import Application

from tests.factories import Factories

T0 = datetime(2026, 3, 2, 8, 15, 30, 123456, tzinfo=timezone.utc)


def histories(make) -> dict[str, tuple[Application, datetime | None]]:
    """Applications that went different ways, each with the submission time the workflow must leave."""
    call = make.call()
    staff = make.user(org=call.route.cluster)
    admin = make.admin()
    out = {}

    def new():
        return make.application(call=call, startup=make.organisation("startup", country=call.route.home_country))

    plain = new()
    workflow.perform(plain, "submit", plain.created_by, now=T0)
    out["submitted"] = (plain, T0)

    again = new()
    workflow.perform(again, "submit", again.created_by, now=T0)
    workflow.perform(again, "request_changes", staff, reason="Add the team", now=T0 + timedelta(days=1))
    workflow.perform(again, "resubmit", again.created_by, now=T0 + timedelta(days=2))
    workflow.perform(again, "withdraw", again.created_by, reason="Found another hub", now=T0 + timedelta(days=3))
    out["resubmitted, then withdrawn"] = (again, T0 + timedelta(days=2))

    back = new()
    workflow.perform(back, "submit", back.created_by, now=T0)
    workflow.perform(back, "revert", admin, reason="Submitted by mistake", now=T0 + timedelta(hours=1))
    workflow.perform(back, "withdraw", back.created_by, reason="Never mind", now=T0 + timedelta(hours=2))
    out["submitted, sent back to draft, withdrawn"] = (back, T0)

    forced = new()
    workflow.perform(forced, "force", admin, target="under_review", reason="Sent by post", now=T0 + timedelta(hours=3))
    workflow.perform(forced, "withdraw", forced.created_by, reason="No longer", now=T0 + timedelta(hours=4))
    out["forced on out of the draft, withdrawn"] = (forced, T0 + timedelta(hours=3))

    never = new()
    workflow.perform(never, "withdraw", never.created_by, reason="Our investor said no", now=T0)
    out["withdrawn as a draft"] = (never, None)

    out["draft"] = (new(), None)
    db.session.commit()
    return out


def test_the_workflow_sets_it_at_the_changes_time_and_never_clears_it(make):
    for name, (application, expected) in histories(make).items():
        db.session.refresh(application)
        assert application.submitted_at == expected, name


def test_cluster_staff_see_what_was_ever_submitted_and_nothing_else(make):
    cases = histories(make)
    seen = set(db.session.scalars(select(Application.id).where(rules.seen_by_cluster_clause())))
    for name, (application, expected) in cases.items():
        db.session.refresh(application)
        assert rules.seen_by_cluster(application) == (expected is not None), name
        assert (application.id in seen) == (expected is not None), name


@pytest.fixture
def scratch_url():
    """A database of its own for migrating down and up (the suite's schema is not touched)."""
    main = os.environ.get("TEST_DATABASE_URL")
    if not main:
        yield "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="residency-sub-"), "s.sqlite3")
        return
    url = make_url(main)
    name = f"{url.database}_submitted_at"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_migration_fills_it_from_the_audit_trail_as_the_workflow_does(scratch_url):
    from flask_migrate import downgrade, upgrade

    scratch = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": scratch_url})
    with scratch.app_context():
        upgrade()
        expected = {application.id: (name, when) for name, (application, when) in histories(Factories()).items()}
        db.session.remove()
        downgrade(revision="c13a00000007")  # the column goes, the audit trail stays
        upgrade()
        filled = dict(db.session.execute(select(Application.id, Application.submitted_at)).all())
        assert {i: filled[i] for i in expected} == {i: when for i, (name, when) in expected.items()}
        db.session.remove()
        db.engine.dispose()
