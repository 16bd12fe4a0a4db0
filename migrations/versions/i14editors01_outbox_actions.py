"""outbox actions: who cancelled or resent a message

An administrator's cancel or resend of an outbox message is kept as a row (who, when, and the
delivery state it changed), written in the same transaction as the change.

Revision ID: i14editors01
Revises: c13e00000012
Create Date: 2026-12-02 21:00:00

"""
from alembic import op
import sqlalchemy as sa

import residency.core.db


# revision identifiers, used by Alembic.
revision = 'i14editors01'
down_revision = 'c13e00000012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox_action',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('delivery_before', sa.String(length=10), nullable=False),
        sa.Column('created_at', residency.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("action IN ('cancel', 'resend')", name=op.f('ck_outbox_action_action')),
        sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_outbox_action_actor_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['message_id'], ['outbox_message.id'],
                                name=op.f('fk_outbox_action_message_id_outbox_message'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_action')),
        sqlite_autoincrement=True,  # ids are never reused (as every table keyed by its own id)
    )
    op.create_index('ix_outbox_action_message', 'outbox_action', ['message_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_outbox_action_message', table_name='outbox_action')
    op.drop_table('outbox_action')
