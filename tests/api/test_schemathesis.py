"""Property-based conformance: every operation of the served /openapi.json, every role.

Schemathesis generates valid and invalid requests from the document the server serves (one
test per operation, so a new route is covered the moment it is registered). Each request is
sent anonymously, as every role the route admits and as one role it does not, and every
answer goes through the response-conformance checks named in CHECKS: no 5xx, and nothing
the document does not describe (status code, content type, declared headers, body shape
against its schema, the Problem schema for every error). The full role-by-route refusal matrix is in test_owasp.py (API5).
"""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.assurance import ROLES, Callers, app_routes, served_document

EXAMPLES = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance,
          positive_data_acceptance, negative_data_rejection, missing_required_header]
BASE_URL = "http://localhost"


# A schema-valid request can still break a business rule the document cannot express (a
# wrong verification code, a window that ends before it starts, a forged opaque cursor, a
# token that names no authorization): it must then be refused with a problem that the
# status, content-type and schema checks hold to the document; a 5xx, 413 or 415 still fails.
# An oversized invalid body is rightly refused with 413 before anything else is looked at,
# and a missing X-Access-Reason is its own 400 (access_reason_required). tus answers a missing
# or other Tus-Resumable with 412 (unsupported_version), as tus 1.0.0 says.
CONFIG = schemathesis.Config.from_dict({"checks": {
    "positive_data_acceptance": {
        "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "410", "422", "429"]},
    "negative_data_rejection": {
        "expected-statuses": ["400", "401", "403", "404", "405", "409", "412", "413", "415",
                              "422", "429"]},
    "missing_required_header": {"expected-statuses": ["400", "401", "403", "404", "412"]},
}})


@schemathesis.serializer("application/pdf", "application/vnd.kinpass.sealed",
                         "application/offset+octet-stream")
def _raw_bytes(ctx, value) -> bytes:
    """Upload bodies the generator draws for the non-image types, sent as they are."""
    return value if isinstance(value, bytes) else str(value).encode()


schema = schemathesis.openapi.from_dict(served_document(), config=CONFIG)
schema.config.update(base_url=BASE_URL)


@pytest.fixture
def callers(register_relative, make_staff) -> Callers:
    return Callers(register_relative, make_staff)


@pytest.fixture
def admitted(app) -> dict[tuple[str, str], tuple[str, ...]]:
    """(OpenAPI path, method) → the roles the route admits (none for public routes)."""
    result = {}
    for route in app_routes(app):
        path = re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", route.rule)
        result[(path, route.method)] = tuple(r for r in ROLES if r in (route.roles or ()))
    return result


def _callers_for(roles: tuple[str, ...]) -> list[str | None]:
    """Anonymous, every admitted role, and the first role that is refused."""
    if not roles:
        return [None, "relative"]
    refused = [role for role in ROLES if role not in roles][:1]
    return [None, *roles, *refused]


def test_the_served_document_is_the_one_tested(client):
    assert client.get("/openapi.json").get_json() == schema.raw_schema


OPERATIONS = [(path, method) for path, item in schema.raw_schema["paths"].items()
              for method in item if method in ("get", "post", "put", "patch", "delete")]


@pytest.mark.parametrize("path,method", OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_operation_conforms_for_every_role(path, method, app, callers, admitted):
    """Positive and negative examples, one hypothesis run per operation (xdist-safe: plain
    pytest parametrization, identical on every worker)."""
    operation = schema[path][method]
    operation.app = operation.schema.app = app
    roles = admitted[(path, method.upper())]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    def conforms(case) -> None:
        for role in _callers_for(roles):
            case.call_and_validate(base_url=BASE_URL, headers=callers.headers(role),
                                   checks=CHECKS)

    conforms()


@pytest.mark.parametrize("body,mimetype,header", [
    (b'{"status": "fine"}', "application/json", None),  # not in the status enum
    (b'{"status": "ok", "extra": 1}', "application/json", None),  # a member not declared
    (b'{"status": "ok"}', "text/plain", None),  # another content type
    (b'{"status": "ok"}', "application/json", "X-Request-Id"),  # a declared header missing
    (b'{"code": "not_found", "status": 404}', "application/problem+json", None),
])
def test_the_checks_catch_an_answer_the_document_does_not_describe(app, body, mimetype, header):
    """The conformance checks are live: a 200 of /healthz bent one way fails them."""
    operation = schema["/healthz"]["GET"]
    operation.app = operation.schema.app = app
    case = operation.Case()
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    case.validate_response(response, checks=CHECKS)  # the real answer conforms
    response.set_data(body)
    response.mimetype = mimetype
    if header:
        del response.headers[header]
    if mimetype == "application/problem+json":
        response.status_code = 404
    with pytest.raises(FailureGroup):
        case.validate_response(response, checks=CHECKS)
