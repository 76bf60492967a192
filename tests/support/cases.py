"""Building blocks for the case tests: a consistent claim, its documents, the registry."""
from __future__ import annotations

import hashlib
import uuid
from datetime import date

from services.audit.events import SYSTEM
from services.core import unit_of_work
from services.documents.metadata import seal_metadata
from services.documents.mrz import check_digit
from services.registry.prisoners import create_prisoner
from storage.db import session as db, utcnow
from storage.models.cases import Document
from tests.support.http import bearer

APPLICANT = {"surname": "Иванова", "given_name": "Мария", "patronymic": "Петровна",
             "birth_date": "1971-04-02", "citizenship": "RUS"}
SOLDIER = {"surname": "Иванов", "given_name": "Алексей", "patronymic": "Сергеевич",
           "birth_date": "2001-09-14", "birth_place": "Курск", "unit": "в/ч 12345"}
CASE_BODY = {"relationship": "mother", "applicant": APPLICANT, "soldier": SOLDIER}
BIRTH_CERTIFICATE = {"child_surname": "Иванов", "child_given_name": "Алексей",
                     "child_patronymic": "Сергеевич", "child_birth_date": "2001-09-14",
                     "mother_name": "Иванова Мария Петровна",
                     "father_name": "Иванов Сергей Николаевич"}


def _yymmdd(value: date) -> str:
    return value.strftime("%y%m%d")


def td3(surname: str = "IVANOVA", given: str = "MARIIA", number: str = "751234567",
        nationality: str = "RUS", birth: date = date(1971, 4, 2), sex: str = "F",
        expiry: date = date(2031, 5, 20)) -> str:
    """A passport MRZ (ICAO 9303 TD3) with every check digit right."""
    names = f"{surname}<<{given.replace(' ', '<')}"
    line1 = f"P<{nationality}{names}".ljust(44, "<")[:44]
    number_field = number.ljust(9, "<")[:9]
    personal = "<" * 14
    line2 = (f"{number_field}{check_digit(number_field)}{nationality}"
             f"{_yymmdd(birth)}{check_digit(_yymmdd(birth))}{sex}"
             f"{_yymmdd(expiry)}{check_digit(_yymmdd(expiry))}{personal}<")
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return f"{line1}\n{line2}{check_digit(composite)}"


def add_document(case_id: str, kind: str, *, mrz: str | None = None, fields: dict | None = None,
                 status: str = "stored") -> uuid.UUID:
    """A document as the upload API leaves it once stored (inserted directly)."""
    document = Document(case_id=uuid.UUID(case_id), kind=kind, content_type="image/jpeg",
                        size=1000, sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
                        encryption="server", status=status,
                        uploaded_at=utcnow() if status == "stored" else None)
    seal_metadata(document, mrz=mrz, fields=fields)
    db().add(document)
    unit_of_work.commit()
    document_id = document.id
    db.remove()
    return document_id


def add_prisoner(**overrides) -> str:
    values = {"registry_number": f"UA-{uuid.uuid4().hex[:8]}", "surname": "Иванов",
              "given_name": "Алексей", "patronymic": "Сергеевич",
              "birth_date": date(2001, 9, 14), "birth_place": "Курск",
              "mother_name": "Иванова Мария Петровна",
              "father_name": "Иванов Сергей Николаевич", **overrides}
    prisoner = create_prisoner(actor=SYSTEM, **values)
    unit_of_work.commit()
    prisoner_id = str(prisoner.id)
    db.remove()
    return prisoner_id


def open_case(client, token: str, body: dict | None = None) -> dict:
    r = client.post("/v1/cases", json=body or CASE_BODY, headers=bearer(token))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def complete_documents(case_id: str, *, passport_mrz: str | None = None,
                       certificate: dict | None = None) -> None:
    add_document(case_id, "passport", mrz=passport_mrz or td3())
    add_document(case_id, "birth_certificate", fields=certificate or BIRTH_CERTIFICATE)


def submitted_case(client, token: str, **documents) -> dict:
    case = open_case(client, token)
    complete_documents(case["id"], **documents)
    r = client.post(f"/v1/cases/{case['id']}/submit", headers=bearer(token))
    assert r.status_code == 202, r.get_json()
    return r.get_json()


def checks_of(client, staff_token: str, case_id: str) -> dict[str, dict]:
    r = client.get(f"/v1/admin/cases/{case_id}", headers=bearer(staff_token))
    assert r.status_code == 200, r.get_json()
    return {c["name"]: c for c in r.get_json()["checks"]}
