"""ids never reused

On SQLite every table keyed by its own integer id becomes AUTOINCREMENT, so a
deleted row's id (a capacity period, an attachment, a report) is never handed
out again and a stale page cannot reach the newer row. SQLite can only say so
when it creates a table, so each such table is recreated (batch mode copies the
rows and keeps the constraints and indexes); PostgreSQL's sequences never reuse
an id and need nothing. Foreign keys must be off while tables are recreated
(they are: the app does not turn them on), or dropping a table would cascade.

Placements gain the state ``cancelled``: a placement whose nomination an
administrator took back before the hub offered it.

Revision ID: b12c00000003
Revises: b12b00000002
Create Date: 2026-12-02 07:00:00

"""
from alembic import op
import sqlalchemy as sa

import residency.core.db


# revision identifiers, used by Alembic.
revision = 'b12c00000003'
down_revision = 'b12b00000002'
branch_labels = None
depends_on = None

OLD_PLACEMENT_STATES = ('pending', 'offered', 'waitlisted', 'rejected', 'accepted', 'declined', 'lapsed', 'active',
                        'completed', 'terminated')
PLACEMENT_STATES = OLD_PLACEMENT_STATES + ('cancelled',)


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _own_integer_keyed_tables(bind):
    """The tables whose primary key is a single integer column that is not a foreign key: those
    SQLite can make AUTOINCREMENT."""
    inspector = sa.inspect(bind)
    found = []
    for name in inspector.get_table_names():
        if name == 'alembic_version' or name.startswith('sqlite_'):
            continue
        key = inspector.get_pk_constraint(name)['constrained_columns']
        if len(key) != 1:
            continue
        column = next(c for c in inspector.get_columns(name) if c['name'] == key[0])
        referencing = {c for fk in inspector.get_foreign_keys(name) for c in fk['constrained_columns']}
        if isinstance(column['type'], sa.Integer) and key[0] not in referencing:
            found.append(name)
    return found


def _recreate_all(autoincrement: bool):
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    if bind.exec_driver_sql('PRAGMA foreign_keys').scalar():
        raise RuntimeError('Turn SQLite foreign keys off to recreate tables: dropping one would cascade.')
    kwargs = {'sqlite_autoincrement': True} if autoincrement else {}
    for name in _own_integer_keyed_tables(bind):
        with op.batch_alter_table(name, recreate='always', table_kwargs=kwargs):
            pass


def upgrade():
    with op.batch_alter_table('placement', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_placement_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_placement_status'), _in('status', PLACEMENT_STATES))
    _recreate_all(autoincrement=True)


def downgrade():
    _recreate_all(autoincrement=False)
    # A cancelled placement was never offered: before this revision it reads as not placed.
    op.execute("UPDATE placement SET status = 'rejected' WHERE status = 'cancelled'")
    with op.batch_alter_table('placement', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_placement_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_placement_status'), _in('status', OLD_PLACEMENT_STATES))
