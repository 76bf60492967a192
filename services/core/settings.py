"""Configuration: one `Settings` field per KINPASS_* environment variable.

A field's variable is KINPASS_ and the field's name in capitals; its annotation says how the
text is read and its default is the embedded one, so a new setting is one line (and one row in
the README's table). Overrides, such as the app factory's `config`, use the field names. A name
that is neither is a typo: an override is refused at once; a variable is refused in production
and warned about once otherwise.
"""
from __future__ import annotations

import difflib
import logging
import os
import types
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

PREFIX = "KINPASS_"
MIN_JWT_SECRET_BYTES = 32  # HS256: a key no shorter than the hash (RFC 7518 3.2)
# Read by `kinpass upload`'s options, the tests, the benchmarks and CI; never by the server.
OTHER_VARIABLES = frozenset({"KINPASS_TOKEN", "KINPASS_URL", "KINPASS_TEST_DATABASE_URL",
                             "KINPASS_BENCH_DATABASE_URL", "KINPASS_CI_DATABASE_URL",
                             "KINPASS_CI"})

log = logging.getLogger("kinpass.config")
_warned: set[str] = set()


DEFAULT_ISSUER = "https://kinpass.example"
REFUSAL = "refusing to start in production"


class ConfigError(RuntimeError):
    """A configuration the process refuses to start with: one line per problem."""

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def production_refusal(problems: list[str]) -> ConfigError:
    return ConfigError(*(f"{REFUSAL}: {problem}" for problem in problems))


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    data_dir: str = "./instance"
    database_url: str = ""  # empty: SQLite in the data dir
    storage_url: str = "file://"
    s3_endpoint_url: str | None = None
    redis_url: str | None = None
    notifier: str | None = None  # `log` in development, `none` in production
    max_upload_bytes: int = 20 * 1024 * 1024
    max_json_bytes: int = 256 * 1024
    issuer: str = DEFAULT_ISSUER
    bind: str = "127.0.0.1:8000"
    public_url: str | None = None  # the base URL clients use; else http://<bind>
    workers: int = 0  # 0: one per CPU
    threads: int = 8
    max_connections: int = 1000
    max_queued_requests: int = 64
    keepalive_seconds: int = 30
    header_timeout_seconds: int = 10
    body_timeout_seconds: int = 30
    kek: str | None = None
    kms_key_id: str | None = None
    kms_endpoint_url: str | None = None
    jwt_secret: str | None = None
    hmac_key: str | None = None  # else the shared one in the database, wrapped by the KEK
    retention_days: int = 180
    proxy_hops: int = 0
    metrics_token: str | None = None
    allow_local_storage: bool = False
    audit_checkpoint_events: int = 1000
    audit_checkpoint_minutes: int = 60
    smtp_url: str | None = None
    smtp_ca_file: str | None = None
    mail_from: str | None = None
    sms_webhook_url: str | None = None
    push_webhook_url: str | None = None
    webhook_secret: str | None = None
    audit_witness_url: str | None = None
    migration_database_url: str | None = None  # the schema's owner; else database_url
    revocation_max_age_minutes: int = 60  # offline verification: older lists are "stale"

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def base_url(self) -> str:
        """The URL clients reach this server at: links and upload URLs are built from it."""
        return (self.public_url or f"http://{self.bind}").rstrip("/")

    @property
    def message_copy(self) -> str:
        """Where the copy of every message goes (KINPASS_NOTIFIER, or its default)."""
        if self.notifier is not None:
            return self.notifier
        return "none" if self.production else "log"

    @classmethod
    def from_env(cls, overrides: Mapping[str, Any] | None = None,
                 environ: Mapping[str, str] | None = None) -> Settings:
        """The environment's KINPASS_* variables (os.environ unless given), then `overrides`."""
        environ = os.environ if environ is None else environ
        overrides = dict(overrides or {})
        for key, value in overrides.items():
            _check_override(key, value)
        values = {spec.name: _parse(spec, environ[spec.variable])
                  for spec in SPECS.values()
                  if spec.name not in overrides and environ.get(spec.variable, "") != ""}
        settings = cls(**values, **overrides)
        if not settings.database_url:
            db_path = Path(settings.data_dir).resolve() / "kinpass.db"
            settings = replace(settings, database_url=f"sqlite:///{db_path}")
        _report_unknown_variables(environ, settings.production)
        return settings

    def check_production(self) -> None:
        """Production refuses the conveniences that only make sense on a laptop."""
        if not self.production:
            return
        problems = []
        if self.database_url.startswith("sqlite"):
            problems.append("KINPASS_DATABASE_URL must point at PostgreSQL")
        if self.storage_url.startswith("file:") and not self.allow_local_storage:
            problems.append("KINPASS_STORAGE_URL is file:// (local disk): use s3://bucket, "
                            "or set KINPASS_ALLOW_LOCAL_STORAGE=1 for a disk you back up")
        if not (self.kek or self.kms_key_id):
            problems.append("KINPASS_KEK or KINPASS_KMS_KEY_ID must be set")
        if not self.jwt_secret:
            problems.append("KINPASS_JWT_SECRET must be set")
        elif len(self.jwt_secret.encode()) < MIN_JWT_SECRET_BYTES:
            problems.append(f"KINPASS_JWT_SECRET must hold at least {MIN_JWT_SECRET_BYTES} bytes")
        if self.issuer == DEFAULT_ISSUER:
            problems.append("KINPASS_ISSUER is the example default: set this deployment's URL")
        if not self.metrics_token:
            problems.append("KINPASS_METRICS_TOKEN must be set (/metrics is open without it)")
        problems += message_problems(self)
        if self.message_copy == "log":
            problems.append("KINPASS_NOTIFIER=log writes codes and contacts to the log: "
                            "use none or file:/path.jsonl")
        if self.audit_witness_url and not self.webhook_secret:
            problems.append("KINPASS_WEBHOOK_SECRET must be set to sign what the audit witness "
                            "receives")
        if problems:
            raise production_refusal(problems)

    def check_messages(self) -> None:
        """Delivery settings that cannot work refuse the start in every environment."""
        problems = message_problems(self)
        if problems:
            raise ConfigError(*problems)


def message_problems(settings: Settings) -> list[str]:
    problems = []
    if settings.smtp_url and not settings.smtp_url.startswith(("smtp://", "smtps://")):
        problems.append("KINPASS_SMTP_URL must be smtp://user:pass@host:587 (STARTTLS) or "
                        "smtps://user:pass@host:465")
    if settings.smtp_url and not settings.mail_from:
        problems.append("KINPASS_MAIL_FROM must be set with KINPASS_SMTP_URL")
    if settings.smtp_ca_file and not Path(settings.smtp_ca_file).is_file():
        problems.append("KINPASS_SMTP_CA_FILE must name a readable PEM file")
    for name, url in (("KINPASS_SMS_WEBHOOK_URL", settings.sms_webhook_url),
                      ("KINPASS_PUSH_WEBHOOK_URL", settings.push_webhook_url)):
        if url and not url.startswith(("https://", "http://")):
            problems.append(f"{name} must be an http(s) URL")
        if url and settings.production and not url.startswith("https://"):
            problems.append(f"{name} must be https in production")
    if (settings.sms_webhook_url or settings.push_webhook_url) and not settings.webhook_secret:
        problems.append("KINPASS_WEBHOOK_SECRET must be set with a webhook URL")
    if settings.notifier and settings.notifier not in {"none", "log"} \
            and not settings.notifier.startswith("file:"):
        problems.append("KINPASS_NOTIFIER must be log, none or file:/path.jsonl")
    return problems


@dataclass(frozen=True)
class FieldSpec:
    """How one setting is read: its field, its variable, the type of its value."""
    name: str
    variable: str
    kind: type
    optional: bool


def _spec(name: str, hint: Any) -> FieldSpec:
    kinds = set(hint.__args__) if isinstance(hint, types.UnionType) else {hint}
    optional = type(None) in kinds
    (kind,) = kinds - {type(None)}
    return FieldSpec(name, PREFIX + name.upper(), kind, optional)


_HINTS = get_type_hints(Settings)
SPECS: dict[str, FieldSpec] = {f.name: _spec(f.name, _HINTS[f.name]) for f in fields(Settings)}
VARIABLES = frozenset(spec.variable for spec in SPECS.values())


def _closest(name: str, known: frozenset[str] | dict[str, Any]) -> str:
    return difflib.get_close_matches(name, sorted(known), n=1, cutoff=0)[0]


TRUE, FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})


def _parse(spec: FieldSpec, text: str) -> Any:
    if spec.kind is bool:
        if text.lower() in TRUE | FALSE:
            return text.lower() in TRUE
        raise ConfigError(f"{spec.variable} must be 1 or 0 (true or false), not {text!r}")
    if spec.kind is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{spec.variable} must be a whole number, not {text!r}") from None
    return text


def _check_override(key: str, value: Any) -> None:
    spec = SPECS.get(key)
    if spec is None:
        raise ConfigError(f"unknown setting {key!r} (did you mean {_closest(key, SPECS)!r}?)")
    if value is None and spec.optional:
        return
    if not isinstance(value, spec.kind) or (isinstance(value, bool) and spec.kind is not bool):
        raise ConfigError(f"setting {key!r} must be {spec.kind.__name__}, not {value!r}")


def _report_unknown_variables(environ: Mapping[str, str], production: bool) -> None:
    known = VARIABLES | OTHER_VARIABLES
    problems = [f"unknown variable {name} (did you mean {_closest(name, known)}?)"
                for name in sorted(environ) if name.startswith(PREFIX) and name not in known]
    if problems and production:
        raise production_refusal(problems)
    for problem in problems:
        if problem not in _warned:
            _warned.add(problem)
            log.warning(problem)
