"""The server's HPKE keys for client-side encrypted uploads, shared by every instance."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, utcnow


class HpkeKey(Base):
    """One HPKE key pair; the private half is kept only wrapped by the KEK."""

    __tablename__ = "hpke_keys"
    __table_args__ = (
        # One active key per suite, even when two instances create the first ones at once.
        Index("uq_hpke_keys_active_suite", "suite", unique=True,
              postgresql_where=text("active"), sqlite_where=text("active")),
    )

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    suite: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    public_key: Mapped[str] = mapped_column(Text)
    private_key_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
