"""insight in the database

Revision ID: c13d00000010
Revises: c13c00000009
Create Date: 2026-12-02 13:20:00

"""
from alembic import op
import sqlalchemy as sa

import residency.core.db


# revision identifiers, used by Alembic.
revision = 'c13d00000010'
down_revision = 'c13c00000009'
branch_labels = None
depends_on = None


def upgrade():
    # The insight page's funnel and decision times, rebuilt from the records by the scheduler
    # (residency/domain/insight/summaries.py); empty until its first run, when the page counts
    # from the records. Nothing here is the only copy of anything.
    op.create_table('insight_funnel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('track', sa.String(length=20), nullable=True),
    sa.Column('applied', sa.Integer(), nullable=False),
    sa.Column('submitted', sa.Integer(), nullable=False),
    sa.Column('nominated', sa.Integer(), nullable=False),
    sa.Column('offered', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('active', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_insight_funnel_call_id_call'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_funnel')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('insight_funnel', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insight_funnel_call_id'), ['call_id'], unique=False)

    op.create_table('insight_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('scheme_id', sa.Integer(), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('track', sa.String(length=20), nullable=True),
    sa.Column('seconds', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("decision IN ('nomination', 'offer', 'grant')", name=op.f('ck_insight_decision_decision')),
    sa.CheckConstraint("(decision = 'grant') = (scheme_id IS NOT NULL AND call_id IS NULL)",
                       name=op.f('ck_insight_decision_grant_by_scheme')),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_insight_decision_call_id_call'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scheme_id'], ['funding_scheme.id'], name=op.f('fk_insight_decision_scheme_id_funding_scheme'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_decision')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('insight_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insight_decision_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_insight_decision_scheme_id'), ['scheme_id'], unique=False)
        batch_op.create_index('ix_insight_decision_decision_seconds', ['decision', 'seconds'], unique=False)

    op.create_table('insight_refresh',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', residency.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_refresh')),
    sqlite_autoincrement=True,
    )

    # When each record first entered a state (its first submission, its first decision), from the index alone.
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.create_index('ix_status_change_transition', ['workflow', 'to_state', 'record_id', 'created_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.drop_index('ix_status_change_transition')
    op.drop_table('insight_refresh')
    with op.batch_alter_table('insight_decision', schema=None) as batch_op:
        batch_op.drop_index('ix_insight_decision_decision_seconds')
        batch_op.drop_index(batch_op.f('ix_insight_decision_scheme_id'))
        batch_op.drop_index(batch_op.f('ix_insight_decision_call_id'))
    op.drop_table('insight_decision')
    with op.batch_alter_table('insight_funnel', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_insight_funnel_call_id'))
    op.drop_table('insight_funnel')
