"""Real gateways on loopback for the outbox's tests: an SMTP server with STARTTLS (or
implicit TLS) on a test CA and AUTH, and a webhook receiver that checks signatures."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from services.core import runtime
from storage.webhooks import close_connections
from tests.support.smtp import Inbox, SmtpServer
from tests.support.tls import TestCA, make_ca
from tests.support.webhooks import SECRET, Receiver

MAIL_FROM = "KinPass <no-reply@kinpass.example>"


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory) -> TestCA:
    return make_ca(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_server(test_ca, inbox) -> Iterator[SmtpServer]:
    server = SmtpServer(test_ca, inbox).start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver().start()
    yield hook
    hook.stop()
    close_connections()


@pytest.fixture
def configure(app) -> Callable[..., runtime.Runtime]:
    """Run this test with these settings changed (the app's runtime comes back after it)."""

    def change(**settings) -> runtime.Runtime:
        current = app.extensions["kinpass"].runtime
        changed = replace(current, settings=replace(current.settings, **settings))
        changed.pepper = current.pepper
        runtime.install(changed)
        return changed

    return change


@pytest.fixture
def by_email(configure, smtp_server, test_ca) -> SmtpServer:
    configure(smtp_url=smtp_server.url, smtp_ca_file=str(test_ca.ca_file), mail_from=MAIL_FROM)
    return smtp_server


@pytest.fixture
def by_webhook(configure, receiver) -> Receiver:
    configure(sms_webhook_url=receiver.url, push_webhook_url=receiver.url,
              webhook_secret=SECRET)
    return receiver
