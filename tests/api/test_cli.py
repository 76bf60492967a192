"""The `kinpass` command against the test database, audited as role `system`."""
from __future__ import annotations

import json

import click
import pyotp
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from api.cli import main
from storage.db import session as db
from storage.models import AuditEvent


@pytest.fixture
def cli_env(monkeypatch, base_config):
    monkeypatch.setenv("KINPASS_DATA_DIR", base_config["data_dir"])
    monkeypatch.setenv("KINPASS_DATABASE_URL", base_config["database_url"])
    monkeypatch.setenv("KINPASS_NOTIFIER", base_config["notifier"])
    return CliRunner()


def test_staff_create_and_login(app, client, cli_env):
    result = cli_env.invoke(main, ["staff", "create", "--email", "Root@Kinpass.example",
                                   "--role", "admin", "--full-name", "Root"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["email"] == "root@kinpass.example" and created["role"] == "admin"
    otp = pyotp.TOTP(created["totp_secret"]).now()
    r = client.post("/v1/auth/login", json={"login": "root@kinpass.example",
                                            "password": created["password"], "otp": otp})
    assert r.status_code == 200
    event = db().execute(select(AuditEvent).where(AuditEvent.action == "staff.create")
                         ).scalar_one()
    assert event.actor_role == "system" and event.actor_id is None


def test_staff_create_refuses_bad_role(app, cli_env):
    result = cli_env.invoke(main, ["staff", "create", "--email", "x@kinpass.example",
                                   "--role", "relative"])
    assert result.exit_code == 2
    assert "'relative' is not one of 'officer', 'supervisor', 'auditor', 'checkpoint', " \
           "'admin'" in result.output


def test_every_option_says_what_it_is():
    def walk(command):
        yield command
        for sub in getattr(command, "commands", {}).values():
            yield from walk(sub)
    for command in walk(main):
        assert command.help, command.name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{command.name} {param.opts}"


def test_a_command_run_elsewhere_does_not_make_a_second_data_dir(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for name in ("KINPASS_DATA_DIR", "KINPASS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for command in (["gc"], ["audit", "verify"], ["staff", "create", "--email", "a@b.example",
                                                  "--role", "admin"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, result.output
        assert "no data directory at" in result.stderr and "KINPASS_DATA_DIR" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_audit_verify(app, client, cli_env, register_relative):
    register_relative()
    result = cli_env.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True and report["events"] >= 3 and report["first_bad_seq"] is None


def test_commands_seal_tokens_kept_in_clear(app, client, cli_env, register_relative,
                                            make_staff):
    """A database migrated from before sealing keeps issued tokens in clear; the first
    command that migrates seals them."""
    import uuid

    from services.core import unit_of_work
    from storage.models import Authorization
    from tests.support.world import World

    world = World(client, register_relative, make_staff)
    _, case_id, _ = world.approved_case()
    travel = world.travel(case_id)
    auth = db().get(Authorization, uuid.UUID(travel["id"]))
    auth.token_clear, auth.token_sealed = travel["token"], None
    unit_of_work.commit()
    db.remove()
    result = cli_env.invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    row = db().get(Authorization, uuid.UUID(travel["id"]))
    assert row.token_clear is None and row.token_sealed is not None
    assert row.token == travel["token"]
    db.remove()
    assert world.verify(travel["token"])["result"] == "valid"
