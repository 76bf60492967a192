"""enumerated columns checked

Every column that holds one of a fixed set of words (storage.vocabulary) gets a named CHECK
constraint. The words are written out here, as they stood when this revision was released:
a later change to the vocabulary is a later revision.

On SQLite each table is rebuilt (batch mode); storage.migrate runs it with foreign keys off,
so dropping the old copy of a referenced table cascades nothing.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

ROLES = ('relative', 'officer', 'supervisor', 'auditor', 'checkpoint', 'admin')
CASE_STATUSES = ('draft', 'submitted', 'in_review', 'info_requested', 'approval_pending',
                 'approved', 'completed', 'rejected', 'withdrawn')

CHECKS = {
    'accounts': {
        'role': ROLES,
        'language': ('en', 'ru', 'uk'),
        'status': ('pending_verification', 'active', 'disabled'),
    },
    'audit_events': {
        'actor_role': (*ROLES, 'system', 'anonymous'),
        'outcome': ('success', 'denied', 'failure'),
    },
    'prisoners': {
        'status': ('held', 'released', 'transferred', 'deceased'),
    },
    'signing_keys': {
        'status': ('active', 'retired'),
    },
    'cases': {
        'status': CASE_STATUSES,
        'relationship': ('mother', 'father', 'spouse', 'sibling', 'child', 'grandparent',
                         'other'),
    },
    'case_status_changes': {
        'status': CASE_STATUSES,
    },
    'case_decisions': {
        'decision': ('approve', 'reject', 'request_info'),
        'role': ROLES,
    },
    'authorizations': {
        'kind': ('travel', 'pickup'),
        'status': ('active', 'revoked', 'redeemed'),
    },
    'documents': {
        'kind': ('passport', 'internal_passport', 'id_card', 'birth_certificate',
                 'marriage_certificate', 'photo', 'other'),
        'content_type': ('image/jpeg', 'image/png', 'application/pdf'),
        'encryption': ('server', 'client'),
        'status': ('pending_upload', 'stored', 'rejected', 'shredded'),
    },
}


def upgrade() -> None:
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, words in columns.items():
                listed = ", ".join(f"'{word}'" for word in words)
                batch_op.create_check_constraint(f'ck_{table}_{column}',
                                                 f'{column} IN ({listed})')


def downgrade() -> None:
    for table, columns in reversed(CHECKS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_constraint(f'ck_{table}_{column}', type_='check')
