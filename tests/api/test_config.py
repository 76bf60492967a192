"""KINPASS_ENV=production refuses the conveniences that only make sense on a laptop; the app
factory and the command line refuse a configuration they cannot read."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from api.app import create_app
from api.cli import main
from services.core.settings import ConfigError, Settings
from tests.support.config import GOOD


def test_a_complete_production_configuration_starts():
    Settings(**GOOD).check_production()


def test_local_storage_is_allowed_in_production_only_when_asked_for():
    Settings(**{**GOOD, "storage_url": "file://", "allow_local_storage": True}).check_production()
    assert Settings.from_env(environ={"KINPASS_ALLOW_LOCAL_STORAGE": "yes"}).allow_local_storage
    with pytest.raises(ConfigError, match="KINPASS_ALLOW_LOCAL_STORAGE must be 1 or 0"):
        Settings.from_env(environ={"KINPASS_ALLOW_LOCAL_STORAGE": "maybe"})


def test_every_unsafe_setting_is_named_at_once():
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(environ={"KINPASS_ENV": "production"}).check_production()
    named = " ".join(refused.value.problems)
    assert len(refused.value.problems) == 6
    for variable in ("KINPASS_DATABASE_URL", "KINPASS_STORAGE_URL", "KINPASS_KEK",
                     "KINPASS_JWT_SECRET", "KINPASS_ISSUER", "KINPASS_METRICS_TOKEN"):
        assert variable in named


@pytest.mark.parametrize(("change", "complaint"), [
    ({"database_url": "sqlite:////srv/kinpass.db"}, "KINPASS_DATABASE_URL"),
    ({"kek": None}, "KINPASS_KEK or KINPASS_KMS_KEY_ID"),
    ({"jwt_secret": None}, "KINPASS_JWT_SECRET must be set"),
    ({"jwt_secret": "short-secret"}, "KINPASS_JWT_SECRET must hold at least 32 bytes"),
    ({"storage_url": "file://"}, "KINPASS_STORAGE_URL is file://"),
    ({"issuer": "https://kinpass.example"}, "KINPASS_ISSUER is the example default"),
    ({"metrics_token": None}, "KINPASS_METRICS_TOKEN must be set"),
])
def test_production_refuses_development_defaults(change, complaint):
    with pytest.raises(RuntimeError, match=complaint):
        Settings(**{**GOOD, **change}).check_production()


def test_the_app_factory_refuses_to_start(tmp_path):
    with pytest.raises(RuntimeError, match="refusing to start in production"):
        create_app({"env": "production", "data_dir": str(tmp_path)})
    assert not (tmp_path / "kinpass.db").exists()


def test_development_runs_on_the_embedded_defaults():
    settings = Settings.from_env({"env": "development"})
    settings.check_production()
    assert settings.database_url.startswith("sqlite")


def test_the_app_factory_refuses_a_mistyped_setting(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown setting 'kms_endpoint' "
                                          r"\(did you mean 'kms_endpoint_url'\?\)"):
        create_app({"data_dir": str(tmp_path), "kms_endpoint": "http://127.0.0.1:1"})
    assert not (tmp_path / "kinpass.db").exists()


def test_the_app_factory_refuses_a_mistyped_variable_in_production(tmp_path, monkeypatch):
    monkeypatch.setenv("KINPASS_JWT_SECRETS", "s" * 48)
    with pytest.raises(ConfigError, match=r"unknown variable KINPASS_JWT_SECRETS "
                                          r"\(did you mean KINPASS_JWT_SECRET\?\)"):
        create_app({**GOOD, "data_dir": str(tmp_path)})
    assert not (tmp_path / "kinpass.db").exists()


@pytest.mark.parametrize("command", [["migrate"], ["gc"], ["serve"]])
def test_the_command_line_names_a_malformed_number_in_one_line(tmp_path, monkeypatch, command):
    monkeypatch.setenv("KINPASS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KINPASS_RETENTION_DAYS", "abc")
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2
    assert result.stderr == ('{"error": "KINPASS_RETENTION_DAYS must be a whole number, '
                             "not 'abc'\"}\n")
    assert not (tmp_path / "kinpass.db").exists()


def test_the_command_line_refuses_production_one_line_per_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("KINPASS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KINPASS_ENV", "production")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 6 and result.stderr.endswith("\n")
    for line in lines:
        assert json.loads(line)["error"].startswith("refusing to start in production: ")
