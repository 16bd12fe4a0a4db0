"""attachments in the database

Revision ID: c13a00000007
Revises: c16a00000006
Create Date: 2026-12-02 08:30:00

"""
from alembic import op
import sqlalchemy as sa

import residency.core.db


# revision identifiers, used by Alembic.
revision = 'c13a00000007'
down_revision = 'c16a00000006'
branch_labels = None
depends_on = None


def upgrade():
    # The bytes of attachment files, so that every web server on one PostgreSQL reads every file
    # (residency/core/attachments.py, ATTACHMENT_STORAGE). Files stored before stay where they are
    # and are still read from there; `flask --app residency attachments migrate-to-database` copies them.
    op.create_table('attachment_blob',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', residency.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_attachment_blob_size_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment_blob')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_attachment_blob_stored_name')),
    sqlite_autoincrement=True,
    )
    if op.get_bind().dialect.name == 'postgresql':
        # PDFs and images are compressed already: kept out of line and uncompressed, a chunk of a
        # download (substr) reads only its own part of the value, not the whole file each time.
        op.execute('ALTER TABLE attachment_blob ALTER COLUMN content SET STORAGE EXTERNAL')


def downgrade():
    # The files stored in the database go with the table: copy them out first if they are wanted.
    op.drop_table('attachment_blob')
