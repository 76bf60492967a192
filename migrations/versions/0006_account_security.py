"""account security

Registrations of their own (an account exists only once a contact's code is verified), codes
bound to one contact and one purpose (verify, reset, unlock), and when a session was last
used.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

import storage.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('registrations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', storage.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("language IN ('en', 'ru', 'uk')", name='ck_registrations_language'),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_index('ix_registrations_email', ['email'], unique=False)
        batch_op.create_index('ix_registrations_phone', ['phone'], unique=False)

    op.create_table('contact_codes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('purpose', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('registration_id', sa.Uuid(), nullable=True),
    sa.Column('account_id', sa.Uuid(), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('used_at', storage.db.UtcDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("purpose IN ('verify', 'reset', 'unlock')",
                       name='ck_contact_codes_purpose'),
    sa.CheckConstraint("channel IN ('email', 'phone')", name='ck_contact_codes_channel'),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact_codes', schema=None) as batch_op:
        batch_op.create_index('ix_contact_codes_account', ['account_id'], unique=False)
        batch_op.create_index('ix_contact_codes_registration', ['registration_id'],
                              unique=False)

    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', storage.db.UtcDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
    with op.batch_alter_table('contact_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_codes_registration')
        batch_op.drop_index('ix_contact_codes_account')
    op.drop_table('contact_codes')
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_registrations_phone')
        batch_op.drop_index('ix_registrations_email')
    op.drop_table('registrations')
