"""sessions and sign-in throttling

Revision ID: b12a00000001
Revises: a6048e5080be
Create Date: 2026-12-02 07:00:00

"""
from alembic import op
import sqlalchemy as sa

import residency.core.db


# revision identifiers, used by Alembic.
revision = 'b12a00000001'
down_revision = 'a6048e5080be'
branch_labels = None
depends_on = None


def upgrade():
    # One row per sign-in on a device (its key, hashed, is what the session and remember cookie hold).
    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('remembered', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', residency.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', residency.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', residency.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_user_session_expires_after_start')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_session_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_user_session_key_hash')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    # Failed sign-ins per bucket (account and address, address, account) replace one row per failure.
    op.create_table('sign_in_throttle',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', residency.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("scope IN ('pair', 'account', 'address')", name=op.f('ck_sign_in_throttle_scope')),
    sa.CheckConstraint('failures >= 0', name=op.f('ck_sign_in_throttle_failures')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_throttle'))
    )
    with op.batch_alter_table('sign_in_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_throttle_account'), ['account'], unique=False)

    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failure_email_created_at')
    op.drop_table('login_failure')


def downgrade():
    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.Column('created_at', residency.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index('ix_login_failure_email_created_at', ['email', 'created_at'], unique=False)

    with op.batch_alter_table('sign_in_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_throttle_account'))
    op.drop_table('sign_in_throttle')

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))
    op.drop_table('user_session')
