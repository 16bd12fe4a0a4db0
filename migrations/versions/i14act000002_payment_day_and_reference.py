"""payment day and reference of an instalment

Recording an instalment as paid takes the day the money went out and the payment's
reference in the funder's books. Instalments recorded before this revision get the
UTC day of their recording; their reference stays empty.

Revision ID: i14act000002
Revises: i14act000001
Create Date: 2026-12-02 21:10:00

"""
from alembic import op
import sqlalchemy as sa

import residency.core.db


# revision identifiers, used by Alembic.
revision = 'i14act000002'
down_revision = 'i14act000001'
branch_labels = None
depends_on = None


# SQLite rebuilds the table: it stays AUTOINCREMENT (b12c00000003), so no id is handed out twice.
KEEP = {'sqlite_autoincrement': True}


def upgrade():
    with op.batch_alter_table('disbursement', schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.add_column(sa.Column('paid_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('payment_reference', sa.String(length=100), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("UPDATE disbursement SET paid_on = date(paid_at) WHERE paid_at IS NOT NULL")
    else:
        op.execute("UPDATE disbursement SET paid_on = CAST(paid_at AT TIME ZONE 'UTC' AS DATE) WHERE paid_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('disbursement', schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.drop_column('payment_reference')
        batch_op.drop_column('paid_on')
