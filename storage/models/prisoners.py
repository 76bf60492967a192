from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, utcnow

PRISONER_STATUSES = ("held", "released", "transferred", "deceased")


class Prisoner(Base):
    """The Geneva Convention III Art. 122 record of one prisoner of war."""

    __tablename__ = "prisoners"
    __table_args__ = (Index("ix_prisoners_birth_date", "birth_date"),
                      Index("ix_prisoners_created", "created_at", "id"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    registry_number: Mapped[str] = mapped_column(String(64), unique=True)
    surname: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    patronymic: Mapped[str | None] = mapped_column(String(100))
    surname_latin: Mapped[str] = mapped_column(String(200))
    given_name_latin: Mapped[str] = mapped_column(String(200))
    patronymic_latin: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[date]
    birth_place: Mapped[str | None] = mapped_column(String(100))
    unit: Mapped[str | None] = mapped_column(String(100))
    rank: Mapped[str | None] = mapped_column(String(100))
    service_number: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="held")
    captured_on: Mapped[date | None]
    mother_name: Mapped[str | None] = mapped_column(String(100))
    father_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PrisonerBlockingKey(Base):
    """Candidate retrieval for matching: a few short keys per prisoner, looked up by index."""

    __tablename__ = "prisoner_blocking_keys"

    prisoner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("prisoners.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_prisoner_blocking_keys_key", "key"),)
