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
    "0003_resumable_uploads.py":
        "16f756646fb270078d36beec5035d2d3e2261381f3f54bb7ca4bbbee996ef648",
    "0004_message_outbox.py":
        "03c0329087882877e46889fc1b20d969710236f92102603f7b1bba1e77feca10",
    "0005_audit_tree.py":
        "408f6f667f15bf82a8028c7d1346a4833152051e134d5377bb14e50884159e15",
    "0006_account_security.py":
        "cec570cdadd6f3fda71e3bbbef88a42407cb1bac3d4f95c47dce3ac7ad3a046d",
    "0009_session_second_factor.py":
        "8a5f6651b35207c61eada08465e49fbf2495d68da6879f49cabfd0ba2672354d",
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
