"""indexes for every list

Revision ID: c13b00000008
Revises: c13a00000007
Create Date: 2026-12-02 08:30:00

"""
from alembic import op
import sqlalchemy as sa

import residency.core.db


# revision identifiers, used by Alembic.
revision = 'c13b00000008'
down_revision = 'c13a00000007'
branch_labels = None
depends_on = None


# The audit rows that make an application submitted (as the application workflow's hook sets it:
# entering "submitted", or leaving the draft for anything but a withdrawal).
SUBMISSIONS = ("workflow = 'application' AND record_id = application.id AND "
               "(to_state = 'submitted' OR (from_state = 'draft' AND to_state != 'withdrawn'))")


def upgrade():
    # When the application was last submitted: the review queue sorts by it and cluster staff see an
    # application once it is set, without reading the audit trail for every row.
    # A nullable column is added in place on SQLite too: no table is recreated.
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_at', residency.core.db.UTCDateTime(timezone=True), nullable=True))
    op.execute(f'UPDATE application SET submitted_at = (SELECT max(created_at) FROM status_change WHERE {SUBMISSIONS})')
    # Every filter and sort of the review queue and of the funder queue starts from an index.
    # Indexes only from here: no table is recreated on SQLite.
    with op.batch_alter_table('application', schema=None) as batch_op:
        # The call's applications by status (its counts, its status filter), and in submission order
        # (the queue's first order); both lead with the call, so the call's own index goes.
        batch_op.create_index('ix_application_call_status', ['call_id', 'status', 'submitted_at'], unique=False)
        batch_op.create_index('ix_application_call_submitted', ['call_id', 'submitted_at', 'id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_application_call_id'))
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index('ix_review_application_submitted', ['application_id', 'weighted_score'], unique=False,
                              sqlite_where=sa.text('submitted_at IS NOT NULL'), postgresql_where=sa.text('submitted_at IS NOT NULL'))
    with op.batch_alter_table('funding_application', schema=None) as batch_op:
        batch_op.create_index('ix_funding_application_scheme_status', ['scheme_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('funding_application', schema=None) as batch_op:
        batch_op.drop_index('ix_funding_application_scheme_status')
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index('ix_review_application_submitted', sqlite_where=sa.text('submitted_at IS NOT NULL'),
                            postgresql_where=sa.text('submitted_at IS NOT NULL'))
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_call_id'), ['call_id'], unique=False)
        batch_op.drop_index('ix_application_call_submitted')
        batch_op.drop_index('ix_application_call_status')
    with op.batch_alter_table('application', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_column('submitted_at')
