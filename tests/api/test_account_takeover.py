"""Nobody takes or probes an account that is not theirs: each registration binds its own
password, each contact is proven by its own code, and a notice goes only to its contact."""
from __future__ import annotations

from tests.support.http import bearer

OWNER_PASSWORD = "Kyiv-Reunion-2026"
STRANGER_PASSWORD = "Stranger-Owns-It-99"


def _register(client, **body):
    r = client.post("/v1/auth/register", json={"password": OWNER_PASSWORD,
                                               "full_name": "Мария", **body})
    assert r.status_code == 202, r.get_json()
    return r.get_json()


def _login(client, login, password):
    return client.post("/v1/auth/login", json={"login": login, "password": password})


def test_register_answer_carries_a_fresh_registration(client, outbox):
    first = _register(client, email="fresh@example.org")
    second = _register(client, email="fresh@example.org")
    assert first["status"] == second["status"] == "verification_sent"
    assert first["registration"] and second["registration"]
    assert first["registration"] != second["registration"]


def test_stranger_registering_over_a_pending_account_cannot_set_its_password(client, outbox):
    owner = _register(client, email="owner@example.org")
    owner_code = outbox("owner@example.org")[-1]["code"]
    _register(client, email="owner@example.org", password=STRANGER_PASSWORD,
              full_name="Stranger")
    r = client.post("/v1/auth/verify", json={"login": "owner@example.org", "code": owner_code,
                                             "registration": owner["registration"]})
    assert r.status_code == 200, r.get_json()
    assert _login(client, "owner@example.org", STRANGER_PASSWORD).status_code == 401
    r = _login(client, "owner@example.org", OWNER_PASSWORD)
    assert r.status_code == 200
    me = client.get("/v1/me", headers=bearer(r.get_json()["access_token"])).get_json()
    assert me["full_name"] == "Мария"


def test_verify_with_registration_accepts_only_that_registrations_code(client, outbox):
    owner = _register(client, email="mine@example.org")
    _register(client, email="mine@example.org", password=STRANGER_PASSWORD)
    stranger_code = outbox("mine@example.org")[-1]["code"]
    r = client.post("/v1/auth/verify", json={"login": "mine@example.org", "code": stranger_code,
                                             "registration": owner["registration"]})
    assert r.status_code == 400 and r.get_json()["code"] == "invalid_code"
    assert _login(client, "mine@example.org", STRANGER_PASSWORD).status_code == 401


def test_code_message_says_another_registration_is_pending(client, outbox):
    _register(client, email="twice@example.org")
    first = outbox("twice@example.org")[-1]
    _register(client, email="twice@example.org", password=STRANGER_PASSWORD)
    second = outbox("twice@example.org")[-1]
    assert first["template"] == "verification_code"
    assert second["template"] == "verification_code_contested" and second["code"]


def test_each_contact_gets_its_own_code_and_joins_only_when_proven(client, outbox):
    reg = _register(client, email="both@example.org", phone="+380501112233")
    email_code = outbox("both@example.org")[-1]["code"]
    phone_code = outbox("+380501112233")[-1]["code"]
    r = client.post("/v1/auth/verify", json={"login": "both@example.org", "code": email_code,
                                             "registration": reg["registration"]})
    assert r.status_code == 200
    assert _login(client, "both@example.org", OWNER_PASSWORD).status_code == 200
    r = _login(client, "+380501112233", OWNER_PASSWORD)
    assert r.status_code == 401 and r.get_json()["code"] == "invalid_credentials"
    r = client.post("/v1/auth/verify", json={"login": "+380501112233", "code": phone_code})
    assert r.status_code == 200
    r = _login(client, "+380501112233", OWNER_PASSWORD)
    assert r.status_code == 200
    me = client.get("/v1/me", headers=bearer(r.get_json()["access_token"])).get_json()
    assert me["email"] == "both@example.org" and me["phone"] == "+380501112233"


def test_a_squatted_phone_does_not_join_the_squatters_account(client, outbox):
    """A stranger names the owner's phone next to his own email; the owner later registers
    by phone and keeps it."""
    _register(client, email="squatter@example.org", phone="+380507654321",
              password=STRANGER_PASSWORD)
    squat_code = outbox("squatter@example.org")[-1]["code"]
    assert client.post("/v1/auth/verify", json={"login": "squatter@example.org",
                                                "code": squat_code}).status_code == 200
    r = _login(client, "+380507654321", STRANGER_PASSWORD)
    assert r.status_code == 401 and r.get_json()["code"] == "invalid_credentials"
    owner = _register(client, phone="+380507654321")
    code = outbox("+380507654321")[-1]["code"]
    assert client.post("/v1/auth/verify", json={"login": "+380507654321", "code": code,
                                                "registration": owner["registration"]}
                       ).status_code == 200
    assert _login(client, "+380507654321", OWNER_PASSWORD).status_code == 200
    assert _login(client, "+380507654321", STRANGER_PASSWORD).status_code == 401


def test_unverified_login_answers_like_an_unknown_one(client, outbox):
    _register(client, email="pending@example.org")
    pending = _login(client, "pending@example.org", OWNER_PASSWORD)
    unknown = _login(client, "nobody@example.org", OWNER_PASSWORD)
    assert pending.status_code == unknown.status_code == 401
    assert pending.get_json() == unknown.get_json()


def test_notice_goes_only_to_the_contact_it_concerns(client, outbox, register_relative):
    """Someone's own email plus a registered stranger's phone: nothing about the phone
    reaches the email."""
    _register(client, phone="+380991234567", language="uk")
    code = outbox("+380991234567")[-1]["code"]
    assert client.post("/v1/auth/verify", json={"login": "+380991234567",
                                                "code": code}).status_code == 200
    _register(client, email="prober@example.org", phone="+380991234567", language="en")
    to_prober = outbox("prober@example.org")
    assert [m["template"] for m in to_prober] == ["verification_code"]
    to_phone = outbox("+380991234567")[-1]
    assert to_phone["template"] == "already_registered" and "code" not in to_phone
    assert to_phone["language"] == "uk"


def test_registering_a_known_email_with_a_fresh_phone_leaks_nothing(client, outbox,
                                                                    register_relative):
    email, _, _ = register_relative(language="ru")
    _register(client, email=email, phone="+380671112233", language="en")
    assert outbox(email)[-1]["template"] == "already_registered"
    phone_messages = outbox("+380671112233")
    assert [m["template"] for m in phone_messages] == ["verification_code"]
    assert phone_messages[0]["language"] == "en"
