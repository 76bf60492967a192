from __future__ import annotations

from marshmallow import fields

from api.blueprint import Blueprint, reads_only
from schemas.base import EnumValue, Out
from services.core.readiness import OK, check_readiness
from storage.domain_errors import DatabaseUnavailable, ServiceUnavailable, StorageUnavailable
from storage.vocabulary import Readiness

blp = Blueprint("public", __name__, description="Health and readiness")


FAILURES = {"database": DatabaseUnavailable, "keys": ServiceUnavailable,
            "storage": StorageUnavailable, "redis": ServiceUnavailable}


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

    The database, the KEK against the keys stored in it, the object store and Redis (when
    configured) answer; otherwise 503 with the failing check named in `checks`.
    """
    checks = check_readiness()
    failing = [name for name, state in checks.items() if state != OK]
    if failing:
        refusal = FAILURES.get(failing[0], ServiceUnavailable)
        raise refusal(extra={"checks": checks})
    return {"status": "ok", "checks": checks}
