"""The ``data_imports`` table (one uploaded file) and its status events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from companion.kit.db import Base, IdMixin, TenantMixin, UTCDateTime, utcnow

UPLOADED, VALIDATING, VALIDATED, INVALID = "uploaded", "validating", "validated", "invalid"
COMMITTING, COMMITTED, FAILED, DISCARDED = "committing", "committed", "failed", "discarded"
STATUSES = (UPLOADED, VALIDATING, VALIDATED, INVALID, COMMITTING, COMMITTED, FAILED, DISCARDED)


class DataImport(IdMixin, TenantMixin, Base):
    __tablename__ = "data_imports"

    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    file_format: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=UPLOADED)
    total_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    valid_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    duplicate_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The first errors (line, column, message), capped; error_count has them all.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(nullable=False, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(nullable=False, default=dict)
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )
    committed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DataImportEvent(IdMixin, TenantMixin, Base):
    """One status change of an import, in order."""

    __tablename__ = "data_import_events"

    import_id: Mapped[int] = mapped_column(
        ForeignKey("data_imports.id", ondelete="CASCADE"), index=True, nullable=False
    )
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
