"""The OpenAPI document is the inventory: every route the app serves is in it, and it is valid."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from schemas.base import In
from storage.domain_errors import problem_codes
from tests.support.assurance import BROWSER_PAGES, app_routes
from tests.support.cases import open_case
from tests.support.http import bearer


def _spec_paths(spec: dict) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in spec["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")}


def _app_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static",) or rule.endpoint.startswith(("api-docs.",
                                                                      *BROWSER_PAGES)):
            continue
        path = re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method))
    return routes


def test_spec_lists_every_route(app, client):
    spec = client.get("/openapi.json").get_json()
    assert _app_routes(app) == _spec_paths(spec) - {("/openapi.json", "GET")}


def test_spec_is_valid_openapi(client):
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_operation_documents_its_problems(client):
    spec = client.get("/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for status in ("400", "404", "500"):
                assert status in operation["responses"], (path, method, status)


# --- what a client generator relies on ---------------------------------------------------

OPERATION_METHODS = ("get", "post", "put", "patch", "delete")


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in OPERATION_METHODS:
                yield path, method, operation


def _validator(spec: dict, schema: dict) -> OAS30Validator:
    """A validator for one schema of the document, its references resolved in the document."""
    return OAS30Validator({"allOf": [schema], "components": spec["components"]})


def _examples(spec: dict):
    """(where, schema, example) for every example the document shows."""
    for path, method, operation in _operations(spec):
        bodies = [("request", operation.get("requestBody", {}))]
        bodies += [(status, response) for status, response in operation["responses"].items()
                   if "$ref" not in response]
        for where, body in bodies:
            for content_type, media in body.get("content", {}).items():
                values = ([media["example"]] if "example" in media else []) + [
                    named["value"] for named in media.get("examples", {}).values()]
                for value in values:
                    yield f"{method.upper()} {path} {where} {content_type}", media["schema"], value


def test_every_operation_has_a_summary_and_a_description(client):
    spec = client.get("/openapi.json").get_json()
    for path, method, operation in _operations(spec):
        if path == "/openapi.json":
            continue
        assert operation.get("summary", "").strip(), (method, path)
        assert operation.get("description", "").strip(), (method, path)
    summaries = [op["summary"] for path, _, op in _operations(spec) if path != "/openapi.json"]
    assert len(set(summaries)) == len(summaries)


def test_summaries_are_the_handlers_docstrings(app, client):
    """Generated, not hand-kept: the first line of each handler's docstring."""
    spec = client.get("/openapi.json").get_json()
    for route in app_routes(app):
        first_line = app.view_functions[route.endpoint].__doc__.strip().splitlines()[0]
        assert route.operation(spec)["summary"] == first_line, route


def test_every_json_body_has_an_example_and_the_examples_are_valid(client):
    spec = client.get("/openapi.json").get_json()
    for path, method, operation in _operations(spec):
        media = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if media:
            assert "example" in media or "examples" in media, (method, path)
    checked = 0
    for where, schema, example in _examples(spec):
        errors = [e.message for e in _validator(spec, schema).iter_errors(example)]
        assert not errors, (where, errors)
        checked += 1
    assert checked >= 25


def _schemas_with_examples(base: type) -> list[type]:
    found, pending = [], [base]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "EXAMPLE" in vars(cls) or "EXAMPLES" in vars(cls):
            found.append(cls)
    return found


def test_request_examples_pass_the_schemas_own_validation(app):
    """The rules the document cannot express (one script per name, a window that ends after
    it starts, fields by document kind) hold for every example as well."""
    schemas = _schemas_with_examples(In)
    assert len(schemas) >= 15
    with app.app_context():
        for schema in schemas:
            examples = [schema.EXAMPLE] if "EXAMPLE" in vars(schema) else list(
                schema.EXAMPLES.values())
            for example in examples:
                schema().load(example)


def test_idempotency_key_is_declared_exactly_where_it_is_honoured(app, client):
    spec = client.get("/openapi.json").get_json()
    idempotent = 0
    for route in app_routes(app):
        view = app.view_functions[route.endpoint]
        headers = {p["name"]: p for p in route.operation(spec).get("parameters", [])
                   if p["in"] == "header"}
        declared = "Idempotency-Key" in headers
        assert declared == getattr(view, "_kinpass_idempotent", False), route
        assert "Accept-Language" in headers, route
        if declared:
            assert headers["Idempotency-Key"]["schema"]["maxLength"] == 255
        idempotent += declared
    assert idempotent >= 8


def test_headers_are_declared_where_they_apply(client):
    spec = client.get("/openapi.json").get_json()
    components = spec["components"]
    assert components["responses"]["RateLimited"]["headers"]["Retry-After"] == {
        "$ref": "#/components/headers/Retry-After"}
    for path, method, operation in _operations(spec):
        if path == "/openapi.json":
            continue
        assert operation["responses"]["429"] == {"$ref": "#/components/responses/RateLimited"}
        for status, answer in operation["responses"].items():
            response = components["responses"][answer["$ref"].rsplit("/", 1)[1]] \
                if "$ref" in answer else answer
            assert "X-Request-Id" in response["headers"], (method, path, status)
    reasons = [p for p in spec["paths"]["/v1/admin/documents/{document_id}/content"]["get"][
        "parameters"] if p.get("name") == "X-Access-Reason"]
    assert reasons and reasons[0]["required"] is True
    for path in ("/v1/admin/prisoners", "/v1/admin/prisoners/{prisoner_id}"):
        names = {p.get("name") for p in spec["paths"][path]["get"]["parameters"]}
        assert "X-Access-Reason" in names


STATUS_LIKE = ("status", "result", "kind", "role", "outcome", "relationship", "decision",
               "content_type", "encryption", "language")


def test_status_fields_are_enums(client):
    spec = client.get("/openapi.json").get_json()
    seen = 0
    for name, schema in spec["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if field in STATUS_LIKE and name not in ("Problem",):
                assert "enum" in prop, (name, field)
                seen += 1
    assert seen >= 25


def test_problem_schema_names_every_code_and_extension_member(client):
    spec = client.get("/openapi.json").get_json()
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["properties"]["code"]["enum"]) == set(problem_codes())
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    assert {"errors", "missing", "reason", "checks"} <= set(problem["properties"])


EXTRA_KEY = re.compile(r"raise \w+\((?:[^()]*?, )?extra=\{\s*\"([a-z_]+)\"")


def test_every_extension_member_the_code_sends_is_in_the_problem_schema(client):
    """Extension members are passed as ``extra={...}`` to a domain error; each one the
    sources pass must be declared, or real error bodies would not validate."""
    spec = client.get("/openapi.json").get_json()
    declared = set(spec["components"]["schemas"]["Problem"]["properties"])
    root = Path(__file__).resolve().parents[2]
    sent = set()
    for package in ("api", "auth", "services", "storage"):
        for source in (root / package).rglob("*.py"):
            sent |= set(EXTRA_KEY.findall(source.read_text()))
    assert {"missing", "checks"} <= sent
    assert sent <= declared, sent - declared


def test_real_error_bodies_validate_against_the_problem_schema(client, register_relative):
    spec = client.get("/openapi.json").get_json()
    validator = _validator(spec, {"$ref": "#/components/schemas/Problem"})
    token = register_relative()[2]["access_token"]
    case = open_case(client, token)
    answers = [
        client.post(f"/v1/cases/{case['id']}/submit", headers=bearer(token)),
        client.post("/v1/cases", json={"relationship": "aunt", "soldier": {"surname": 1}},
                    headers=bearer(token)),
        client.post("/v1/cases", data=b"{not json", content_type="application/json",
                    headers=bearer(token)),
        client.get(f"/v1/cases/{uuid.uuid4()}", headers={**bearer(token),
                                                         "Accept-Language": "uk"}),
        client.delete("/v1/cases", headers=bearer(token)),
        client.get("/v1/me"),
        client.get("/v1/admin/cases", headers=bearer(token)),
        client.post("/v1/auth/login", json={"login": "nobody@example.org", "password": "x"}),
    ]
    codes = set()
    for response in answers:
        assert response.mimetype == "application/problem+json"
        body = response.get_json()
        errors = [e.message for e in validator.iter_errors(body)]
        assert not errors, (body, errors)
        assert response.headers["X-Request-Id"]
        codes.add(body["code"])
    assert codes == {"documents_missing", "validation_error", "malformed_json", "not_found",
                     "method_not_allowed", "unauthorized", "forbidden", "invalid_credentials"}
    assert answers[0].get_json()["missing"] == ["passport", "birth_certificate"]


# --- docs/api.md, the reference in words -------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
CODE_ROW = re.compile(r"^\| (\d{3}) \| `([a-z_]+)` \| (.+) \|$", re.M)


def test_the_error_table_in_docs_lists_every_code_with_its_status():
    text = (ROOT / "docs" / "api.md").read_text()
    rows = CODE_ROW.findall(text)
    documented: dict[str, set[int]] = {}
    for status, code, meaning in rows:
        assert meaning.strip(), code
        documented.setdefault(code, set()).add(int(status))
    assert documented == {code: set(statuses) for code, statuses in problem_codes().items()}


def test_the_extension_members_in_docs_are_the_problem_schemas(client):
    text = (ROOT / "docs" / "api.md").read_text()
    members = set(re.findall(r"^\| `([a-z_]+)` \| `", text, re.M))
    problem = client.get("/openapi.json").get_json()["components"]["schemas"]["Problem"]
    assert members == set(problem["properties"]) - set(problem["required"])


def test_the_readme_points_to_the_reference_and_nothing_outside():
    readme = (ROOT / "README.md").read_text()
    assert "(docs/api.md)" in readme
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = path.read_text()
        assert "../shared" not in text and "/work/" not in text, path
        for link in re.findall(r"\]\(([^)#]+)", text):
            if not link.startswith("http"):
                assert (path.parent / link).exists(), (path, link)
