"""Staff at the console: accounts made through the service, one-time codes that are never
replayed, and sign-in through the console's own form (Flask test client)."""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field

import jwt
import pyotp
from flask import Response

from api.web.session_cookie import csrf_token, write_session
from auth.totp import STEP
from services.accounts import staff as accounts
from services.audit.events import SYSTEM
from services.core import unit_of_work
from storage.db import session as db

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
SESSION_COOKIE = "__Host-kinpass_session"


@dataclass
class Staff:
    id: str
    email: str
    role: str
    password: str
    secret: str
    last_step: int = field(default=0)

    def code(self) -> str:
        """A code the server has not seen yet, from the steps it accepts (one step of drift
        either way); the step before only while it stays valid for at least 10 s more (a
        slow sign-in must not outlive its code); past that, wait for the clock."""
        while True:
            now = time.time()
            current = int(now // STEP)
            oldest = current - 1 if STEP - now % STEP > 10 else current
            step = max(self.last_step + 1, oldest)
            if step <= current + 1:
                self.last_step = step
                return pyotp.TOTP(self.secret).generate_otp(step)
            time.sleep(1)


def new_staff(role: str, email: str) -> Staff:
    created = accounts.create_staff(email=email, full_name=f"{role.title()} {email[:6]}",
                                    role=role, actor=SYSTEM)
    unit_of_work.commit()
    db.remove()
    return Staff(str(created["id"]), email, role, created["password"], created["totp_secret"])


def signed_in(app, role: str, email: str):
    """A fresh client signed in to the console as a new staff member of ``role``, its
    pages in English."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    staff = new_staff(role, email)
    assert console_login(client, staff).status_code == 303
    return client, staff


def console_cookie_for(app, client, access_token: str) -> None:
    """Give ``client`` a console cookie naming the API session of ``access_token``: how a
    relative or a checkpoint, whom the console's sign-in refuses, reaches a page's role
    check."""
    claims = jwt.decode(access_token, options={"verify_signature": False})
    response = Response()
    with app.test_request_context():
        write_session(response, uuid.UUID(claims["sid"]), uuid.UUID(claims["sub"]))
    value = response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    client.set_cookie(SESSION_COOKIE, value)


def refuse_outsiders(app, register_relative, make_staff, paths) -> None:
    """A relative and a checkpoint, each with a console cookie, get 403 on every one of
    ``paths``."""
    _, _, tokens = register_relative()
    for access in (tokens["access_token"], make_staff("checkpoint")["access_token"]):
        outsider = app.test_client()
        console_cookie_for(app, outsider, access)
        for path in paths:
            assert outsider.get(path).status_code == 403, path


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def console_login(client, staff: Staff, *, otp: str | None = None, language: str = "en"):
    """Sign in through /console/login; returns the answer to the form's post."""
    page = client.get("/console/login", headers={"Accept-Language": language})
    return client.post("/console/login", data={
        "csrf_token": csrf_of(page.get_data(as_text=True)), "email": staff.email,
        "password": staff.password, "otp": otp if otp is not None else staff.code()},
        headers={"Accept-Language": language})


def page_token(client, path: str) -> str:
    """The CSRF token of the page at ``path`` (signed-in client)."""
    r = client.get(path, follow_redirects=True)
    assert r.status_code == 200, r.status_code
    return csrf_of(r.get_data(as_text=True))


def post_form(client, path: str, data: dict, *, token_from: str | None = None):
    """Post a console form with its session's token, read from ``token_from`` (a page; the
    token is the session's, whichever page carries it)."""
    token = page_token(client, token_from or "/console/")
    return client.post(path, data={"csrf_token": token, **data})


def signed_cookie(app, session_id, account_id) -> tuple[str, str]:
    """The console cookie this server would sign for an API session, and its CSRF token: a
    session the console's own sign-in would never have admitted (a relative's)."""
    response = Response()
    with app.test_request_context():
        write_session(response, session_id, account_id)
    value = response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    with app.test_request_context(headers={"Cookie": f"{SESSION_COOKIE}={value}"}):
        return value, csrf_token()
