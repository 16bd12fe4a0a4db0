"""placements know their call

A placement carries its application's call (which never changes), so that the hub's inbox numbers,
orders and groups its placements by call without reading the application table. Filled from the
applications here; every new placement is given it by the placement workflow.

Revision ID: c13e00000012
Revises: c16b00000011
Create Date: 2026-12-02 21:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c13e00000012'
down_revision = 'c16b00000011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('placement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_id', sa.Integer(), nullable=True))
    op.execute("UPDATE placement SET call_id = (SELECT application.call_id FROM application "
               "WHERE application.id = placement.application_id)")
    with op.batch_alter_table('placement', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.alter_column('call_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_placement_call_id_call'), 'call', ['call_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index('ix_placement_hub_call_status', ['hub_id', 'call_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('placement', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_index('ix_placement_hub_call_status')
        batch_op.drop_constraint(batch_op.f('fk_placement_call_id_call'), type_='foreignkey')
        batch_op.drop_column('call_id')
