"""audit tree

The Merkle tree over the audit log (RFC 9162 §2.1): every perfect subtree a row, built here
for the events already written, and its frontier on the head row; signed tree heads and the witness's receipts. On PostgreSQL
every audit table refuses UPDATE and DELETE (row triggers) and TRUNCATE (statement triggers).
The hashing is written out here, as it stood when this revision was released.

Revision ID: 0005
Revises: 0004
"""
import hashlib

import sqlalchemy as sa
from alembic import op

import storage.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

APPEND_ONLY = ('audit_events', 'audit_checkpoints', 'audit_tree_nodes', 'audit_tree_heads',
               'audit_witness_receipts')
FUNCTION = """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$"""
BATCH = 10_000


def _row_trigger(table: str) -> str:
    return 'audit_events_append_only' if table == 'audit_events' else f'{table}_append_only'


def _build_tree(nodes: sa.Table) -> None:
    """Leaves SHA-256(0x00 ‖ event hash); each completed pair SHA-256(0x01 ‖ left ‖ right)."""
    connection = op.get_bind()
    stack: list[tuple[int, int, bytes]] = []
    size, last = 0, 0
    while True:
        hashes = connection.execute(sa.text(
            'SELECT seq, hash FROM audit_events WHERE seq > :low ORDER BY seq LIMIT :n'),
            {'low': last, 'n': BATCH}).all()
        if not hashes:
            break
        rows = []
        for seq, event_hash in hashes:
            level, index = 0, size
            digest = hashlib.sha256(b'\x00' + bytes.fromhex(event_hash)).digest()
            rows.append({'level': level, 'idx': index, 'hash': digest})
            while stack and stack[-1][0] == level:
                _, left_index, left = stack.pop()
                level, index = level + 1, left_index >> 1
                digest = hashlib.sha256(b'\x01' + left + digest).digest()
                rows.append({'level': level, 'idx': index, 'hash': digest})
            stack.append((level, index, digest))
            size, last = size + 1, seq
        op.bulk_insert(nodes, rows)
    if size:
        connection.execute(sa.text('UPDATE audit_head SET tree_frontier = :f'),
                           {'f': b''.join(digest for _, _, digest in stack)})


def upgrade() -> None:
    nodes = op.create_table(
        'audit_tree_nodes',
        sa.Column('level', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint('level', 'idx'),
        sqlite_with_rowid=False)
    op.create_table(
        'audit_tree_heads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tree_size', sa.BigInteger(), nullable=False),
        sa.Column('root_hash', sa.String(length=64), nullable=False),
        sa.Column('at', storage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('kid', sa.String(length=64), nullable=False),
        sa.Column('jws', sa.String(length=1024), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('audit_tree_heads', schema=None) as batch_op:
        batch_op.create_index('ix_audit_tree_heads_size', ['tree_size'], unique=False)
    op.create_table(
        'audit_witness_receipts',
        sa.Column('head_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('accepted_at', storage.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['head_id'], ['audit_tree_heads.id']),
        sa.PrimaryKeyConstraint('head_id'))
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tree_frontier', sa.LargeBinary(length=2048),
                                      nullable=True))
    _build_tree(nodes)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(FUNCTION)
        for table in APPEND_ONLY:
            if table != 'audit_events':
                op.execute(f'CREATE TRIGGER {_row_trigger(table)} BEFORE UPDATE OR DELETE '
                           f'ON {table} FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()')
            op.execute(f'CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} '
                       'FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in APPEND_ONLY:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}')
            if table != 'audit_events':
                op.execute(f'DROP TRIGGER IF EXISTS {_row_trigger(table)} ON {table}')
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('tree_frontier')
    op.drop_table('audit_witness_receipts')
    with op.batch_alter_table('audit_tree_heads', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_tree_heads_size')
    op.drop_table('audit_tree_heads')
    op.drop_table('audit_tree_nodes')
