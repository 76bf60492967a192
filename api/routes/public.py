from __future__ import annotations

from marshmallow import fields

from api.blueprint import Blueprint, reads_only
from schemas.base import Out
from services.core.readiness import OK, check_readiness
from storage.domain_errors import DatabaseUnavailable, ServiceUnavailable, StorageUnavailable

blp = Blueprint("public", __name__, description="Health and readiness")


FAILURES = {"database": DatabaseUnavailable, "keys": ServiceUnavailable,
            "storage": StorageUnavailable, "redis": ServiceUnavailable}


class HealthOut(Out):
    status = fields.String()
    checks = fields.Dict(keys=fields.String(), values=fields.String())


@blp.route("/healthz", methods=["GET"])
@reads_only
@blp.response(200, HealthOut)
def healthz():
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@reads_only
@blp.response(200, HealthOut)
@blp.alt_response(503, schema=HealthOut, description="A dependency is failing")
def readyz():
    """Readiness: the database, the KEK against its keys, the object store, Redis."""
    checks = check_readiness()
    failing = [name for name, state in checks.items() if state != OK]
    if failing:
        raise FAILURES.get(failing[0], ServiceUnavailable)(extra={"checks": checks})
    return {"status": "ok", "checks": checks}
