"""lists paginated

Revision ID: c13c00000009
Revises: c13b00000008
Create Date: 2026-12-02 13:20:00

"""
from alembic import op
import sqlalchemy as sa

import residency.core.db


# revision identifiers, used by Alembic.
revision = 'c13c00000009'
down_revision = 'c13b00000008'
branch_labels = None
depends_on = None


def upgrade():
    # The admin outbox reads a keyset page newest first (creation time, then id), of every message or
    # of one delivery state: without these it sorted every row of the outbox for each page.
    # Indexes only: no table is recreated on SQLite.
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_outbox_message_delivery_created', ['delivery', 'created_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_delivery_created')
        batch_op.drop_index('ix_outbox_message_created')
