"""Migrations upgrade from empty, downgrade to base and upgrade again, with no
drift between the models and the migrations (on SQLite and on PostgreSQL)."""
import os
import tempfile

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from residency import create_app
from residency.core.extensions import db


@pytest.fixture
def scratch_url():
    """A database of its own, so the suite's schema is not touched."""
    main = os.environ.get("TEST_DATABASE_URL")
    if not main:
        yield "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="residency-mig-"), "m.sqlite3")
        return
    url = make_url(main)
    name = f"{url.database}_migrations"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_downgrade_upgrade_and_no_drift(scratch_url):
    from flask_migrate import check, downgrade, upgrade

    scratch = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": scratch_url})
    with scratch.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
        # Raises (and prints the operations) if autogenerate finds a difference.
        check()
        db.session.remove()
        db.engine.dispose()
