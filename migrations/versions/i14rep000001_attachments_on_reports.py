"""attachments on reports

A funding report carries files (PDF, images, office documents) as an application does; their
bytes live where every attachment's do (``attachment_blob`` or the local folder).

Revision ID: i14rep000001
Revises: i14act000003
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import residency.core.db


# revision identifiers, used by Alembic.
revision = 'i14rep000001'
down_revision = 'i14act000003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', residency.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_report_attachment_size_positive')),
    sa.ForeignKeyConstraint(['report_id'], ['funding_report.id'], name=op.f('fk_report_attachment_report_id_funding_report'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_report_attachment_uploaded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_attachment')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_report_attachment_stored_name')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('report_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_attachment_report_id'), ['report_id'], unique=False)


def downgrade():
    with op.batch_alter_table('report_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_attachment_report_id'))
    op.drop_table('report_attachment')
