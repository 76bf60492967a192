"""Messages: sustained delivery from the outbox, and what the outbox adds to a registration.

    .venv/bin/python -m bench.messages [--messages 300] [--registrations 300]
    KINPASS_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/kinpass_bench_messages .venv/bin/python -m bench.messages

Delivery: N messages queued and committed through the unit of work, then one sender
(api.sender.deliver_due: claim, unseal, send, record) drains them to a local SMTP server
(aiosmtpd, STARTTLS on a test CA, AUTH) and to a local webhook receiver, each in a process
of its own. Baselines in the
same run: bare smtplib sending the same N messages the same way (a connection, STARTTLS and
AUTH per message), and bare http.client POSTing the same signed bodies. Registration:
`POST /v1/auth/register` through the test client with the outbox writing its rows, next to
the same requests with a mailbox that writes nothing; alternating rounds, p50 of each.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import logging
import multiprocessing
import smtplib
import ssl
import statistics
import tempfile
import threading
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import text

from api.app import create_app
from api.sender import deliver_due
from bench.database import bench_database
from services.audit.events import write_pending
from services.core import unit_of_work
from services.messages.outbox import hand_on, notify, write_messages
from storage.db import session as db
from storage.migrate import upgrade
from tests.support.smtp import PASSWORD, USER, Inbox, SmtpServer, free_port
from tests.support.tls import TestCA, make_ca
from tests.support.webhooks import SECRET, signature_ok

MAIL_FROM = "KinPass <no-reply@kinpass.example>"
ROUNDS = 3  # alternating, outbox then bare; the median round of each is reported


def _smtp_process(ca: TestCA, port: int, count: Synchronized, ready: Event) -> None:
    inbox = _CountingInbox(count)
    SmtpServer(ca, inbox, port=port).start()
    ready.set()
    threading.Event().wait()


def _hook_process(port: int, count: Synchronized, ready: Event) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return None

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            ok = signature_ok(self.headers.get("KinPass-Signature", ""), body, SECRET)
            with count.get_lock():
                count.value += 1 if ok else 0
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    ready.set()
    server.serve_forever()


class _CountingInbox(Inbox):
    def __init__(self, count: Synchronized) -> None:
        super().__init__()
        self.count = count

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK"


def _start(target, *args) -> tuple[multiprocessing.Process, Synchronized]:
    count, ready = multiprocessing.Value("i", 0), multiprocessing.Event()
    process = multiprocessing.Process(target=target, args=(*args, count, ready), daemon=True)
    process.start()
    assert ready.wait(30)
    return process, count


def _queue(count: int, contact: str) -> None:
    for n in range(count):
        notify(contact.format(n=n), "case_approved", "uk", ref=f"R{n:05d}")
    unit_of_work.commit()
    db.remove()


def _drain() -> float:
    began = time.perf_counter()
    while deliver_due():
        pass
    return time.perf_counter() - began


def _bare_smtp(count: int, port: int, ca_file: str) -> float:
    context = ssl.create_default_context(cafile=ca_file)
    began = time.perf_counter()
    for n in range(count):
        message = EmailMessage()
        message["From"], message["To"] = MAIL_FROM, f"bare{n}@example.org"
        message["Subject"], message["Date"] = "Заявку KinPass схвалено", formatdate(usegmt=True)
        message["Message-ID"] = f"<{uuid.uuid4()}@kinpass.example>"
        message.set_content("Вашу заявку KinPass R00001 схвалено.")
        message.add_alternative("<p>Вашу заявку KinPass R00001 схвалено.</p>", subtype="html")
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.starttls(context=context)
            client.login(USER, PASSWORD)
            client.send_message(message)
    return time.perf_counter() - began


def _bare_webhook(count: int, url: str) -> float:
    parts = urlsplit(url)
    began = time.perf_counter()
    for n in range(count):
        body = json.dumps({"id": str(uuid.uuid4()), "channel": "sms", "to": f"+38044{n:07d}",
                           "template": "case_approved", "language": "uk",
                           "text": "Вашу заявку KinPass R00001 схвалено.",
                           "created_at": "2026-01-01T00:00:00Z"}, ensure_ascii=False).encode()
        at = int(time.time())
        digest = hmac.new(SECRET.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request("POST", parts.path, body=body, headers={
            "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4()),
            "KinPass-Signature": f"t={at},v1={digest}"})
        connection.getresponse().read()
        connection.close()
    return time.perf_counter() - began


def _register(client, n: int) -> float:
    began = time.perf_counter()
    r = client.post("/v1/auth/register", json={
        "email": f"bench{n}@example.org", "password": "Kyiv-Reunion-2026",
        "full_name": "Марія Іваненко", "language": "uk"},
        environ_base={"REMOTE_ADDR": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"})
    assert r.status_code == 202, r.get_json()
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--registrations", type=int, default=300)
    args = parser.parse_args()
    for name in ("kinpass.access", "kinpass.sender", "mail.log"):
        logging.getLogger(name).setLevel(logging.WARNING)
    data_dir = tempfile.mkdtemp(prefix="kinpass-bench-messages-")
    ca = make_ca(Path(data_dir) / "tls")
    smtp_port, hook_port = free_port(), free_port()
    hook_url = f"http://127.0.0.1:{hook_port}/hook"
    smtp_server, mails = _start(_smtp_process, ca, smtp_port)
    hook_server, posts = _start(_hook_process, hook_port)
    url = bench_database(data_dir)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app({"data_dir": data_dir, "database_url": url, "notifier": "none",
                      "smtp_url": SmtpServer(ca, Inbox(), port=smtp_port).url,
                      "smtp_ca_file": str(ca.ca_file),
                      "mail_from": MAIL_FROM, "sms_webhook_url": hook_url,
                      "webhook_secret": SECRET})
    upgrade(app.extensions["kinpass"].engine)
    n = args.messages
    try:
        rounds: dict[str, list[float]] = {"mail": [], "bare_mail": [], "hook": [],
                                          "bare_hook": []}
        for _ in range(ROUNDS):
            _queue(n, "outbox{n}@example.org")
            rounds["mail"].append(_drain())
            rounds["bare_mail"].append(_bare_smtp(n, smtp_port, str(ca.ca_file)))
            _queue(n, "+38050{n:07d}")
            rounds["hook"].append(_drain())
            rounds["bare_hook"].append(_bare_webhook(n, hook_url))
        assert mails.value == 2 * n * ROUNDS and posts.value == 2 * n * ROUNDS
        outbox_mail, bare_mail, outbox_hook, bare_hook = (
            statistics.median(rounds[key]) for key in ("mail", "bare_mail", "hook", "bare_hook"))

        client = app.test_client()
        persisted, skipped = [], []
        nothing = lambda session, messages: None  # noqa: E731 - the baseline's mailbox
        for round_ in range(args.registrations):
            unit_of_work.install_writers(journal=write_pending, mailbox=write_messages,
                                         courier=lambda messages: None)
            persisted.append(_register(client, 2 * round_))
            unit_of_work.install_writers(journal=write_pending, mailbox=nothing,
                                         courier=lambda messages: None)
            skipped.append(_register(client, 2 * round_ + 1))
        unit_of_work.install_writers(journal=write_pending, mailbox=write_messages,
                                     courier=hand_on)
        with app.extensions["kinpass"].engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*) FROM outbox_messages")).scalar()
    finally:
        smtp_server.terminate()
        hook_server.terminate()
    dialect = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"database: {dialect}; {n} messages per channel per round, median of {ROUNDS} "
          f"rounds; {args.registrations} registrations each way")
    print(f"email, outbox → SMTP      {n / outbox_mail:8.1f} msg/s")
    print(f"email, bare smtplib       {n / bare_mail:8.1f} msg/s   ratio "
          f"{bare_mail / outbox_mail:.2f} (target ≥ 0.5)")
    print(f"webhook, outbox → HTTP    {n / outbox_hook:8.1f} msg/s")
    print(f"webhook, bare http.client {n / bare_hook:8.1f} msg/s   ratio "
          f"{bare_hook / outbox_hook:.2f} (target ≥ 0.5)")
    p50_with, p50_without = statistics.median(persisted), statistics.median(skipped)
    print(f"registration p50 with the outbox {p50_with:.2f} ms, without {p50_without:.2f} ms:"
          f" +{p50_with - p50_without:.2f} ms (target < 5 ms); outbox rows {rows}")


if __name__ == "__main__":
    main()
