"""Per-company, per-type, per-year document number sequences."""

from __future__ import annotations

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from companion.kit.db import Base, IdMixin, TenantMixin


class DocumentSequence(IdMixin, TenantMixin, Base):
    __tablename__ = "document_sequences"
    __table_args__ = (UniqueConstraint("company_id", "prefix", "year"),)

    prefix: Mapped[str] = mapped_column(String(8), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
