"""Email over SMTP with the standard library's smtplib: STARTTLS required on smtp:// (587),
implicit TLS on smtps:// (465), the server's certificate always checked (against the system's
CAs, or KINPASS_SMTP_CA_FILE), AUTH when the URL has a user. One connection per message: the
sender is one thread sending a few messages a second, and a fresh connection cannot inherit a
broken one's state."""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from storage.delivery_errors import DeferredError, RefusedError

TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Mail:
    message_id: str  # the outbox id: the Message-ID's left part
    to: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class SmtpServer:
    scheme: str
    host: str
    port: int
    user: str | None
    password: str | None
    ca_file: str | None
    mail_from: str

    @classmethod
    def from_url(cls, url: str, *, ca_file: str | None, mail_from: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("KINPASS_SMTP_URL must be smtp://user:pass@host:587 or "
                             "smtps://user:pass@host:465")
        default_port = 465 if parts.scheme == "smtps" else 587
        return cls(scheme=parts.scheme, host=parts.hostname, port=parts.port or default_port,
                   user=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   ca_file=ca_file, mail_from=mail_from)

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def _connect(self) -> smtplib.SMTP:
        if self.scheme == "smtps":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_SECONDS,
                                    context=self._context())
        client = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS)
        client.ehlo()
        if not client.has_extn("starttls"):
            client.close()
            raise DeferredError("the SMTP server does not offer STARTTLS, which is required")
        client.starttls(context=self._context())
        client.ehlo()
        return client

    def compose(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(usegmt=True)
        domain = self.mail_from.rsplit("@", 1)[-1].strip(" >") or "kinpass"
        message["Message-ID"] = f"<{mail.message_id}@{domain}>"  # a resend is the same mail
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        return message

    def send(self, mail: Mail) -> None:
        try:
            client = self._connect()
            try:
                if self.user:
                    client.login(self.user, self.password or "")
                client.send_message(self.compose(mail))
            finally:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise RefusedError(f"the SMTP server refused the recipient ({codes[0]})") from None
            raise DeferredError(f"the SMTP server deferred the recipient ({codes[0]})") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeferredError(f"SMTP authentication failed ({exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500 and exc.smtp_code not in (530, 535, 554):
                raise RefusedError(
                    f"the SMTP server refused the message ({exc.smtp_code})") from None
            raise DeferredError(f"the SMTP server answered {exc.smtp_code}") from None
        except ssl.SSLCertVerificationError as exc:
            raise DeferredError(f"the SMTP server's certificate was not trusted: "
                           f"{exc.verify_message}") from None
        except (TimeoutError, smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise DeferredError(f"SMTP server unreachable ({type(exc).__name__})") from None
