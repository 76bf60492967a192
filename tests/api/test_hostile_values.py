"""Values that are well-formed on the wire and hostile in what they mean: lone surrogates,
forged cursors, digits of other scripts, tokens signed right with claims of the wrong type,
header text in UTF-8, names with control characters, invented HTTP methods, a lying Host
header and a flood of anonymous refusals. Each is a 4xx problem with a stable code (never a
500), and nothing is stored that should not be."""
from __future__ import annotations

import base64
import hmac
import http.client
import json
import time
import uuid
from urllib.parse import quote, urlsplit

import jwt as pyjwt
import pyotp
import pytest
from sqlalchemy import select

from api.app import create_app
from services.audit.refusals import ANONYMOUS_WINDOW
from storage.db import session as db
from storage.models import AuditEvent
from tests.support.accounts import PASSWORD, create_staff
from tests.support.assurance import (
    Callers,
    assert_problem,
    collected_routes,
    served_document,
    snapshot,
)
from tests.support.documents import (
    CASE,
    live_server,
    open_case,
    settings_changed,
)
from tests.support.http import bearer

ROUTES = collected_routes()
DOCUMENT = served_document()
LIST_ROUTES = [r for r in ROUTES if not r.has_ids and r.method == "GET" and any(
    p["name"] == "cursor" for p in r.operation(DOCUMENT).get("parameters", []))]
LONE = "\ud800"
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
REASON = "Проверка личности заявителя"


def _raw_json(body: dict) -> bytes:
    """``body`` as JSON with every non-ASCII character escaped (so a lone surrogate is the
    six characters ``\\ud800``, as a hostile client sends it)."""
    return json.dumps(body, ensure_ascii=True).encode()


def _cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.fixture
def callers(register_relative, make_staff) -> Callers:
    return Callers(register_relative, make_staff)


@pytest.fixture
def officer(make_staff) -> dict:
    return bearer(make_staff("officer")["access_token"])


# --- lone surrogates ------------------------------------------------------------------

SURROGATE_BODIES = [
    ("/v1/auth/register", {"email": "m@example.org", "password": PASSWORD + LONE,
                           "full_name": "Мария"}),
    ("/v1/auth/register", {"email": "m@example.org", "password": PASSWORD,
                           "full_name": "Мария" + LONE}),
    ("/v1/auth/register", {"email": f"m{LONE}@example.org", "password": PASSWORD,
                           "full_name": "Мария"}),
    ("/v1/auth/login", {"login": f"m{LONE}@example.org", "password": PASSWORD}),
    ("/v1/auth/login", {"login": "m@example.org", "password": LONE}),
    ("/v1/auth/resend", {"login": f"\udfff{LONE}"}),
    ("/v1/auth/verify", {"login": f"m{LONE}@example.org", "code": "123456"}),
]


@pytest.mark.parametrize(("path", "body"), SURROGATE_BODIES,
                         ids=[f"{p}-{i}" for i, (p, _) in enumerate(SURROGATE_BODIES)])
def test_lone_surrogates_are_malformed_json(client, path, body):
    before = snapshot()
    r = client.post(path, data=_raw_json(body), content_type="application/json")
    assert_problem(r, 400, "malformed_json")
    assert snapshot() == before


def test_lone_surrogates_in_signed_in_bodies_store_nothing(client, register_relative,
                                                           make_staff):
    relative = bearer(register_relative()[2]["access_token"])
    admin = bearer(make_staff("admin")["access_token"])
    before = snapshot()
    for path, body, headers in [
        ("/v1/cases", {**CASE, "soldier": {**CASE["soldier"], "surname": LONE}}, relative),
        ("/v1/me/password", {"current_password": PASSWORD, "new_password": PASSWORD + LONE},
         relative),
        ("/v1/admin/staff", {"email": "s@kinpass.example", "full_name": "Olena" + LONE,
                             "role": "officer"}, admin),
    ]:
        r = client.post(path, data=_raw_json(body), content_type="application/json",
                        headers=headers)
        assert_problem(r, 400, "malformed_json")
    assert snapshot() == before
    # A surrogate pair is one real character and is kept.
    r = client.post("/v1/auth/register", content_type="application/json", data=_raw_json(
        {"email": "pair@example.org", "password": PASSWORD, "full_name": "Мария \U0001F60A"}))
    assert r.status_code == 202, r.get_json()


# --- crafted cursors ------------------------------------------------------------------

ID = str(uuid.UUID(int=7))
CURSORS = {
    "naive_datetime": _cursor(["2026-03-02T10:15:00", ID]),
    "year_1_east": _cursor(["0001-01-01T00:00:00+05:00", ID]),
    "year_9999_west": _cursor(["9999-12-31T23:59:59-05:00", ID]),
    "huge_integer": _cursor([10 ** 30]),
    "int64_overflow": _cursor([2 ** 63]),
    "int64_underflow": _cursor([-(2 ** 63) - 1]),
    "huge_integer_pair": _cursor([10 ** 30, ID]),
    "not_base64": "@@@!!!***",
    "base64_of_garbage": base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
    "float": _cursor([1.5]),
    "nested": _cursor([[1], {"a": 1}]),
}


@pytest.mark.parametrize("route", LIST_ROUTES, ids=str)
def test_crafted_cursors_are_validation_errors(client, callers, route):
    headers = callers.admitted(route)
    before = snapshot()
    for name, cursor in CURSORS.items():
        r = client.get(f"{route.rule}?cursor={quote(cursor)}", headers=headers)
        try:
            body = assert_problem(r, 400, "validation_error")
        except AssertionError as exc:
            raise AssertionError(f"{route} {name}: {exc}") from None
        assert "cursor" in body.get("errors", {}), (name, body)
    assert snapshot() == before


# --- digits of other scripts ----------------------------------------------------------

def test_totp_codes_in_other_digits_are_wrong_codes(client):
    created = create_staff(client, "officer", "digits@kinpass.example")
    totp = pyotp.TOTP(created["totp_secret"])
    upcoming = totp.at(time.time() + 30)  # unused, and inside the accepted drift
    login = {"login": "digits@kinpass.example", "password": created["password"]}
    for digits in (ARABIC_INDIC, FULLWIDTH):
        r = client.post("/v1/auth/login", json={**login, "otp": upcoming.translate(digits)})
        assert_problem(r, 401, "invalid_otp")
    for odd in ("١٢٣٤٥٦", "１２３４５６", "12345٦", "²³⁴⁵⁶⁷"):
        assert_problem(client.post("/v1/auth/login", json={**login, "otp": odd}),
                       401, "invalid_otp")
    assert client.post("/v1/auth/login", json={**login, "otp": upcoming}).status_code == 200


def test_verification_and_reset_codes_in_other_digits_are_wrong_codes(client, outbox):
    r = client.post("/v1/auth/register", json={"email": "digits@example.org",
                                                "password": PASSWORD, "full_name": "Мария"})
    assert r.status_code == 202
    code = outbox("digits@example.org")[-1]["code"]
    for digits in (ARABIC_INDIC, FULLWIDTH):
        r = client.post("/v1/auth/verify", json={"login": "digits@example.org",
                                                  "code": code.translate(digits)})
        assert_problem(r, 400, ("invalid_code", "validation_error"))
    assert client.post("/v1/auth/verify", json={"login": "digits@example.org",
                                                 "code": code}).status_code == 200
    assert client.post("/v1/auth/password/forgot",
                       json={"login": "digits@example.org"}).status_code == 202
    code = outbox("digits@example.org")[-1]["code"]
    reset = {"login": "digits@example.org", "password": "Odesa-Reunion-2027"}
    for digits in (ARABIC_INDIC, FULLWIDTH):
        r = client.post("/v1/auth/password/reset", json={**reset, "code": code.translate(digits)})
        assert_problem(r, 400, ("invalid_code", "validation_error"))
    assert client.post("/v1/auth/password/reset",
                       json={**reset, "code": code}).status_code == 200


# --- tokens signed right, claims of the wrong type ------------------------------------

def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _forged(app, tokens: dict, **claims) -> str:
    """The access token with ``claims`` changed, signed with the server's own key (by hand:
    PyJWT refuses to encode some of these claims)."""
    real = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps({**real, **claims}).encode())
    signature = hmac.new(app.config["JWT_SECRET_KEY"], head + b"." + body, "sha256").digest()
    return b".".join((head, body, _b64(signature))).decode()


@pytest.mark.parametrize("claims", [
    {"exp": "4102444800"}, {"exp": "never"}, {"exp": float("inf")}, {"exp": 1e300},
    {"exp": [4102444800]}, {"exp": None}, {"iat": "yesterday"}, {"iat": float("inf")},
    {"nbf": {"a": 1}}, {"nbf": float("-inf")}, {"sub": 42}, {"sub": ["x"]}, {"sid": {"a": 1}},
    {"sid": 7}, {"type": ["access"]}, {"type": None}, {"aud": 5}, {"iss": ["x"]},
    {"jti": {"a": 1}},
], ids=repr)
def test_signed_tokens_with_claims_of_the_wrong_type_are_401(app, client, register_relative,
                                                             claims):
    tokens = register_relative()[2]
    token = _forged(app, tokens, **claims)
    assert_problem(client.get("/v1/me", headers=bearer(token)), 401)
    assert client.get("/v1/me", headers=bearer(tokens["access_token"])).status_code == 200


# --- X-Access-Reason in UTF-8 ---------------------------------------------------------

def _read_reasons() -> list[str]:
    rows = db().execute(select(AuditEvent.reason).where(
        AuditEvent.action.like("prisoner%")).order_by(AuditEvent.seq)).scalars().all()
    db.remove()
    return list(rows)


def test_a_cyrillic_access_reason_is_stored_as_meant(client, officer):
    wsgi_value = REASON.encode().decode("latin-1")  # what a WSGI server hands the app
    r = client.get("/v1/admin/prisoners", headers={**officer, "X-Access-Reason": wsgi_value})
    assert r.status_code == 200, r.get_json()
    r = client.get("/v1/admin/prisoners", headers={**officer,
                                                    "X-Access-Reason": quote(REASON)})
    assert r.status_code == 200, r.get_json()
    assert _read_reasons()[-2:] == [REASON, REASON]


def test_a_cyrillic_access_reason_over_a_real_socket(app, client, officer):
    with live_server(app) as base:
        parts = urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
        conn.putrequest("GET", "/v1/admin/prisoners")
        conn.putheader("Authorization", officer["Authorization"])
        conn.putheader("X-Access-Reason", REASON.encode())
        conn.endheaders()
        status = conn.getresponse().status
        conn.close()
    assert status == 200
    assert _read_reasons()[-1] == REASON


def test_access_reasons_that_are_not_utf8_or_too_long_are_refused(client, officer):
    before = snapshot()
    for value in ("Я" * 2001, "x" * 2001, "%41" * 2001, "\xff\xfe not UTF-8 at all",
                  "%FF%FE not UTF-8 either"):
        for path in ("/v1/admin/prisoners", f"/v1/admin/prisoners/{ID}",
                     f"/v1/admin/documents/{ID}/content"):
            r = client.get(path, headers={**officer, "X-Access-Reason": value})
            try:
                body = assert_problem(r, 400, "validation_error")
            except AssertionError as exc:
                raise AssertionError(f"{path} {value[:12]!r}: {exc}") from None
            assert "X-Access-Reason" in body["errors"], body
    assert snapshot() == before


# --- names with control characters ----------------------------------------------------

@pytest.mark.parametrize("name", ["Иванова\n", "Иванова\r\n", "Ива\x00нова", "Ива\tнова",
                                  "Иванова\x1b[31m", "Ива\u2028нова", "Ива\x7fнова"], ids=repr)
def test_person_names_with_control_characters_are_refused(client, register_relative, make_staff,
                                                          name):
    tokens = register_relative()[2]
    officer = bearer(make_staff("officer")["access_token"])
    admin = bearer(make_staff("admin")["access_token"])
    before = snapshot()
    cases = [
        ("/v1/cases", {**CASE, "applicant": {**CASE["applicant"], "surname": name}},
         bearer(tokens["access_token"])),
        ("/v1/cases", {**CASE, "soldier": {**CASE["soldier"], "given_name": name}},
         bearer(tokens["access_token"])),
        ("/v1/admin/prisoners", {"registry_number": "UA-2024-000999", "surname": name,
                                 "given_name": "Юрий", "birth_date": "1990-03-05"}, officer),
        ("/v1/auth/register", {"email": "n@example.org", "password": PASSWORD,
                               "full_name": name}, {}),
        ("/v1/admin/staff", {"email": "n@kinpass.example", "full_name": name,
                             "role": "officer"}, admin),
    ]
    for path, body, headers in cases:
        r = client.post(path, json=body, headers=headers)
        try:
            assert_problem(r, 400, "validation_error")
        except AssertionError as exc:
            raise AssertionError(f"{path}: {exc}") from None
    assert snapshot() == before


def test_patterned_fields_refuse_a_trailing_newline(client, register_relative):
    token = register_relative()[2]["access_token"]
    before = snapshot()
    r = client.post("/v1/cases", headers=bearer(token), json={
        **CASE, "applicant": {**CASE["applicant"], "citizenship": "RUS\n"}})
    assert "citizenship" in assert_problem(r, 400, "validation_error")["errors"]["applicant"]
    r = client.post("/v1/auth/register", json={"phone": "+380441234567\n", "password": PASSWORD,
                                                "full_name": "Мария"})
    assert "phone" in assert_problem(r, 400, "validation_error")["errors"]
    assert snapshot() == before
    case_id = open_case(client, token)
    r = client.post(f"/v1/cases/{case_id}/documents", headers=bearer(token), json={
        "kind": "passport", "content_type": "image/jpeg", "size": 1000,
        "sha256": "0" * 64 + "\n", "encryption": "server"})
    assert "sha256" in assert_problem(r, 400, "validation_error")["errors"]


# --- invented HTTP methods ------------------------------------------------------------

def test_invented_methods_share_one_metrics_label(base_config):
    app = create_app({**base_config, "metrics_token": "scrape-secret-789"})
    client = app.test_client()
    methods = [f"X{n:04d}" for n in range(40)]
    for method in methods:
        assert_problem(client.open("/v1/me", method=method), 405, "method_not_allowed")
    r = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-789"})
    text = r.get_data(as_text=True)
    labels = {line.split('method="', 1)[1].split('"', 1)[0] for line in text.splitlines()
              if line.startswith("kinpass_http_requests_total{")}
    assert not labels & set(methods), sorted(labels)
    assert "other" in labels and len(labels) <= 10, sorted(labels)


# --- URLs the server hands out --------------------------------------------------------

HOSTILE_HOST = {"Host": "evil.example", "X-Forwarded-Host": "evil.example",
                "X-Forwarded-Proto": "https", "X-Forwarded-Port": "4443"}


def test_upload_urls_come_from_the_public_url(app, client, register_relative):
    token = register_relative()[2]["access_token"]
    case_id = open_case(client, token)
    with settings_changed(app, public_url="https://kinpass.example.org/"):
        r = client.post(f"/v1/cases/{case_id}/documents", headers={**bearer(token), **HOSTILE_HOST},
                        json={"kind": "passport", "content_type": "image/jpeg", "size": 1000,
                              "sha256": "0" * 64, "encryption": "server"})
        assert r.status_code == 201, r.get_json()
        upload = r.get_json()["upload"]
        r = client.post(upload["tus_url"], headers={**bearer(token), **HOSTILE_HOST,
                                                    "Tus-Resumable": "1.0.0",
                                                    "Upload-Length": "1000"})
    for url in (upload["url"], upload["tus_url"]):
        assert url.startswith("https://kinpass.example.org/v1/"), url
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.headers["Location"].startswith("https://kinpass.example.org/v1/uploads/")


# --- a flood of anonymous refusals ----------------------------------------------------

def _refusals() -> list[AuditEvent]:
    rows = db().execute(select(AuditEvent).where(AuditEvent.action == "access.denied")
                        .order_by(AuditEvent.seq)).scalars().all()
    db.remove()
    return list(rows)


def _inside_one_window(requests: int) -> None:
    """Wait, if need be, for a window with room for ``requests`` quick refusals."""
    left = ANONYMOUS_WINDOW - time.time() % ANONYMOUS_WINDOW
    if left < 3 + requests / 50:
        time.sleep(left + 0.05)


def test_a_flood_of_anonymous_refusals_writes_a_bounded_number_of_rows(client, register_relative):
    flood = 250
    _inside_one_window(flood)
    first = client.get("/v1/me")
    assert_problem(first, 401, "unauthorized")
    for n in range(flood - 1):
        headers = {"Authorization": f"Bearer forged-{n}"} if n % 2 else {}
        assert client.get("/v1/cases", headers=headers).status_code == 401
    rows = _refusals()
    assert len(rows) == 3, [r.reason for r in rows]  # the 1st, the 10th, the 100th
    assert rows[0].request_id == first.headers["X-Request-Id"]
    assert rows[0].reason == "401 unauthorized GET" and rows[0].actor_id is None
    assert rows[-1].reason.endswith("(100 anonymous refusals from this address this minute)")
    # A signed-in caller's refusals are each written, flood or not.
    relative = bearer(register_relative()[2]["access_token"])
    for _ in range(12):
        assert client.get("/v1/admin/staff", headers=relative).status_code == 403
    assert len(_refusals()) == 3 + 12
