"""resumable uploads

The tus uploads in flight: one row per upload, what of it is durably kept, and where.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

import storage.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'resumable_uploads',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('document_id', sa.Uuid(), nullable=False),
        sa.Column('account_id', sa.Uuid(), nullable=False),
        sa.Column('length', sa.BigInteger(), nullable=False),
        sa.Column('offset', sa.BigInteger(), nullable=False),
        sa.Column('stored', sa.BigInteger(), nullable=False),
        sa.Column('object_key', sa.String(length=100), nullable=False),
        sa.Column('multipart_id', sa.String(length=1024), nullable=True),
        sa.Column('parts', sa.Text(), nullable=False),
        sa.Column('tail_key', sa.String(length=100), nullable=True),
        sa.Column('wrapped_dek', sa.LargeBinary(), nullable=True),
        sa.Column('nonce_prefix', sa.LargeBinary(), nullable=True),
        sa.Column('created_at', storage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', storage.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('resumable_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resumable_uploads_document_id'), ['document_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_resumable_uploads_expires_at'), ['expires_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('resumable_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resumable_uploads_expires_at'))
        batch_op.drop_index(batch_op.f('ix_resumable_uploads_document_id'))
    op.drop_table('resumable_uploads')
