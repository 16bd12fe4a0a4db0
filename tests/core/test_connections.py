"""What every PostgreSQL connection of the app runs with, and the datetimes it reads."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text

from residency.core.extensions import db, engine_options
from residency.core.models import StatusChange


@pytest.mark.postgres
def test_a_postgresql_connection_runs_without_jit_in_utc_by_that_name(app):
    with app.app_context():
        assert db.session.scalar(text("show jit")) == "off"
        # "UTC" itself: psycopg then hands out datetime.timezone.utc, no zoneinfo to convert from.
        assert db.session.scalar(text("show timezone")) == "UTC"


def test_settings_given_in_the_url_or_connect_args_are_kept():
    given = engine_options("postgresql+psycopg://db/x", {"connect_args": {"options": "-c TimeZone=Europe/Oslo"}})
    assert given["connect_args"]["options"] == "-c TimeZone=Europe/Oslo -c jit=off"
    given = engine_options("postgresql+psycopg://db/x", {"connect_args": {"options": "-c jit=on"}})
    assert given["connect_args"]["options"] == "-c jit=on -c TimeZone=UTC"
    assert engine_options("sqlite:///x.db", {}) == {}


def test_a_stored_time_reads_back_in_utc_itself(app, make):
    application = make.application(status="submitted")
    with app.app_context():
        when = db.session.scalar(select(StatusChange.created_at).where(StatusChange.record_id == application.id)
                                 .order_by(StatusChange.id.desc()).limit(1))
    assert isinstance(when, datetime)
    assert when.tzinfo is timezone.utc
