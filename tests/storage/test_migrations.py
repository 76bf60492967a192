"""The Alembic migrations build exactly the schema the models describe, and carry an existing
database, rows and all, to it."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from storage.db import EnumText, UtcDateTime, make_engine
from storage.migrate import alembic_config, downgrade, upgrade
from storage.models import Base
from tests.conftest import PG_URL, _worker_database


def _fresh_engine(tmp_path, name="migrated"):
    if PG_URL:
        return make_engine(_worker_database(name))
    return make_engine(f"sqlite:///{tmp_path / f'{name}.db'}")


def _schema(engine) -> dict:
    """Everything the inspector sees of every table, in a form two databases can compare."""
    found = inspect(engine)
    schema = {}
    for table in sorted(set(found.get_table_names()) - {"alembic_version"}):
        schema[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"])
                        for c in found.get_columns(table)],
            "primary_key": found.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted((tuple(fk["constrained_columns"]), fk["referred_table"],
                                    tuple(fk["referred_columns"]), str(fk["options"]))
                                   for fk in found.get_foreign_keys(table)),
            "unique": sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]),
                               str({k: str(v) for k, v in (i.get("dialect_options") or {}).items()}))
                              for i in found.get_indexes(table)),
            "checks": sorted((c["name"], c["sqltext"]) for c in found.get_check_constraints(table)),
        }
    return schema


def test_migrations_match_models(tmp_path):
    engine = _fresh_engine(tmp_path)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == []


def test_migrations_build_the_schema_the_models_create(tmp_path):
    """CHECK constraints and partial indexes included, which compare_metadata does not see."""
    migrated, created = _fresh_engine(tmp_path, "migrated"), _fresh_engine(tmp_path, "created")
    upgrade(migrated)
    Base.metadata.create_all(created)
    try:
        assert _schema(migrated) == _schema(created)
    finally:
        migrated.dispose()
        created.dispose()


def test_every_enumerated_column_is_checked():
    for table in Base.metadata.sorted_tables:
        checks = {c.name: str(c.sqltext) for c in table.constraints
                  if isinstance(c, sa.CheckConstraint)}
        for column in table.columns:
            if not isinstance(column.type, EnumText):
                continue
            sql = checks.get(f"ck_{table.name}_{column.name}")
            assert sql is not None, f"{table.name}.{column.name} has no CHECK constraint"
            words = set(sql.split(" IN (", 1)[1].rstrip(")").replace("'", "").split(", "))
            assert words <= {member.value for member in column.type.enum}, (table.name, sql)


def test_upgrade_is_idempotent(tmp_path):
    engine = _fresh_engine(tmp_path)
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()


# --- an existing 0001 database, with rows, brought to head --------------------------------

def _table(name: str, *columns: tuple[str, sa.types.TypeEngine]) -> sa.TableClause:
    """A table as revision 0001 left it, for the columns written here (not the models: they
    describe head)."""
    return sa.table(name, *(sa.column(column, kind) for column, kind in columns))


ID, TIME, TEXT = sa.Uuid(), UtcDateTime(), sa.String()


def _fill_0001(conn) -> dict[str, uuid.UUID]:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    ids = {name: uuid.uuid4() for name in ("relative", "officer", "prisoner", "case", "session",
                                           "code", "document", "handover", "authorization")}
    account = _table("accounts", ("id", ID), ("email", TEXT), ("full_name", TEXT),
                     ("role", TEXT), ("language", TEXT), ("status", TEXT),
                     ("password_hash", TEXT), ("totp_last_step", sa.Integer()),
                     ("created_at", TIME))
    conn.execute(sa.insert(account), [
        {"id": ids["relative"], "email": "mother@example.org", "full_name": "Мария",
         "role": "relative", "language": "uk", "status": "active", "password_hash": "x",
         "totp_last_step": 0, "created_at": now},
        {"id": ids["officer"], "email": "officer@kinpass.example", "full_name": "Officer",
         "role": "officer", "language": "en", "status": "disabled", "password_hash": "x",
         "totp_last_step": 0, "created_at": now}])
    conn.execute(sa.insert(_table("auth_sessions", ("id", ID), ("account_id", ID),
                                  ("refresh_jti", TEXT), ("created_at", TIME),
                                  ("expires_at", TIME))),
                 {"id": ids["session"], "account_id": ids["relative"], "refresh_jti": "j",
                  "created_at": now, "expires_at": now + timedelta(days=30)})
    conn.execute(sa.insert(_table("verification_codes", ("id", ID), ("account_id", ID),
                                  ("code_hash", TEXT), ("attempts", sa.Integer()),
                                  ("created_at", TIME), ("expires_at", TIME))),
                 {"id": ids["code"], "account_id": ids["relative"], "code_hash": "h",
                  "attempts": 1, "created_at": now, "expires_at": now})
    conn.execute(sa.insert(_table(
        "prisoners", ("id", ID), ("registry_number", TEXT), ("surname", TEXT),
        ("given_name", TEXT), ("surname_latin", TEXT), ("given_name_latin", TEXT),
        ("surname_key", TEXT), ("given_name_key", TEXT), ("birth_date", sa.Date()),
        ("status", TEXT), ("created_at", TIME), ("updated_at", TIME))),
        {"id": ids["prisoner"], "registry_number": "UA-1", "surname": "Иванов",
         "given_name": "Иван", "surname_latin": "IVANOV", "given_name_latin": "IVAN",
         "surname_key": "IFNF", "given_name_key": "IFN", "birth_date": now.date(),
         "status": "held", "created_at": now, "updated_at": now})
    conn.execute(sa.insert(_table(
        "cases", ("id", ID), ("account_id", ID), ("status", TEXT), ("relationship", TEXT),
        ("applicant", sa.JSON()), ("soldier", sa.JSON()), ("prisoner_id", ID),
        ("candidate_prisoner_id", ID), ("version", sa.Integer()), ("created_at", TIME),
        ("updated_at", TIME), ("submitted_at", TIME))),
        {"id": ids["case"], "account_id": ids["relative"], "status": "approved",
         "relationship": "mother", "applicant": {"surname": "Иванова"},
         "soldier": {"surname": "Иванов"}, "prisoner_id": ids["prisoner"],
         "candidate_prisoner_id": ids["prisoner"], "version": 3, "created_at": now,
         "updated_at": now, "submitted_at": now})
    conn.execute(sa.insert(_table("case_status_changes", ("id", ID), ("case_id", ID),
                                  ("seq", sa.Integer()), ("status", TEXT), ("at", TIME))),
                 [{"id": uuid.uuid4(), "case_id": ids["case"], "seq": seq, "status": status,
                   "at": now} for seq, status in enumerate(("draft", "submitted"), 1)])
    conn.execute(sa.insert(_table("case_decisions", ("id", ID), ("case_id", ID),
                                  ("decision", TEXT), ("by", ID), ("role", TEXT),
                                  ("reason", TEXT), ("at", TIME))),
                 {"id": uuid.uuid4(), "case_id": ids["case"], "decision": "approve",
                  "by": ids["officer"], "role": "officer", "reason": "fine", "at": now})
    conn.execute(sa.insert(_table(
        "documents", ("id", ID), ("case_id", ID), ("kind", TEXT), ("content_type", TEXT),
        ("size", sa.Integer()), ("sha256", TEXT), ("encryption", TEXT), ("status", TEXT),
        ("created_at", TIME))),
        {"id": ids["document"], "case_id": ids["case"], "kind": "passport",
         "content_type": "image/jpeg", "size": 10, "sha256": "0" * 64, "encryption": "client",
         "status": "stored", "created_at": now})
    conn.execute(sa.insert(_table("signing_keys", ("kid", TEXT), ("status", TEXT),
                                  ("public_key", sa.LargeBinary()),
                                  ("private_key_wrapped", sa.LargeBinary()),
                                  ("created_at", TIME))),
                 {"kid": "k1", "status": "active", "public_key": b"p",
                  "private_key_wrapped": b"w", "created_at": now})
    conn.execute(sa.insert(_table("handovers", ("id", ID), ("location", TEXT),
                                  ("starts_at", TIME), ("ends_at", TIME), ("created_at", TIME))),
                 {"id": ids["handover"], "location": "Sumy", "starts_at": now, "ends_at": now,
                  "created_at": now})
    conn.execute(sa.insert(_table(
        "authorizations", ("id", ID), ("case_id", ID), ("kind", TEXT), ("status", TEXT),
        ("valid_from", TIME), ("valid_until", TIME), ("handover_id", ID), ("kid", TEXT),
        ("token", TEXT), ("issued_at", TIME))),
        {"id": ids["authorization"], "case_id": ids["case"], "kind": "pickup",
         "status": "redeemed", "valid_from": now, "valid_until": now,
         "handover_id": ids["handover"], "kid": "k1", "token": "t", "issued_at": now})
    conn.execute(sa.insert(_table(
        "audit_events", ("seq", sa.BigInteger()), ("at", TIME), ("actor_role", TEXT),
        ("action", TEXT), ("outcome", TEXT), ("prev_hash", TEXT), ("hash", TEXT))),
        [{"seq": 1, "at": now, "actor_role": "system", "action": "gc.run",
          "outcome": "success", "prev_hash": "0" * 64, "hash": "1" * 64},
         {"seq": 2, "at": now, "actor_role": "anonymous", "action": "auth.login",
          "outcome": "failure", "prev_hash": "1" * 64, "hash": "2" * 64}])
    return ids


TABLES = ("accounts", "auth_sessions", "verification_codes", "prisoners", "cases",
          "case_status_changes", "case_decisions", "documents", "signing_keys", "handovers",
          "authorizations", "audit_events")


def _counts(conn) -> dict[str, int]:
    return {name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in TABLES}


def test_upgrading_a_0001_database_keeps_every_row(tmp_path):
    engine = _fresh_engine(tmp_path, "upgraded")
    upgrade(engine, "0001")
    with engine.begin() as conn:
        ids = _fill_0001(conn)
        before = _counts(conn)
    upgrade(engine)
    with engine.connect() as conn:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
        assert _counts(conn) == before
        # Rebuilding a referenced table on SQLite must neither cascade nor null anything.
        kept = conn.execute(sa.select(sa.column("candidate_prisoner_id", ID))
                            .select_from(sa.table("cases"))).scalar_one()
        assert kept == ids["prisoner"]
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


@pytest.mark.parametrize(("table", "column", "word"), [
    ("accounts", "role", "emperor"), ("accounts", "language", "de"),
    ("cases", "status", "lost"), ("documents", "encryption", "none"),
    ("authorizations", "status", "expired"), ("audit_events", "outcome", "maybe"),
])
def test_the_upgraded_database_refuses_words_outside_the_vocabulary(tmp_path, table, column,
                                                                      word):
    engine = _fresh_engine(tmp_path, "refusing")
    upgrade(engine, "0001")
    with engine.begin() as conn:
        _fill_0001(conn)
    upgrade(engine)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        if table == "audit_events":  # append-only on PostgreSQL: a new row, not an update
            conn.execute(text("INSERT INTO audit_events (seq, at, actor_role, action, outcome, "
                              "prev_hash, hash) VALUES (3, :at, 'system', 'a.b', :word, '', '')"),
                         {"at": datetime.now(UTC).replace(tzinfo=None), "word": word})
        else:
            conn.execute(text(f"UPDATE {table} SET {column} = :word"), {"word": word})
    engine.dispose()


def test_downgrade_to_0001_and_back(tmp_path):
    engine = _fresh_engine(tmp_path, "roundtrip")
    upgrade(engine, "0001")
    with engine.begin() as conn:
        _fill_0001(conn)
        before = _counts(conn)
    upgrade(engine)
    downgrade(engine, "0001")
    assert not inspect(engine).get_check_constraints("documents")
    upgrade(engine)
    with engine.connect() as conn:
        assert _counts(conn) == before
    assert len(inspect(engine).get_check_constraints("documents")) == 4
    engine.dispose()
