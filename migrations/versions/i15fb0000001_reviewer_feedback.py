"""reviewer feedback

A criterion gains guidance for its reviewers; a review gains a comment for the startup
(read once the call's decisions are released); a call says whether those comments go into
the decision e-mail. Criteria and reviews so far have no guidance and no comment for the
startup; every call so far sends them (nothing to send yet).

Revision ID: i15fb0000001
Revises: i14rep000001
Create Date: 2026-12-03 06:12:21

"""
from alembic import op
import sqlalchemy as sa

import residency.core.db


# revision identifiers, used by Alembic.
revision = 'i15fb0000001'
down_revision = "i14rep000001"
branch_labels = None
depends_on = None


# SQLite rebuilds the table: it stays AUTOINCREMENT (b12c00000003), so no id is handed out twice.
KEEP = {'sqlite_autoincrement': True}

# The server defaults fill the rows so far only; the model sets the value of new rows.
COLUMNS = (
    ('call', 'feedback_in_decision_email', sa.Boolean(), sa.true()),
    ('criterion', 'guidance', sa.Text(), ''),
    ('review', 'applicant_comment', sa.Text(), ''),
)


def upgrade():
    for table, column, type_, default in COLUMNS:
        with op.batch_alter_table(table, schema=None, table_kwargs=KEEP) as batch_op:
            batch_op.add_column(sa.Column(column, type_, nullable=False, server_default=default))
        with op.batch_alter_table(table, schema=None, table_kwargs=KEEP) as batch_op:
            batch_op.alter_column(column, server_default=None, existing_type=type_, existing_nullable=False)


def downgrade():
    for table, column, _type, _default in reversed(COLUMNS):
        with op.batch_alter_table(table, schema=None, table_kwargs=KEEP) as batch_op:
            batch_op.drop_column(column)
