"""A request that only read ends its transaction with COMMIT on PostgreSQL (psycopg keeps what it
prepared); one that wrote anything without a unit of work is rolled back as ever, on both databases."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, insert, select

from residency.core.db import utcnow
from residency.core.extensions import db
from residency.domain.accounts.models import SignInThrottle, User

pytestmark = pytest.mark.usefixtures("app")


@pytest.mark.postgres
def test_statements_stay_prepared_from_one_read_only_request_to_the_next(app, make):
    user = make.user()
    prepared = []

    def count_prepared(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            prepared.append(cursor.fetchone()[0])
        dbapi_connection.commit()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "checkin", count_prepared)
    try:
        # psycopg prepares a statement on its fifth run on one connection; the pool may hand out a few.
        for _ in range(60):
            with app.app_context():
                assert db.session.scalar(select(User.email).where(User.id == user.id)) == user.email
    finally:
        event.remove(engine, "checkin", count_prepared)
    # With a ROLLBACK at the end of each request psycopg dropped them all: never one prepared.
    assert max(prepared) >= 1, prepared


def _failures(key: str) -> int:
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(SignInThrottle).where(SignInThrottle.key == key))


def _row(key: str) -> dict:
    return {"key": key, "scope": "address", "failures": 1, "window_started_at": utcnow()}


def test_a_request_that_wrote_outside_a_unit_of_work_is_rolled_back(app):
    with app.app_context():
        db.session.execute(insert(SignInThrottle).values(**_row("core-write")))
        db.session.scalar(select(func.count()).select_from(SignInThrottle))  # a read after the write
    with app.app_context():
        assert _failures("core-write") == 0


def test_a_request_that_flushed_or_left_changes_pending_is_rolled_back(app):
    with app.app_context():
        db.session.add(SignInThrottle(**_row("flushed")))
        db.session.flush()
    with app.app_context():
        db.session.add(SignInThrottle(**_row("pending")))
    with app.app_context():
        assert _failures("flushed") == 0
        assert _failures("pending") == 0


def test_a_request_that_failed_is_rolled_back(app):
    with pytest.raises(RuntimeError):
        with app.app_context():
            db.session.execute(insert(SignInThrottle).values(**_row("failed")))
            raise RuntimeError("the view failed")
    with app.app_context():
        assert _failures("failed") == 0


def test_what_a_read_only_request_loaded_stays_readable_after_it_ended(app, make):
    # A streamed download (the review queue's CSV) reads objects loaded by its request after the request's
    # teardown: a COMMIT that expired them left a closed session unable to load them again (a 500 mid-file).
    user = make.user()
    with app.app_context():
        loaded = db.session.scalar(select(User).where(User.id == user.id))
    assert loaded.email == user.email and loaded.name == user.name
