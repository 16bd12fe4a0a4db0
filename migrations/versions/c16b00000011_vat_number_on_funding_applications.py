"""vat number on funding applications

The startup's VAT number, optional, checked by python-stdnum (core/orgnumbers.py check_vat)
and built from the startup's own organisation number where its country builds it so.

Revision ID: c16b00000011
Revises: c13d00000010
Create Date: 2026-12-02 13:40:00

"""
from alembic import op
import sqlalchemy as sa

import residency.core.db


# revision identifiers, used by Alembic.
revision = 'c16b00000011'
down_revision = 'c13d00000010'
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column is added in place on SQLite too: no table is recreated.
    with op.batch_alter_table('funding_application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vat_number', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('funding_application', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_column('vat_number')
