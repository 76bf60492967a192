"""audit document number

An audit event carries the keyed HMAC of the document number it concerns in a column of its
own, `document_number_hmac`, indexed for the auditor's filter, instead of a tag inside
`reason`. Events written before keep the column NULL and their reason as it was hashed.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_number_hmac', sa.String(length=64),
                                      nullable=True))
        batch_op.create_index('ix_audit_events_document_number', ['document_number_hmac'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_document_number')
        batch_op.drop_column('document_number_hmac')
