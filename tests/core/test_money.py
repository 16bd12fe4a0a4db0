"""Money is exact on every database (issue 12, item 4): ``core.db.Money`` keeps numeric(14, 2) on
PostgreSQL and integer minor units on SQLite (whose NUMERIC would keep a float); sums come back
as exact Decimals; a float never reaches a money column; the migration converts what is stored."""
from __future__ import annotations

import csv
import io
import os
import tempfile
from decimal import Decimal

import pytest
from sqlalchemy import Numeric, func, inspect, select, text
from sqlalchemy.exc import StatementError

from residency import create_app
from residency.core.db import Money, money_sum
from residency.core.extensions import db
from residency.domain.funding import services as funding
from residency.domain.funding.models import Disbursement, FundingScheme

from tests.factories import make_scheme
from tests.scenarios import _in_progress

LARGEST = Decimal("999999999999.99")  # limits.MONEY_MAX, the most numeric(14, 2) holds
MONEY_COLUMNS = {
    ("funding_scheme", "max_amount"), ("funding_application", "own_financing"),
    ("funding_application", "amount_requested"), ("funding_application", "granted_amount"),
    ("budget_line", "amount"), ("disbursement", "amount"),
    ("impact_survey", "revenue"), ("impact_survey", "capital_raised"), ("impact_survey", "export_revenue"),
}


def money_columns():
    return {(t.name, c.name) for t in db.metadata.sorted_tables for c in t.columns if isinstance(c.type, Money)}


def test_every_money_column_is_money_and_nothing_else_is_numeric_14_2(app):
    assert money_columns() == MONEY_COLUMNS
    plain = [(t.name, c.name) for t in db.metadata.sorted_tables for c in t.columns
             if isinstance(c.type, Numeric) and not isinstance(c.type, Money) and c.type.precision == 14]
    assert plain == []


@pytest.mark.sqlite
def test_sqlite_keeps_money_as_integer_minor_units(app, make):
    # The suite's schema is what the migrations leave: every money column is an INTEGER ...
    inspector = inspect(db.engine)
    for table, column in MONEY_COLUMNS:
        declared = next(c["type"] for c in inspector.get_columns(table) if c["name"] == column)
        assert str(declared) == "INTEGER", (table, column, declared)
    # ... holding cents/øre, not a REAL.
    scheme = make_scheme(make.organisation("funder"), max_amount=str(LARGEST))
    row = db.session.execute(text("SELECT typeof(max_amount), max_amount FROM funding_scheme WHERE id = :id"),
                             {"id": scheme.id}).one()
    assert tuple(row) == ("integer", 99999999999999)


def test_the_largest_amount_round_trips_and_is_exported_exactly(client, make, login):
    scheme, startup, founder, officer, fa = _in_progress(make)
    scheme.max_amount = LARGEST
    fa.own_financing, fa.amount_requested, fa.granted_amount = LARGEST, Decimal("0.01"), LARGEST
    db.session.add(Disbursement(funding_application_id=fa.id, instalment=0, amount=LARGEST, paid_at=fa.updated_at))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(FundingScheme, scheme.id).max_amount == LARGEST
    assert str(fa.own_financing) == "999999999999.99" and str(fa.amount_requested) == "0.01"
    assert funding.paid_total(fa) == LARGEST
    login(make.admin())
    response = client.get("/exports/grants.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))
    row = dict(zip(rows[0], next(r for r in rows[1:] if int(r[0]) == fa.id)))
    assert row["Own financing"] == "999999999999.99"
    assert row["Amount requested"] == "0.01"
    assert row["Granted amount"] == "999999999999.99"
    assert row["Paid amount"] == "999999999999.99"


def test_sums_of_many_amounts_with_ore_are_exact(client, make, login):
    scheme, startup, founder, officer, fa = _in_progress(make)
    fa.granted_amount = LARGEST
    # The largest amount first, then 1000 × 0.10: summed as doubles in this order SQLite gave
    # 1000000000099.97; in minor units (and numeric on PostgreSQL) it is exact.
    db.session.add(Disbursement(funding_application_id=fa.id, instalment=0, amount=LARGEST, paid_at=fa.updated_at))
    db.session.flush()
    db.session.add_all([Disbursement(funding_application_id=fa.id, instalment=i, amount=Decimal("0.10"), paid_at=fa.updated_at)
                        for i in range(1, 1001)])
    db.session.commit()
    expected = Decimal("1000000000099.99")
    assert funding.paid_total(fa) == expected
    total = db.session.scalar(select(money_sum(Disbursement.amount)).where(Disbursement.funding_application_id == fa.id))
    assert isinstance(total, Decimal) and total == expected and str(total) == "1000000000099.99"
    small = db.session.scalar(select(func.sum(Disbursement.amount)).where(
        Disbursement.funding_application_id == fa.id, Disbursement.amount < Decimal("1")))
    assert small == Decimal("100.00") and str(small) == "100.00"
    # A bound amount compared with a money column is bound in the column's unit.
    assert db.session.scalar(select(func.count()).where(Disbursement.amount == Decimal("0.10"))) == 1000
    assert db.session.scalar(select(func.count()).where(Disbursement.amount > Decimal("0.09"),
                                                         Disbursement.amount <= 1)) == 1000
    # Nothing paid sums to 0.00, not None.
    assert db.session.scalar(select(money_sum(Disbursement.amount)).where(Disbursement.id < 0)) == Decimal("0.00")
    login(make.admin())
    rows = list(csv.reader(io.StringIO(client.get("/exports/grants.csv").get_data().decode("utf-8-sig"), newline="")))
    row = dict(zip(rows[0], next(r for r in rows[1:] if int(r[0]) == fa.id)))
    assert row["Paid amount"] == "1000000000099.99"


@pytest.mark.parametrize("value", [1.5, 500000.0, True])
def test_a_float_never_reaches_a_money_column(app, make, value):
    funder = make.organisation("funder")
    db.session.add(FundingScheme(funder_id=funder.id, name="Float", currency="NOK", max_amount=value,
                                 max_share_percent=Decimal("50")))
    with pytest.raises(StatementError) as raised:
        db.session.flush()
    assert isinstance(raised.value.orig, TypeError)
    db.session.rollback()


def test_decimal_and_int_are_taken_and_rounded_as_postgresql_rounds(app, make):
    funder = make.organisation("funder")
    a = make_scheme(funder, max_amount="12.345")
    b = FundingScheme(funder_id=funder.id, name="Int", currency="NOK", max_amount=7, max_share_percent=Decimal("50"))
    db.session.add(b)
    db.session.commit()
    db.session.expire_all()
    assert str(a.max_amount) == "12.35" and str(b.max_amount) == "7.00"


@pytest.mark.sqlite
def test_the_migration_converts_stored_sqlite_amounts_to_minor_units_and_back():
    from flask_migrate import downgrade, upgrade

    url = "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="residency-money-"), "m.sqlite3")
    scratch = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": url})
    queries = ("SELECT id, typeof(max_amount), max_amount FROM funding_scheme",
               "SELECT id, own_financing, amount_requested, granted_amount FROM funding_application",
               "SELECT id, typeof(amount), amount FROM budget_line ORDER BY id",
               "SELECT id, typeof(amount), amount FROM disbursement",
               "SELECT id, revenue, capital_raised, export_revenue FROM impact_survey")

    def stored():
        return [[tuple(r) for r in db.session.execute(text(q))] for q in queries]

    with scratch.app_context():
        upgrade(revision="b12d00000004")
        for sql in (
            "INSERT INTO funding_scheme (id, funder_id, name, currency, max_amount, max_share_percent, instalments, "
            "home_countries, report_kinds, active, created_at) VALUES (7, 1, 'S', 'NOK', 999999999999.99, 50, '[]', '[]', "
            "'[]', 1, '2026-01-01 00:00:00')",
            "INSERT INTO funding_application (id, scheme_id, startup_id, placement_id, status, title, description, "
            "own_financing, amount_requested, granted_amount, assessment_notes, created_at, updated_at) VALUES (3, 7, 1, 1, "
            "'draft', '', '', 0.1, 250000, NULL, '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            "INSERT INTO budget_line (id, funding_application_id, category, year, quarter, amount) VALUES "
            "(5, 3, 'rent', 2030, 1, 20000.2), (6, 3, 'other', 2030, 1, 0), (8, 3, 'travel', 2030, 1, 1)",
            "DELETE FROM budget_line WHERE id = 8",  # the counter stays at 8: no id is handed out again
            "INSERT INTO disbursement (id, funding_application_id, instalment, amount, requested_at) VALUES "
            "(9, 3, 0, 79999.7, '2026-01-01 00:00:00')",
            "INSERT INTO impact_survey (id, placement_id, startup_id, months_after, due_on, currency, revenue, "
            "capital_raised, export_revenue, created_at) VALUES (4, 1, 1, 12, '2030-01-01', 'NOK', 123456789012.34, NULL, "
            "0.01, '2026-01-01 00:00:00')",
        ):
            db.session.execute(text(sql))
        db.session.commit()
        before = stored()
        assert before[0] == [(7, "real", 999999999999.99)]
        db.session.remove()

        upgrade(revision="b12e00000005")
        assert stored() == [
            [(7, "integer", 99999999999999)],
            [(3, 10, 25000000, None)],
            [(5, "integer", 2000020), (6, "integer", 0)],
            [(9, "integer", 7999970)],
            [(4, 12345678901234, None, 1)],
        ]
        for table in ("funding_scheme", "funding_application", "budget_line", "disbursement", "impact_survey"):
            sql = db.session.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :n"),
                                     {"n": table}).scalar()
            assert "AUTOINCREMENT" in sql and "CHECK" in sql, table
        assert db.session.execute(text("SELECT seq FROM sqlite_sequence WHERE name = 'budget_line'")).scalar() == 8
        db.session.remove()

        downgrade(revision="b12d00000004")
        assert stored() == before
        assert db.session.execute(text("SELECT seq FROM sqlite_sequence WHERE name = 'budget_line'")).scalar() == 8
        db.session.remove()
        db.engine.dispose()
