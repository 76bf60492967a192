"""Delivery settings: production refuses the log notifier and names every unsafe setting at
once; the log notifier never writes a code or a contact outside development."""
from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner

from api.cli import main
from services.core.settings import ConfigError, Settings
from storage.notifier import LogNotifier, NoNotifier, open_notifier
from tests.support.config import GOOD

MESSAGE = {"id": "1", "channel": "email", "to": "maria@example.org",
           "template": "verification_code", "language": "uk",
           "text": "Ваш код підтвердження KinPass: 123456.", "code": "123456"}


def test_the_copy_defaults_to_log_in_development_and_none_in_production():
    assert Settings().message_copy == "log"
    assert Settings(**GOOD).message_copy == "none"
    assert isinstance(open_notifier("none"), NoNotifier)
    Settings(**GOOD).check_production()


def test_production_refuses_the_log_notifier():
    with pytest.raises(ConfigError, match="KINPASS_NOTIFIER=log"):
        Settings(**GOOD, notifier="log").check_production()
    Settings(**GOOD, notifier="file:/var/lib/kinpass/copy.jsonl").check_production()


def test_production_names_every_unsafe_setting_at_once_one_line_each():
    settings = Settings(env="production", database_url="sqlite:////srv/kinpass.db",
                        notifier="log", sms_webhook_url="http://sms.internal",
                        smtp_url="smtp://mail.internal:587")
    with pytest.raises(ConfigError) as raised:
        settings.check_production()
    lines = raised.value.problems
    for needle in ("KINPASS_DATABASE_URL", "KINPASS_KEK", "KINPASS_JWT_SECRET",
                   "KINPASS_NOTIFIER", "KINPASS_MAIL_FROM", "KINPASS_WEBHOOK_SECRET",
                   "KINPASS_SMS_WEBHOOK_URL must be https", "KINPASS_STORAGE_URL",
                   "KINPASS_ISSUER", "KINPASS_METRICS_TOKEN"):
        assert sum(needle in line for line in lines) >= 1, (needle, lines)
    assert all(line.startswith("refusing to start in production: ") for line in lines)
    assert all("\n" not in line for line in lines)
    assert len(lines) == 10


def test_the_command_line_refuses_production_on_the_log_notifier(tmp_path, monkeypatch):
    for name, value in {"KINPASS_DATA_DIR": str(tmp_path), "KINPASS_ENV": "production",
                        "KINPASS_DATABASE_URL": GOOD["database_url"], "KINPASS_KEK": GOOD["kek"],
                        "KINPASS_JWT_SECRET": GOOD["jwt_secret"],
                        "KINPASS_NOTIFIER": "log"}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2 and "KINPASS_NOTIFIER=log" in result.stderr


@pytest.mark.parametrize(("change", "complaint"), [
    ({"smtp_url": "http://mail.internal"}, "KINPASS_SMTP_URL must be"),
    ({"smtp_url": "smtp://mail.internal:587"}, "KINPASS_MAIL_FROM must be set"),
    ({"smtp_ca_file": "/nonexistent/ca.pem"}, "KINPASS_SMTP_CA_FILE"),
    ({"push_webhook_url": "https://push.internal"}, "KINPASS_WEBHOOK_SECRET"),
    ({"sms_webhook_url": "ftp://sms.internal", "webhook_secret": "s" * 32},
     "KINPASS_SMS_WEBHOOK_URL must be an http(s) URL"),
    ({"notifier": "syslog"}, "KINPASS_NOTIFIER must be"),
])
def test_delivery_settings_that_cannot_work_refuse_the_start(change, complaint):
    with pytest.raises(ConfigError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        Settings(**change).check_messages()


def test_the_log_notifier_redacts_outside_development(caplog):
    caplog.set_level(logging.INFO, logger="kinpass.notifier")
    LogNotifier(redact=True).send(dict(MESSAGE))
    (record,) = caplog.records
    assert record.notification == {"id": "1", "channel": "email",
                                   "template": "verification_code", "language": "uk"}
    caplog.clear()
    open_notifier("log", development=True).send(dict(MESSAGE))
    assert caplog.records[0].notification["code"] == "123456"
    caplog.clear()
    open_notifier("log", development=False).send(dict(MESSAGE))
    assert "code" not in caplog.records[0].notification
    assert "to" not in caplog.records[0].notification
