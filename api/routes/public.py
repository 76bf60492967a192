from __future__ import annotations

from flask import current_app
from marshmallow import fields
from sqlalchemy import text

from api.blueprint import Blueprint, reads_only
from schemas.base import EnumValue, Out
from storage.db import session as db
from storage.domain_errors import DatabaseUnavailable, KinPassError, StorageUnavailable
from storage.vocabulary import Readiness

blp = Blueprint("public", __name__, description="Health and readiness")


class HealthOut(Out):
    status = fields.String(required=True, metadata={"enum": ["ok"]})
    checks = fields.Dict(keys=fields.String(), values=EnumValue(Readiness))


@blp.route("/healthz", methods=["GET"])
@reads_only
@blp.response(200, HealthOut)
def healthz():
    """Liveness.

    The process is up.
    """
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@reads_only
@blp.response(200, HealthOut)
@blp.alt_response(503, schema=HealthOut, description="A dependency is failing")
def readyz():
    """Readiness.

    The database and the object store answer; otherwise 503 with the failing check named
    in `checks`.
    """
    checks = {"database": "ok", "storage": "ok"}
    try:
        db().execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means not ready
        checks["database"] = "unavailable"
        db.remove()
    try:
        current_app.extensions["kinpass"].objects.check()
    except (StorageUnavailable, KinPassError, OSError):
        checks["storage"] = "unavailable"
    if "unavailable" in checks.values():
        error = (DatabaseUnavailable if checks["database"] != "ok" else StorageUnavailable)
        raise error(extra={"checks": checks})
    return {"status": "ok", "checks": checks}
