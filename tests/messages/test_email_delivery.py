"""Email through a real SMTP server on loopback: STARTTLS or implicit TLS on a test CA, AUTH,
a multipart message in the relative's language that carries a working code."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from api.sender import deliver_due
from services.messages.templates import SUBJECTS
from storage.db import session as db, utcnow
from storage.models.messages import OutboxMessage
from storage.vocabulary import MessageStatus
from tests.messages.conftest import MAIL_FROM
from tests.support.smtp import Inbox, SmtpServer

PASSWORD = "Kyiv-Reunion-2026"


def _register(client, email: str, language: str = "uk") -> None:
    r = client.post("/v1/auth/register", json={"email": email, "password": PASSWORD,
                                               "full_name": "Марія Іваненко",
                                               "language": language})
    assert r.status_code == 202, r.get_json()


def _code_in(mail) -> str:
    text = mail.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"\b(\d{6})\b", text).group(1)


def _rows() -> list[OutboxMessage]:
    rows = list(db().scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))
    db().rollback()
    return rows


def _database_files(app) -> list[Path]:
    url = make_url(app.extensions["kinpass"].settings.database_url)
    if not url.drivername.startswith("sqlite"):
        return []
    main = Path(url.database)
    return [path for path in (main, main.with_name(main.name + "-wal")) if path.exists()]


def test_registration_by_email_delivers_a_working_code(app, client, by_email, inbox):
    _register(client, "maria@example.org")
    assert inbox.messages == []  # nothing leaves inside the request
    assert deliver_due() == 1
    (mail,) = inbox.to("maria@example.org")
    assert mail["From"] == MAIL_FROM
    assert mail["Subject"] == SUBJECTS["verification_code"]["uk"]
    assert mail["Date"] and mail.get_content_type() == "multipart/alternative"
    (row,) = _rows()
    assert mail["Message-ID"] == f"<{row.id}@kinpass.example>"
    html = mail.get_body(preferencelist=("html",)).get_content()
    code = _code_in(mail)
    assert code in html and '<html lang="uk">' in html
    assert inbox.envelopes[0] == ("no-reply@kinpass.example", ["maria@example.org"])
    r = client.post("/v1/auth/verify", json={"login": "maria@example.org", "code": code})
    assert r.status_code == 200, r.get_json()
    assert (row.status, row.attempts, row.payload_sealed) == (MessageStatus.SENT, 1, None)
    assert row.sent_at is not None and row.last_error is None


def test_no_code_or_text_is_left_in_the_database(app, client, by_email, inbox):
    _register(client, "olena@example.org", language="en")
    queued = _rows()[0]
    assert queued.status == MessageStatus.QUEUED and queued.payload_sealed
    assert b"verification code" not in queued.payload_sealed  # sealed even while queued
    deliver_due()
    code = _code_in(inbox.to("olena@example.org")[0])
    said = f"verification code is {code}"
    for path in _database_files(app):  # SQLite: the file itself, free pages and WAL included
        assert said.encode() not in path.read_bytes(), path
    for table in ("outbox_messages", "contact_codes", "audit_events"):
        rows = db().execute(text(f"SELECT * FROM {table}")).all()
        assert rows and not any(code in str(value) for row in rows for value in row
                                if isinstance(value, str | bytes)), table
    (row,) = _rows()
    assert row.payload_sealed is None and row.status == MessageStatus.SENT


def test_implicit_tls_on_465(app, client, configure, test_ca):
    inbox = Inbox()
    server = SmtpServer(test_ca, inbox, mode="smtps").start()
    try:
        configure(smtp_url=server.url, smtp_ca_file=str(test_ca.ca_file), mail_from=MAIL_FROM)
        _register(client, "smtps@example.org", language="ru")
        deliver_due()
        (mail,) = inbox.to("smtps@example.org")
        assert mail["Subject"] == SUBJECTS["verification_code"]["ru"]
    finally:
        server.stop()


def test_an_untrusted_certificate_gets_nothing(app, client, configure, smtp_server, inbox):
    configure(smtp_url=smtp_server.url, mail_from=MAIL_FROM)  # no KINPASS_SMTP_CA_FILE
    _register(client, "untrusted@example.org")
    deliver_due()
    assert inbox.messages == []
    (row,) = _rows()
    assert row.status == MessageStatus.QUEUED and "certificate" in row.last_error


def test_a_server_without_starttls_gets_nothing(app, client, configure, test_ca):
    inbox = Inbox()
    server = SmtpServer(test_ca, inbox, mode="plain").start()
    try:
        configure(smtp_url=server.url, smtp_ca_file=str(test_ca.ca_file), mail_from=MAIL_FROM)
        _register(client, "plain@example.org")
        deliver_due()
        assert inbox.messages == []
        (row,) = _rows()
        assert row.status == MessageStatus.QUEUED and "STARTTLS" in row.last_error
    finally:
        server.stop()


def test_wrong_credentials_keep_the_message_queued(app, client, configure, smtp_server,
                                                   test_ca, inbox):
    url = smtp_server.url.replace("mail-secret", "wrong")
    configure(smtp_url=url, smtp_ca_file=str(test_ca.ca_file), mail_from=MAIL_FROM)
    _register(client, "auth@example.org")
    deliver_due()
    assert inbox.messages == []
    (row,) = _rows()
    assert row.status == MessageStatus.QUEUED and "authentication" in row.last_error


def test_smtp_down_during_registration_delivers_once_it_is_back(app, client, by_email,
                                                                inbox, test_ca):
    by_email.stop()
    _register(client, "later@example.org")
    start = utcnow()
    assert deliver_due(start) == 1
    (row,) = _rows()
    assert row.status == MessageStatus.QUEUED and row.attempts == 1
    assert row.next_attempt_at - start <= timedelta(seconds=10)  # the first retry's bound
    assert deliver_due(start) == 0  # not due again yet
    restarted = SmtpServer(test_ca, inbox, port=by_email.port).start()
    try:
        assert deliver_due(start + timedelta(seconds=10)) == 1
        (mail,) = inbox.to("later@example.org")
        r = client.post("/v1/auth/verify", json={"login": "later@example.org",
                                                 "code": _code_in(mail)})
        assert r.status_code == 200
        (row,) = _rows()
        assert row.status == MessageStatus.SENT and row.attempts == 2
    finally:
        restarted.stop()
