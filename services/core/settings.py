"""Configuration: KINPASS_* environment variables over embedded defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_MAX_UPLOAD = 20 * 1024 * 1024
MIN_JWT_SECRET_BYTES = 32  # HS256: a key no shorter than the hash (RFC 7518 3.2)


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    data_dir: str = "./instance"
    database_url: str = ""
    storage_url: str = "file://"
    s3_endpoint_url: str | None = None
    redis_url: str | None = None
    notifier: str = "log"
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD
    max_json_bytes: int = 256 * 1024
    issuer: str = "https://kinpass.example"
    bind: str = "127.0.0.1:8000"
    kek: str | None = None
    kms_key_id: str | None = None
    jwt_secret: str | None = None
    hmac_key: str | None = None  # else the shared one in the database, wrapped by the KEK
    retention_days: int = 180
    proxy_hops: int = 0
    metrics_token: str | None = None
    audit_checkpoint_events: int = 1000
    audit_checkpoint_minutes: int = 60
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, overrides: dict[str, Any] | None = None) -> Settings:
        data_dir = _env("KINPASS_DATA_DIR", "./instance")
        values: dict[str, Any] = {
            "env": _env("KINPASS_ENV", "development"),
            "data_dir": data_dir,
            "database_url": _env("KINPASS_DATABASE_URL", ""),
            "storage_url": _env("KINPASS_STORAGE_URL", "file://"),
            "s3_endpoint_url": _env("KINPASS_S3_ENDPOINT_URL"),
            "redis_url": _env("KINPASS_REDIS_URL"),
            "notifier": _env("KINPASS_NOTIFIER", "log"),
            "max_upload_bytes": int(_env("KINPASS_MAX_UPLOAD_BYTES", str(DEFAULT_MAX_UPLOAD))),
            "issuer": _env("KINPASS_ISSUER", "https://kinpass.example"),
            "bind": _env("KINPASS_BIND", "127.0.0.1:8000"),
            "kek": _env("KINPASS_KEK"),
            "kms_key_id": _env("KINPASS_KMS_KEY_ID"),
            "jwt_secret": _env("KINPASS_JWT_SECRET"),
            "hmac_key": _env("KINPASS_HMAC_KEY"),
            "retention_days": int(_env("KINPASS_RETENTION_DAYS", "180")),
            "proxy_hops": int(_env("KINPASS_PROXY_HOPS", "0")),
            "metrics_token": _env("KINPASS_METRICS_TOKEN"),
            "audit_checkpoint_events": int(_env("KINPASS_AUDIT_CHECKPOINT_EVENTS", "1000")),
            "audit_checkpoint_minutes": int(_env("KINPASS_AUDIT_CHECKPOINT_MINUTES", "60")),
        }
        known = {f.name for f in fields(cls)}
        for key, value in (overrides or {}).items():
            if key in known:
                values[key] = value
            else:
                values.setdefault("extra", {})[key] = value
        settings = cls(**values)
        if not settings.database_url:
            db_path = Path(settings.data_dir).resolve() / "kinpass.db"
            settings = replace(settings, database_url=f"sqlite:///{db_path}")
        return settings

    def check_production(self) -> None:
        """Production refuses the conveniences that only make sense on a laptop."""
        if not self.production:
            return
        problems = []
        if self.database_url.startswith("sqlite"):
            problems.append("KINPASS_DATABASE_URL must point at PostgreSQL")
        if not (self.kek or self.kms_key_id):
            problems.append("KINPASS_KEK or KINPASS_KMS_KEY_ID must be set")
        if not self.jwt_secret:
            problems.append("KINPASS_JWT_SECRET must be set")
        elif len(self.jwt_secret.encode()) < MIN_JWT_SECRET_BYTES:
            problems.append(f"KINPASS_JWT_SECRET must hold at least {MIN_JWT_SECRET_BYTES} bytes")
        if problems:
            raise RuntimeError("refusing to start in production: " + "; ".join(problems))
