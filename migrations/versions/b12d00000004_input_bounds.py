"""input bounds

Every amount is Numeric(14, 2), the precision ``residency.core.limits.MONEY_MAX``
bounds: the impact survey's revenue, capital raised and export revenue were
Numeric(16, 2), beyond what SQLite (which keeps NUMERIC as a double) gives back
exactly. The service never accepted more than the bound, so no value changes.

On SQLite the table is recreated (batch mode) and stays AUTOINCREMENT, as the
previous revision made it.

Revision ID: b12d00000004
Revises: b12c00000003
Create Date: 2026-12-02 07:00:00

"""
from alembic import op
import sqlalchemy as sa

import residency.core.db


# revision identifiers, used by Alembic.
revision = 'b12d00000004'
down_revision = 'b12c00000003'
branch_labels = None
depends_on = None

AMOUNTS = ('revenue', 'capital_raised', 'export_revenue')


def _retype(old, new):
    with op.batch_alter_table('impact_survey', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        for column in AMOUNTS:
            batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=True)


def upgrade():
    _retype(sa.Numeric(precision=16, scale=2), sa.Numeric(precision=14, scale=2))


def downgrade():
    _retype(sa.Numeric(precision=14, scale=2), sa.Numeric(precision=16, scale=2))
