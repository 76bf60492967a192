"""Documents on the console's case page: shown only after an access reason, as images the
server made, through the API's own content read (its reason rule, shredding and audit); the
original downloaded as a sandboxed attachment under the same rule."""
from __future__ import annotations

import base64
import io
import re
import uuid

import pytest
from PIL import Image
from sqlalchemy import select

from storage.db import session as db
from storage.models.accounts import Account, AuthSession
from storage.models.audit import AuditEvent
from tests.support import document_files as files
from tests.support.console import (
    SESSION_COOKIE,
    console_login,
    new_staff,
    page_token,
    signed_cookie,
)
from tests.support.documents import empty_local_store
from tests.support.http import bearer

REASON = "Сверяю паспорт заявительницы с анкетой"
DATA_URL = re.compile(r'<img src="data:(image/[a-z]+);base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture(autouse=True)
def _no_objects(app):
    empty_local_store(app)


@pytest.fixture
def reads(app, monkeypatch) -> list[str]:
    """Every object the store opens (a content read opens its object twice: authenticated
    first, then decrypted)."""
    objects = app.extensions["kinpass"].runtime.objects
    opened: list[str] = []
    original = objects.open_stream

    def counting(key, *args, **kwargs):
        opened.append(key)
        return original(key, *args, **kwargs)

    monkeypatch.setattr(objects, "open_stream", counting)
    return opened


@pytest.fixture
def officer(app):
    client = app.test_client()
    staff = new_staff("officer", f"officer-{uuid.uuid4().hex[:6]}@kinpass.example")
    assert console_login(client, staff).status_code == 303
    return client


def _case(client, register_relative, passport=None, certificate=None, **kwargs):
    token = register_relative()[2]["access_token"]
    ids = files.case_with_files(client, token, passport or files.phone_jpeg(),
                                certificate or files.pdf_pages(3), **kwargs)
    return token, *ids


def _views() -> list[AuditEvent]:
    db.remove()
    rows = db().execute(select(AuditEvent).where(AuditEvent.action == "document.view")
                        .order_by(AuditEvent.seq)).scalars().all()
    db.remove()
    return rows


def _post(client, case_id: str, document_id: str, act: str, reason: str | None):
    token = page_token(client, f"/console/cases/{case_id}")
    form = {"csrf_token": token} if reason is None else {"csrf_token": token, "reason": reason}
    return client.post(f"/console/documents/{document_id}/{act}", data=form,
                       headers={"Accept-Language": "en"})


def _images(html: str) -> list[tuple[str, bytes]]:
    return [(kind, base64.b64decode(data)) for kind, data in DATA_URL.findall(html)]


def test_the_case_page_asks_for_an_access_reason_per_document(app, client, register_relative,
                                                             officer):
    _, case_id, passport, certificate = _case(client, register_relative)
    r = officer.get(f"/console/cases/{case_id}", headers={"Accept-Language": "en"})
    html = r.get_data(as_text=True)
    for document_id in (passport, certificate):
        assert f'<label for="access-reason-{document_id}">Access reason</label>' in html
        assert f"/console/documents/{document_id}/show#document-{document_id}" in html
    assert "data:" not in html and _views() == []
    assert "data:" not in r.headers["Content-Security-Policy"]


@pytest.mark.parametrize("reason", [None, "", "   short  ", " " * 30])
def test_without_a_reason_nothing_is_read_or_audited(app, client, register_relative, officer,
                                                     reads, reason):
    _, case_id, passport, _ = _case(client, register_relative)
    for act in ("show", "original"):
        r = _post(officer, case_id, passport, act, reason)
        assert r.status_code == 400, act
        assert "at least 10 characters" in r.get_data(as_text=True)
        assert "data:image" not in r.get_data(as_text=True)
    assert reads == [] and _views() == []


@pytest.mark.parametrize("reason", ["x" * 2001, "Проверка паспорта %D0", "caf%E9 au lait reason"])
def test_a_reason_the_api_would_refuse_is_refused(app, client, register_relative, officer,
                                                  reads, reason):
    _, case_id, passport, _ = _case(client, register_relative)
    r = _post(officer, case_id, passport, "show", reason)
    assert r.status_code == 400 and reads == [] and _views() == []


def test_the_photo_is_shown_re_encoded_and_audited_once(app, client, register_relative,
                                                        officer, reads):
    _, case_id, passport, _ = _case(client, register_relative)
    r = _post(officer, case_id, passport, "show", REASON)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    [(media_type, data)] = _images(html)
    assert media_type == "image/jpeg" and files.SECRET.encode() not in data
    shown = Image.open(io.BytesIO(data))
    assert not shown.getexif() and "icc_profile" not in shown.info and "exif" not in shown.info
    assert shown.size == (80, 120)  # turned upright as its EXIF said
    assert f'value="{REASON}"' in html  # kept for the download of the original
    assert "Иванов" in html  # beside the case's data
    csp = r.headers["Content-Security-Policy"]
    assert "img-src 'self' data:" in csp and "unsafe-inline" not in csp
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["Cache-Control"] == "no-store"
    [view] = _views()
    assert (view.subject_type, view.subject_id, view.outcome, view.reason) == (
        "document", passport, "success", REASON)
    assert len(reads) == 2  # one content read: authenticated, then decrypted


def test_the_console_view_is_audited_as_the_api_read_is(app, client, register_relative,
                                                        officer, make_staff):
    _, case_id, passport, _ = _case(client, register_relative)
    assert _post(officer, case_id, passport, "show", REASON).status_code == 200
    api = make_staff("officer")["access_token"]
    r = client.get(f"/v1/admin/documents/{passport}/content",
                   headers={**bearer(api), "X-Access-Reason": REASON})
    assert r.status_code == 200
    console, through_api = _views()
    fields = ("action", "actor_role", "subject_type", "subject_id", "outcome", "reason",
              "document_number_hmac")
    assert [getattr(console, f) for f in fields] == [getattr(through_api, f) for f in fields]


def test_a_pdf_is_shown_as_its_pages(app, client, register_relative, officer):
    _, case_id, _, certificate = _case(client, register_relative)
    r = _post(officer, case_id, certificate, "show", REASON)
    assert r.status_code == 200
    images = _images(r.get_data(as_text=True))
    assert [kind for kind, _ in images] == ["image/png"] * 3
    assert all(Image.open(io.BytesIO(data)).format == "PNG" for _, data in images)
    assert len(_views()) == 1


def test_a_png_keeps_none_of_its_text_chunks(app, client, register_relative, officer):
    _, case_id, _, certificate = _case(client, register_relative,
                                       certificate=files.png_with_text(),
                                       certificate_type="image/png")
    r = _post(officer, case_id, certificate, "show", REASON)
    [(media_type, data)] = _images(r.get_data(as_text=True))
    assert media_type == "image/png" and files.SECRET.encode() not in data
    assert Image.open(io.BytesIO(data)).info == {}


@pytest.mark.parametrize(("certificate", "status", "text"), [
    (files.png_bomb(), 413, "too large to be shown safely"),
    (files.garbage(b"\x89PNG\r\n\x1a\n"), 415, "cannot be shown"),
])
def test_a_file_that_cannot_be_shown_is_refused_and_its_read_kept(
        app, client, register_relative, officer, certificate, status, text):
    _, case_id, _, document_id = _case(client, register_relative, certificate=certificate,
                                       certificate_type="image/png")
    r = _post(officer, case_id, document_id, "show", REASON)
    assert r.status_code == status and text in r.get_data(as_text=True)
    assert "data:image" not in r.get_data(as_text=True)
    [view] = _views()  # the plaintext was opened for this reason
    assert view.reason == REASON and view.subject_id == document_id


def test_the_original_downloads_as_a_sandboxed_attachment(app, client, register_relative,
                                                          officer):
    photo = files.phone_jpeg()
    _, case_id, passport, _ = _case(client, register_relative, passport=photo)
    r = _post(officer, case_id, passport, "original", REASON)
    assert r.status_code == 200 and r.data == photo
    assert r.mimetype == "image/jpeg"
    assert r.headers["Content-Disposition"] == (
        f'attachment; filename="document-{passport}.jpg"')
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"].startswith("sandbox;")
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"
    [view] = _views()
    assert (view.subject_id, view.reason, view.outcome) == (passport, REASON, "success")


def test_a_shredded_document_is_gone(app, client, register_relative, officer, reads):
    token, case_id, passport, _ = _case(client, register_relative)
    assert client.post(f"/v1/cases/{case_id}/withdraw", headers=bearer(token)).status_code == 200
    for act in ("show", "original"):
        r = _post(officer, case_id, passport, act, REASON)
        assert r.status_code == 410 and "no longer available" in r.get_data(as_text=True)
    assert reads == [] and _views() == []


def test_a_post_without_the_csrf_token_is_refused(app, client, register_relative, officer,
                                                  reads):
    _, _, passport, _ = _case(client, register_relative)
    for form in ({"reason": REASON}, {"reason": REASON, "csrf_token": "0" * 64}):
        r = officer.post(f"/console/documents/{passport}/show", data=form)
        assert r.status_code == 403
    assert reads == [] and _views() == []


def test_auditors_and_admins_do_not_see_documents(app, client, register_relative, reads):
    _, _, passport, _ = _case(client, register_relative)
    for role in ("auditor", "admin"):
        browser = app.test_client()
        assert console_login(browser, new_staff(role, f"{role}@kinpass.example")).status_code == 303
        token = page_token(browser, "/console/")
        r = browser.post(f"/console/documents/{passport}/show",
                         data={"csrf_token": token, "reason": REASON})
        assert r.status_code == 403, role
    assert reads == [] and _views() == []


def _session_of(email: str) -> tuple[uuid.UUID, uuid.UUID]:
    db.remove()
    account = db().execute(select(Account).where(Account.email == email)).scalar_one()
    session = db().execute(select(AuthSession).where(
        AuthSession.account_id == account.id)).scalars().first()
    db.remove()
    return session.id, account.id


def test_relatives_and_checkpoints_are_refused(app, client, register_relative, reads):
    email, _, _ = register_relative()
    _, _, passport, _ = _case(client, register_relative)
    gate = new_staff("checkpoint", "gate@kinpass.example")
    assert client.post("/v1/auth/login", json={"login": gate.email, "password": gate.password,
                                               "otp": gate.code()}).status_code == 200

    def post_as(owner: str, act: str):
        browser = app.test_client()
        cookie, token = signed_cookie(app, *_session_of(owner))
        browser.set_cookie(SESSION_COOKIE, cookie)
        return browser.post(f"/console/documents/{passport}/{act}",
                            data={"csrf_token": token, "reason": REASON})

    for owner in (email, gate.email):
        for act in ("show", "original"):
            assert post_as(owner, act).status_code == 403, (owner, act)
    assert reads == [] and _views() == []
    officer = new_staff("officer", "officer@kinpass.example")
    client.post("/v1/auth/login", json={"login": officer.email, "password": officer.password,
                                        "otp": officer.code()})
    assert post_as(officer.email, "show").status_code == 200  # the same cookie, for staff
    assert len(_views()) == 1

