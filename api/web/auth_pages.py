"""Signing in and out of the console, on the API's own sessions and login limits."""
from __future__ import annotations

from flask import Response, redirect, render_template, request, url_for

from api.web.blueprint import ConsoleBlueprint
from api.web.security import CONSOLE_ROLES, console_caller, web_role
from api.web.session_cookie import clear_session, keep_login_nonce, write_session
from auth.roles import current_account, current_caller
from services.accounts import sessions
from storage.vocabulary import CASE_STAFF

blp = ConsoleBlueprint("auth", __name__)


@blp.route("/login", methods=["GET"])
def login_form():
    """The sign-in page (a live session goes straight to its start page)."""
    if console_caller() is not None:
        return redirect(url_for("console.auth.home"), 303)
    response = Response(render_template("console/login.html"))
    keep_login_nonce(response)
    return response


@blp.route("/login", methods=["POST"], endpoint="login")
def login():
    """Email, password and one-time code; counted against the same limits as the API's
    login. Relatives and checkpoints are refused here."""
    form = request.form
    account, auth_session = sessions.sign_in(sessions.LoginAttempt(
        login=form.get("email", "")[:254], password=form.get("password", "")[:128],
        otp=form.get("otp", "").strip()[:10] or None, ip=request.remote_addr),
        admit=CONSOLE_ROLES)
    response = redirect(url_for("console.auth.home"), 303)
    write_session(response, auth_session.id, account.id)
    return response


@blp.route("/", methods=["GET"])
@web_role(*CONSOLE_ROLES)
def home():
    """The start page: officers and supervisors go to the queue."""
    if current_caller().role in CASE_STAFF:
        return redirect(url_for("console.cases.queue"), 303)
    return render_template("console/home.html")


@blp.route("/logout", methods=["POST"])
@web_role(*CONSOLE_ROLES)
def logout():
    """Sign out: the session ends on the server, its bearer tokens with it."""
    sessions.logout_session(account=current_account(), session_id=current_caller().session_id)
    response = redirect(url_for("console.auth.login"), 303)
    clear_session(response)
    return response


@blp.route("/sessions/end", methods=["POST"])
@web_role(*CONSOLE_ROLES)
def sign_out_everywhere():
    """End every session of the account, in the console and through the API."""
    sessions.end_every_session(account=current_account())
    response = redirect(url_for("console.auth.login"), 303)
    clear_session(response)
    return response
