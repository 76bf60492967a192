"""Settings: one field per KINPASS_* variable, and no name that is neither kept quietly."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from services.core.settings import (
    OTHER_VARIABLES,
    SPECS,
    VARIABLES,
    ConfigError,
    Settings,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def _configuration_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]


def test_the_embedded_defaults_are_the_fields_defaults(tmp_path):
    settings = Settings.from_env({"data_dir": str(tmp_path)}, environ={})
    expected = Settings(data_dir=str(tmp_path),
                        database_url=f"sqlite:///{tmp_path.resolve() / 'kinpass.db'}")
    assert settings == expected
    assert (settings.max_upload_bytes, settings.retention_days, settings.workers) == (
        20 * 1024 * 1024, 180, 0)


TEXT_OF = {int: ("7", 7), bool: ("true", True)}


def test_every_field_is_read_from_its_variable():
    environ = {spec.variable: TEXT_OF.get(spec.kind, (f"value of {spec.name}",))[0]
               for spec in SPECS.values()}
    settings = Settings.from_env(environ=environ)
    for spec in SPECS.values():
        expected = TEXT_OF.get(spec.kind, (None, f"value of {spec.name}"))[1]
        assert getattr(settings, spec.name) == expected, spec.variable
    assert settings.kms_endpoint_url == "value of kms_endpoint_url"


def test_an_empty_variable_is_unset():
    settings = Settings.from_env(environ={"KINPASS_RETENTION_DAYS": "", "KINPASS_KEK": ""})
    assert settings.retention_days == 180 and settings.kek is None


def test_an_override_wins_over_the_environment():
    settings = Settings.from_env({"retention_days": 3},
                                 environ={"KINPASS_RETENTION_DAYS": "abc"})
    assert settings.retention_days == 3


@pytest.mark.parametrize(("name", "text"), [("KINPASS_RETENTION_DAYS", "abc"),
                                            ("KINPASS_MAX_UPLOAD_BYTES", "20MB"),
                                            ("KINPASS_WORKERS", "2.5")])
def test_a_malformed_number_names_its_variable(name, text):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(environ={name: text})
    assert str(raised.value) == f"{name} must be a whole number, not {text!r}"


def test_an_unknown_override_names_the_closest_setting():
    with pytest.raises(ConfigError, match=r"unknown setting 'retention_day' "
                                          r"\(did you mean 'retention_days'\?\)"):
        Settings.from_env({"retention_day": 30}, environ={})


def test_nothing_is_kept_aside():
    assert "extra" not in SPECS
    with pytest.raises(ConfigError, match="unknown setting 'extra'"):
        Settings.from_env({"extra": {"kms_endpoint_url": "http://kms.test"}}, environ={})


@pytest.mark.parametrize(("key", "value"), [("retention_days", "30"), ("proxy_hops", True),
                                            ("issuer", None), ("kek", 1)])
def test_an_override_of_the_wrong_type_is_refused(key, value):
    with pytest.raises(ConfigError, match=f"setting '{key}' must be"):
        Settings.from_env({key: value}, environ={})


def test_an_unknown_variable_refuses_a_production_start():
    environ = {"KINPASS_ENV": "production", "KINPASS_RETENTON_DAYS": "30"}
    with pytest.raises(ConfigError, match=r"refusing to start in production: unknown variable "
                                          r"KINPASS_RETENTON_DAYS \(did you mean "
                                          r"KINPASS_RETENTION_DAYS\?\)"):
        Settings.from_env(environ=environ)


def test_an_unknown_variable_is_warned_about_once_in_development(caplog):
    environ = {"KINPASS_METRIC_TOKEN": "x"}
    with caplog.at_level(logging.WARNING, logger="kinpass.config"):
        Settings.from_env(environ=environ)
        Settings.from_env(environ=environ)
    warnings = [r.getMessage() for r in caplog.records if r.name == "kinpass.config"]
    assert warnings == ["unknown variable KINPASS_METRIC_TOKEN "
                        "(did you mean KINPASS_METRICS_TOKEN?)"]


def test_variables_read_elsewhere_are_known(caplog):
    with caplog.at_level(logging.WARNING, logger="kinpass.config"):
        Settings.from_env(environ={name: "x" for name in OTHER_VARIABLES})
        Settings.from_env(environ={"KINPASS_ENV": "production",
                                   **{name: "x" for name in OTHER_VARIABLES}})
    assert not [r for r in caplog.records if r.name == "kinpass.config"]


def test_the_readme_table_documents_every_field_and_nothing_else():
    section = _configuration_section()
    table = set(re.findall(r"^\| `(KINPASS_[A-Z0-9_]+)` \|", section, re.MULTILINE))
    mentioned = set(re.findall(r"KINPASS_[A-Z0-9_]+", section))
    assert VARIABLES <= table, sorted(VARIABLES - table)
    assert table - VARIABLES <= OTHER_VARIABLES, sorted(table - VARIABLES - OTHER_VARIABLES)
    assert mentioned == VARIABLES | OTHER_VARIABLES


def test_the_readme_states_the_embedded_defaults():
    rows = dict(re.findall(r"^\| `(KINPASS_[A-Z0-9_]+)` \| `([^`]*)` \|", _configuration_section(),
                           re.MULTILINE))
    defaults = Settings()
    for spec in SPECS.values():
        if spec.variable in rows:
            default = getattr(defaults, spec.name)
            shown = str(int(default)) if isinstance(default, bool) else str(default)
            assert rows[spec.variable] == shown, spec.variable
