"""Memories, each company's memory policy, and purge receipts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from companion.kit.db import Base, IdMixin, TenantMixin, UTCDateTime, utcnow


class Memory(IdMixin, TenantMixin, Base):
    """One remembered thing of a user (``user_id`` set) or of the whole company (null)."""

    __tablename__ = "memories"
    __table_args__ = (Index("ix_memories_company_user", "company_id", "user_id"),)

    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, nullable=True)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    retention: Mapped[str] = mapped_column(String(16), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    # sha256 of the normalised text: exact duplicates are found without a model.
    text_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # The text's unit embedding (derived: dropped with the row, rebuilt from the text).
    # Deferred: only ranking and dedup read it (parsing 384 numbers a row is not free).
    vector: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True, deferred=True)
    # Master data the text names ({"customer": {"id", "name"}, ...}), resolved when saved.
    entities: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    # Earlier wordings this record replaced (an updated preference keeps what it said).
    history: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True, deferred=True)
    due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False, default="api")
    # The chat conversation it was said in (no foreign key: a purge may delete that first).
    conversation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)


class GlobalMemory(IdMixin, Base):
    """A memory every company's users share (product-wide facts), kept apart from tenants.

    No ``company_id`` on purpose: a global row belongs to no tenant, so tenant reads
    (``scoped``) can never return one by accident; only an admin writes here.
    """

    __tablename__ = "global_memories"

    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    retention: Mapped[str] = mapped_column(String(16), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    text_hash: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    vector: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)


class MemoryPolicy(IdMixin, TenantMixin, Base):
    """A company's memory rules: TTL per retention class, PII scrubbing, compliance mode."""

    __tablename__ = "memory_policies"
    __table_args__ = (UniqueConstraint("company_id"),)

    # Seconds; null: the built-in default of the class (policy.DEFAULT_TTLS).
    short_ttl_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    medium_ttl_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    long_ttl_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pii_scrubbing: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # No external model provider may see this company's data.
    compliance_mode: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PurgeReceipt(TenantMixin, Base):
    """What one purge removed, where, how many, and the digest recorded in the audit chain."""

    __tablename__ = "memory_purge_receipts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    criteria: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    counts: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    audit_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
