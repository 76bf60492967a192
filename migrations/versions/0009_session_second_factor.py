"""session second factor

When a session's owner last gave a one-time code: the console asks for a fresh one before
the acts that matter most.

Revision ID: 0009
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

import storage.db

revision = '0009'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('otp_at', storage.db.UtcDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_column('otp_at')
