"""Ids are never reused (issue 12, item 6): on SQLite every table keyed by its own integer id is
AUTOINCREMENT, in the models and after the migrations (PostgreSQL's sequences never reuse)."""
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.schema import CreateTable

from residency.core.extensions import db
from residency.domain.programme.models import HubCapacity


def own_integer_keyed(table) -> bool:
    key = list(table.primary_key.columns)
    return len(key) == 1 and key[0].type.python_type is int and not key[0].foreign_keys


def test_every_model_table_keyed_by_its_own_integer_is_autoincrement_on_sqlite():
    from sqlalchemy.dialects import sqlite

    tables = [t for t in db.metadata.sorted_tables if own_integer_keyed(t)]
    assert len(tables) > 20
    for table in tables:
        assert "PRIMARY KEY AUTOINCREMENT" in str(CreateTable(table).compile(dialect=sqlite.dialect())), table.name


@pytest.mark.sqlite  # PostgreSQL's sequences never reuse an id
def test_the_migrated_sqlite_schema_has_autoincrement_on_every_such_table(app):
    # The suite's database is built by the migrations, so this is what `flask db upgrade` leaves.
    inspector = inspect(db.engine)
    missing = []
    for name in inspector.get_table_names():
        if name == "alembic_version" or name not in db.metadata.tables or not own_integer_keyed(db.metadata.tables[name]):
            continue
        sql = db.session.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :n"), {"n": name}).scalar()
        if "AUTOINCREMENT" not in sql:
            missing.append(name)
    assert missing == []


def test_a_deleted_rows_id_is_not_handed_out_again(make):
    hub = make.organisation("hub", country="SE")
    from datetime import date

    first = make.capacity(hub, date(2030, 1, 1), date(2030, 6, 30))
    first_id = first.id
    db.session.delete(first)
    db.session.commit()
    second = make.capacity(hub, date(2030, 1, 1), date(2030, 6, 30))
    assert second.id != first_id
    assert db.session.get(HubCapacity, first_id) is None
