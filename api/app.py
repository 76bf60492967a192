"""The application factory."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, g
from flask_smorest import Api
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from werkzeug.middleware.proxy_fix import ProxyFix

from api.errors import register_error_handlers
from api.http import configure_logging, init_http
from api.metrics import blp as metrics_blp, init_metrics
from api.openapi import DESCRIPTION, HouseRules
from api.routes import ROUTES
from api.web import init_console
from api.web.checkpoint import files as checkpoint_files, session as checkpoint_session
from auth.tokens import init_tokens
from schemas.base import ProblemOut
from services.bootstrap import build_runtime
from services.core import runtime, unit_of_work
from services.core.settings import Settings
from storage.db import may_retry, session as db, start_attempt
from storage.keys import load_or_create_secret
from storage.object_store import ObjectStore

log = logging.getLogger("kinpass.app")


@dataclass
class Extension:
    settings: Settings
    engine: Engine
    objects: ObjectStore
    runtime: runtime.Runtime


class KinPassApi(Api):
    ERROR_SCHEMA = ProblemOut  # flask-smorest's own error answers are problems too


def _jwt_secret(settings: Settings) -> bytes:
    if settings.jwt_secret:
        return settings.jwt_secret.encode()
    return load_or_create_secret(Path(settings.data_dir) / "session.key", 64)


class KinPassFlask(Flask):
    def dispatch_request(self) -> Any:
        """The view, run once more when its first statement met a dead connection: a
        database restart costs the request that found it out nothing but the wait."""
        try:
            return super().dispatch_request()
        except DBAPIError as exc:
            if not may_retry(exc):
                raise
            log.warning("database connection lost; retrying the request once",
                        extra={"request_id": g.get("request_id")})
            unit_of_work.rollback()
            db.remove()
            start_attempt()
            return super().dispatch_request()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The app, configured by the environment and then by `config` (Settings field names)."""
    configure_logging()
    settings = Settings.from_env(config)
    settings.check_production()
    app = KinPassFlask("kinpass")
    app.config.update(
        API_TITLE="KinPass", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=None, MAX_FORM_MEMORY_SIZE=64 * 1024, MAX_FORM_PARTS=100,
        JSON_SORT_KEYS=False,
    )
    engine, rt = build_runtime(settings)
    app.extensions["kinpass"] = Extension(settings, engine, rt.objects, rt)
    init_tokens(app, _jwt_secret(settings), settings.issuer)
    init_http(app)
    api = KinPassApi(app, spec_kwargs={"info": {"description": DESCRIPTION},
                                "extra_plugins": [HouseRules()]})
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    api.spec.components.security_scheme("metricsToken", {"type": "http", "scheme": "bearer"})
    for blueprint in [*ROUTES, checkpoint_files.blp, metrics_blp]:
        api.register_blueprint(blueprint)
    api.spec.components.schemas.pop("PaginationMetadata", None)  # lists page by cursor
    init_console(app)
    app.register_blueprint(checkpoint_session.blp)
    init_metrics(app)
    register_error_handlers(app)
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops,  # type: ignore
                                x_proto=settings.proxy_hops, x_host=settings.proxy_hops)
    return app
