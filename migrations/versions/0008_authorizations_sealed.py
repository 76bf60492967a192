"""authorizations sealed

An authorization's token (a JWS carrying the holder's name, birth date and document number)
is kept sealed in `token_sealed` and shredded with its case (`shredded_at`). The sealing key
is wrapped by the KEK, which a migration does not hold: this revision only makes room, and
leaves the tokens already issued in `token`, now nullable. The server seals them, and empties
`token`, as it starts (`kinpass serve`, `kinpass migrate` and every other command that
migrates; services.authorizations.sealing.seal_clear_tokens); nothing writes `token` again.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

import storage.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('authorizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_sealed', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('shredded_at', storage.db.UtcDateTime(timezone=True),
                                      nullable=True))
        batch_op.alter_column('token', existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # A token sealed since cannot be put back in clear here: it reads empty after a downgrade.
    op.execute("UPDATE authorizations SET token = '' WHERE token IS NULL")
    with op.batch_alter_table('authorizations', schema=None) as batch_op:
        batch_op.alter_column('token', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('shredded_at')
        batch_op.drop_column('token_sealed')
