"""The composition root: the collaborators every use case reaches through the runtime, built
from the settings once per process, for the web app, the command line and the worker alike."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from auth.ratelimit import RedisLimiter, SqlLimiter
from services.audit.events import write_pending
from services.core import runtime, unit_of_work
from services.core.secrets import (
    AUTHORIZATION_KEY,
    HMAC_KEY,
    MESSAGE_KEY,
    FixedSecret,
    SharedSecret,
    decode_hmac_key,
)
from services.core.settings import Settings
from services.messages.outbox import hand_on, write_messages
from storage.db import bind_engine, make_engine, session as db
from storage.hpke_keys import DatabaseHpkeKeyring
from storage.keys import open_key_provider
from storage.notifier import open_notifier
from storage.object_store import open_object_store


def build_runtime(settings: Settings) -> tuple[Engine, runtime.Runtime]:
    """Everything a use case needs, for the web app and the command line alike."""
    settings.check_messages()
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = make_engine(settings.database_url)
    bind_engine(engine)
    keys = open_key_provider(str(data_dir), settings.kek, settings.kms_key_id,
                             settings.kms_endpoint_url)
    hmac_key = (FixedSecret(decode_hmac_key(settings.hmac_key)) if settings.hmac_key
                else SharedSecret(HMAC_KEY, keys))
    rt = runtime.Runtime(
        settings=settings, keys=keys,
        objects=open_object_store(settings.storage_url, str(data_dir), settings.s3_endpoint_url),
        notifier=open_notifier(settings.message_copy, development=settings.development),
        limiter=RedisLimiter(settings.redis_url) if settings.redis_url else SqlLimiter(),
        hmac_key=hmac_key, hpke_keyring=DatabaseHpkeKeyring(keys, db),
        message_key=SharedSecret(MESSAGE_KEY, keys),
        authorization_key=SharedSecret(AUTHORIZATION_KEY, keys))
    runtime.install(rt)
    unit_of_work.install_writers(journal=write_pending, mailbox=write_messages, courier=hand_on)
    return engine, rt
