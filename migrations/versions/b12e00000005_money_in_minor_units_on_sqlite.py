"""money in minor units on sqlite

Money is exact on every database (``residency.core.db.Money``). PostgreSQL keeps
numeric(14, 2) and needs nothing. SQLite gives a NUMERIC column REAL affinity, so
an amount was kept as a double; now every money column is an INTEGER of minor
units (cents, øre): each stored amount is multiplied by 100 and rounded to a whole
number (exact for every amount within numeric(14, 2), which a double holds to the
cent), then the table is recreated (batch mode) with the INTEGER column and stays
AUTOINCREMENT, as revision b12c00000003 made it, with its counter kept (the copy
alone would restart it at the largest id left). Downgrade divides by 100 and
gives the columns NUMERIC(14, 2) back.

Revision ID: b12e00000005
Revises: b12d00000004
Create Date: 2026-12-02 08:30:00

"""
from alembic import op
import sqlalchemy as sa

import residency.core.db


# revision identifiers, used by Alembic.
revision = 'b12e00000005'
down_revision = 'b12d00000004'
branch_labels = None
depends_on = None

# table -> its money columns, each with whether it may be NULL
MONEY_COLUMNS = {
    'funding_scheme': {'max_amount': False},
    'funding_application': {'own_financing': False, 'amount_requested': False, 'granted_amount': True},
    'budget_line': {'amount': False},
    'disbursement': {'amount': False},
    'impact_survey': {'revenue': True, 'capital_raised': True, 'export_revenue': True},
}
NUMERIC = sa.Numeric(precision=14, scale=2)


def _on_sqlite() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return False
    if bind.exec_driver_sql('PRAGMA foreign_keys').scalar():
        raise RuntimeError('Turn SQLite foreign keys off to recreate tables: dropping one would cascade.')
    return True


def _retype(table, columns, old, new):
    # The copy starts the new table's AUTOINCREMENT counter at the largest id left, so a
    # deleted row's id would be handed out again: keep the counter it had.
    bind = op.get_bind()
    seq = bind.execute(sa.text('SELECT seq FROM sqlite_sequence WHERE name = :t'), {'t': table}).scalar()
    with op.batch_alter_table(table, schema=None, recreate='always',
                              table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        for column, nullable in columns.items():
            batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=nullable)
    if seq is not None:
        if bind.execute(sa.text('UPDATE sqlite_sequence SET seq = max(seq, :s) WHERE name = :t'),
                        {'s': seq, 't': table}).rowcount == 0:
            bind.execute(sa.text('INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :s)'), {'s': seq, 't': table})


def upgrade():
    if not _on_sqlite():
        return
    for table, columns in MONEY_COLUMNS.items():
        # Still NUMERIC here: a whole number keeps its INTEGER storage class, and the
        # recreate's CAST(... AS INTEGER) below copies it unchanged.
        op.execute(f'UPDATE {table} SET ' + ', '.join(
            f'{c} = CAST(ROUND({c} * 100) AS INTEGER)' for c in columns))
        _retype(table, columns, NUMERIC, sa.Integer())


def downgrade():
    if not _on_sqlite():
        return
    for table, columns in MONEY_COLUMNS.items():
        _retype(table, columns, sa.Integer(), NUMERIC)
        op.execute(f'UPDATE {table} SET ' + ', '.join(f'{c} = {c} / 100.0' for c in columns))
