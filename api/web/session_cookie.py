"""The console's cookies: the session cookie names one of the API's own server-side sessions
(signed, so that it cannot be forged; the session row decides whether it is alive), and the
CSRF tokens are bound to it (before sign-in, to a random login cookie)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from flask import Response, current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer

SESSION_COOKIE = "__Host-kinpass_session"
LOGIN_COOKIE = "__Host-kinpass_login"
_SALT = "kinpass-console-session"


def _key() -> bytes:
    secret = current_app.config["JWT_SECRET_KEY"]
    return hmac.new(secret if isinstance(secret, bytes) else secret.encode(),
                    b"kinpass-console", hashlib.sha256).digest()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(_key(), salt=_SALT)


def _set(response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, path="/", secure=True, httponly=True, samesite="Strict")


def write_session(response: Response, session_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """No Max-Age: the cookie ends with the browser; the session's timeouts are kept on the
    server."""
    _set(response, SESSION_COOKIE, _serializer().dumps([str(session_id), str(account_id)]))


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True,
                           samesite="Strict")


def read_session() -> tuple[uuid.UUID, uuid.UUID] | None:
    """(session id, account id) from a cookie this server signed, or None."""
    if "console_cookie" not in g:
        g.console_cookie = None
        raw = request.cookies.get(SESSION_COOKIE)
        if raw:
            try:
                session_id, account_id = _serializer().loads(raw)
                g.console_cookie = (uuid.UUID(session_id), uuid.UUID(account_id))
            except (BadSignature, ValueError, TypeError):
                pass
    return g.console_cookie


def _login_nonce() -> str:
    if "login_nonce" not in g:
        given = request.cookies.get(LOGIN_COOKIE, "")
        g.login_nonce = given if len(given) == 43 else secrets.token_urlsafe(32)
        g.login_nonce_new = given != g.login_nonce
    return g.login_nonce


def keep_login_nonce(response: Response) -> None:
    """The login form's token needs its cookie: set it where the form made a new one."""
    if g.get("login_nonce_new"):
        _set(response, LOGIN_COOKIE, g.login_nonce)


def csrf_token() -> str:
    """The synchronizer token of this browser's session (or of its sign-in form)."""
    found = read_session()
    subject = b"session:" + found[0].bytes if found else b"login:" + _login_nonce().encode()
    return hmac.new(_key(), b"csrf:" + subject, hashlib.sha256).hexdigest()


def csrf_matches(given: str | None) -> bool:
    if not given:
        return False
    if read_session() is None and LOGIN_COOKIE not in request.cookies:
        return False
    return hmac.compare_digest(given.encode(), csrf_token().encode())


def session_seal(purpose: str, data: bytes) -> str:
    """A MAC over ``data`` that only this browser's session can have been given: what a page
    hands the browser to send back unchanged is known, when it comes back, to be the same."""
    found = read_session()
    subject = found[0].bytes if found else b""
    digest = hashlib.sha256(data).digest()
    return hmac.new(_key(), f"seal:{purpose}:".encode() + subject + digest,
                    hashlib.sha256).hexdigest()
