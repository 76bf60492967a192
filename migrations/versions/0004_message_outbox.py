"""message outbox

The outbox of messages to relatives (written in the transaction of the change that causes
them, delivered after it commits) and the devices push messages go to.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import storage.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _check(table: str, column: str, words: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{word}'" for word in words)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"ck_{table}_{column}")


def upgrade() -> None:
    op.create_table('outbox_messages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=True),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('device_id', sa.Uuid(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('template', sa.String(length=60), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('payload_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', storage.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', storage.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', storage.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    _check('outbox_messages', 'channel', ('email', 'sms', 'push')),
    _check('outbox_messages', 'status', ('queued', 'sent', 'failed')),
    _check('outbox_messages', 'language', ('en', 'ru', 'uk')),
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_due', ['status', 'next_attempt_at'],
                              unique=False)
        batch_op.create_index('ix_outbox_messages_case', ['case_id', 'created_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_account_id'), ['account_id'],
                              unique=False)

    op.create_table('devices',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('platform', sa.String(length=10), nullable=False),
    sa.Column('token', sa.String(length=512), nullable=False),
    sa.Column('created_at', storage.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    _check('devices', 'platform', ('fcm', 'apns')),
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index('ix_devices_account_created', ['account_id', 'created_at', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index('ix_devices_account_created')
    op.drop_table('devices')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_account_id'))
        batch_op.drop_index('ix_outbox_messages_case')
        batch_op.drop_index('ix_outbox_messages_due')
    op.drop_table('outbox_messages')
