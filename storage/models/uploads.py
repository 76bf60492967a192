"""Resumable (tus) uploads in flight: what of a document's content is durably kept so far."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, utcnow


class ResumableUpload(Base):
    """One tus upload of a document's content.

    ``offset`` counts the client's bytes durably kept (the plaintext for server encryption,
    the sealed container for client encryption); ``stored`` counts the bytes of the staged
    object behind it. With server encryption the staged bytes are KPS1 segments under the
    document's DEK, kept here wrapped by the KEK, with the stream's nonce prefix.
    """

    __tablename__ = "resumable_uploads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    stored: Mapped[int] = mapped_column(BigInteger, default=0)
    object_key: Mapped[str] = mapped_column(String(100))
    multipart_id: Mapped[str | None] = mapped_column(String(1024))
    parts: Mapped[str] = mapped_column(Text, default="")  # S3 part ETags, one a line
    tail_key: Mapped[str | None] = mapped_column(String(100))
    wrapped_dek: Mapped[bytes | None] = mapped_column(LargeBinary)
    nonce_prefix: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
