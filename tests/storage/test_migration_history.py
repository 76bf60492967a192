"""A released revision is history: it never changes; a schema change is a new revision."""
from __future__ import annotations

import hashlib

from alembic.script import ScriptDirectory

from storage.migrate import SCRIPT_DIR, alembic_config

VERSIONS = SCRIPT_DIR / "versions"

# SHA-256 of every revision file. A revision is released once it is merged, and a database
# out there may then stand at it, so none may be edited: change the schema in a new revision
# and list it here with it.
RELEASED = {
    "0001_initial.py": "0dfceb695846d2f1f4311abdb35d0b747ccf00e598efdc8103d7d8cd935bc687",
    "0002_enumerated_columns_checked.py":
        "369768aeb14810ea58e24631efcd1ad488cf312c3168989bf70932b1dd53d5a4",
    "0005_account_security.py": "df3632e582acaebc76d35002636beb052112f83ae80b69a66a47ffc6da20c044",
}


def test_released_revisions_are_unchanged():
    for name, digest in RELEASED.items():
        path = VERSIONS / name
        assert path.exists(), f"released revision {name} was removed; revisions are history"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, (
            f"released revision {name} was edited: put it back as it was and make the change "
            "in a new revision (with down_revision the current head)")


def test_every_revision_file_is_in_the_manifest():
    files = {path.name for path in VERSIONS.glob("*.py") if path.name != "__init__.py"}
    assert files == set(RELEASED), (
        "list every new revision file with its SHA-256 in RELEASED")


def test_the_revisions_form_one_line():
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(script.walk_revisions())
    assert len(script.get_heads()) == 1
    assert [r.down_revision for r in reversed(revisions)] == [
        None, *[r.revision for r in reversed(revisions)][:-1]]
