"""Least privilege on PostgreSQL: the server's role owns nothing and may only append to the
audit tables.

Migrations run as the schema's owner (KINPASS_MIGRATION_DATABASE_URL); afterwards the role of
KINPASS_DATABASE_URL is granted exactly what a request needs: reading and writing the working
tables, INSERT and SELECT on the append-only audit tables (no UPDATE, DELETE or TRUNCATE), and
nothing that alters a table or its triggers (only an owner may, and it owns none).
"""
from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from storage.models import Base
from storage.models.audit import APPEND_ONLY_TABLES

# Rows the server changes in place: the head row every append locks, and the audit keys
# re-wrapped after a KEK rotation.
_WRITABLE = ("SELECT", "INSERT", "UPDATE", "DELETE")
_APPEND_ONLY = ("SELECT", "INSERT")


def server_privileges() -> dict[str, tuple[str, ...]]:
    """table -> the privileges the server's role holds on it."""
    grants = {table: _APPEND_ONLY if table in APPEND_ONLY_TABLES else _WRITABLE
              for table in Base.metadata.tables}
    grants["alembic_version"] = ("SELECT",)
    return grants


def grant_server_role(connection: Connection, role: str) -> None:
    """Give ``role`` what `server_privileges` lists and nothing more (run as the owner)."""
    quote = connection.dialect.identifier_preparer.quote
    who = quote(role)
    connection.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {who}"))
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {who}"))
    for table, privileges in server_privileges().items():
        connection.execute(text(f"GRANT {', '.join(privileges)} ON {quote(table)} TO {who}"))
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {who}"))


def owns_audit_tables(engine: Engine) -> bool:
    """Does the role ``engine`` connects as own an audit table (and so could alter it)?"""
    with engine.connect() as connection:
        return bool(connection.execute(text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename = ANY(:names) AND tableowner = current_user"),
            {"names": list(APPEND_ONLY_TABLES)}).scalar())
