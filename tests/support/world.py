"""A world for authorization tests: staff, relatives, approved cases with held prisoners.

Approved cases are written straight into the database (the approval flow is tested with the
case endpoints); everything after approval goes through the API.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from services.audit.events import SYSTEM
from services.core import unit_of_work
from services.documents.metadata import seal_metadata
from services.registry.prisoners import create_prisoner
from storage.db import session as db, utcnow
from storage.models.authorizations import Authorization
from storage.models.cases import Case, CaseStatusChange, Document
from tests.support.cases import APPLICANT, SOLDIER
from tests.support.http import bearer

SPECIMEN_MRZ = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hours(n: float) -> datetime:
    return utcnow() + timedelta(hours=n)


@dataclass
class Relative:
    email: str
    token: str
    account_id: uuid.UUID

    @property
    def headers(self) -> dict:
        return bearer(self.token)


@dataclass
class World:
    client: object
    register_relative: object
    make_staff: object
    _staff: dict = field(default_factory=dict)

    def staff(self, role: str) -> dict:
        if role not in self._staff:
            self._staff[role] = bearer(self.make_staff(role)["access_token"])
        return self._staff[role]

    @property
    def officer(self) -> dict:
        return self.staff("officer")

    @property
    def checkpoint(self) -> dict:
        return self.staff("checkpoint")

    def relative(self, language: str = "ru") -> Relative:
        email, _, tokens = self.register_relative(language=language)
        me = self.client.get("/v1/me", headers=bearer(tokens["access_token"])).get_json()
        return Relative(email, tokens["access_token"], uuid.UUID(me["id"]))

    def approved_case(self, relative: Relative | None = None, *, status: str = "approved",
                      prisoner_status: str = "held", linked: bool = True,
                      mrz: str | None = SPECIMEN_MRZ, kind: str = "passport",
                      fields: dict | None = None) -> tuple[Relative, uuid.UUID, uuid.UUID]:
        """(relative, case id, prisoner id) of a case in ``status`` with a linked prisoner."""
        relative = relative or self.relative()
        now = utcnow()
        prisoner = create_prisoner(
            actor=SYSTEM, registry_number=f"UA-{uuid.uuid4().hex[:10]}", surname="Иванов",
            given_name="Алексей", patronymic="Сергеевич", birth_date=date(2001, 9, 14),
            status=prisoner_status, mother_name="Иванова Мария Петровна")
        db().flush()
        case = Case(account_id=relative.account_id, status=status, relationship="mother",
                    applicant=dict(APPLICANT), soldier=dict(SOLDIER),
                    prisoner_id=prisoner.id if linked else None, created_at=now,
                    updated_at=now, submitted_at=now)
        db().add(case)
        db().flush()
        for seq, step in enumerate(["draft", "submitted", "in_review", "approval_pending",
                                    "approved"][: _depth(status)], start=1):
            db().add(CaseStatusChange(case_id=case.id, seq=seq, status=step, at=now))
        document = Document(case_id=case.id, kind=kind, content_type="image/jpeg",
                            size=10, sha256="0" * 64, status="stored", uploaded_at=now)
        seal_metadata(document, mrz=mrz, fields=fields)
        db().add(document)
        unit_of_work.commit()
        case_id, prisoner_id = case.id, prisoner.id
        db.remove()
        return relative, case_id, prisoner_id

    def handover(self, starts_at: datetime | None = None, ends_at: datetime | None = None,
                 location: str = "Київ, пункт передачі №3") -> dict:
        r = self.client.post("/v1/admin/handovers", headers=self.officer, json={
            "location": location, "starts_at": iso(starts_at or hours(-1)),
            "ends_at": iso(ends_at or hours(5))})
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def issue(self, case_id: uuid.UUID, body: dict, expect: int = 201) -> dict:
        r = self.client.post(f"/v1/admin/cases/{case_id}/authorizations", headers=self.officer,
                             json=body)
        assert r.status_code == expect, r.get_json()
        return r.get_json()

    def travel(self, case_id: uuid.UUID, valid_from: datetime | None = None,
               valid_until: datetime | None = None, **extra: object) -> dict:
        return self.issue(case_id, {"kind": "travel", "valid_from": iso(valid_from or hours(-1)),
                                    "valid_until": iso(valid_until or hours(48)), **extra})

    def pickup(self, case_id: uuid.UUID, handover: dict | None = None) -> dict:
        handover = handover or self.handover()
        return self.issue(case_id, {"kind": "pickup", "handover_id": handover["id"]})

    def ready_pickup(self, **handover_window: datetime) -> tuple[Relative, uuid.UUID, uuid.UUID,
                                                                 dict]:
        """An approved case with a travel and a pickup authorization."""
        relative, case_id, prisoner_id = self.approved_case()
        self.travel(case_id)
        return relative, case_id, prisoner_id, self.pickup(case_id,
                                                           self.handover(**handover_window))

    def lapse(self, authorization: dict, ended_hours_ago: float = 1) -> dict:
        """Move an issued authorization's window into the past, as if it had run out (one
        whose window has already ended cannot be issued)."""
        auth = db().get(Authorization, uuid.UUID(authorization["id"]))
        auth.valid_until = hours(-ended_hours_ago)
        auth.valid_from = min(auth.valid_from, auth.valid_until - timedelta(hours=1))
        unit_of_work.commit()
        db.remove()
        return authorization

    def verify(self, token: object) -> dict:
        r = self.client.post("/v1/checkpoint/verify", headers=self.checkpoint,
                             json={"token": token})
        assert r.status_code == 200, r.get_json()
        return r.get_json()


def _depth(status: str) -> int:
    order = ["draft", "submitted", "in_review", "approval_pending", "approved"]
    return order.index(status) + 1 if status in order else len(order)
