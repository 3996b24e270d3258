"""The memory API's request and response bodies."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from companion.kit.fields import IsoDate, Text

Kind = Literal["preference", "fact", "reminder", "summary"]
Scope = Literal["user", "company", "global"]
Retention = Literal["short", "medium", "long", "permanent"]


class MemoryIn(BaseModel):
    """Something to remember."""

    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=1, max_length=2000)
    kind: Kind = "fact"
    scope: Scope = "user"
    retention: Retention | None = None
    due_on: IsoDate | None = None


class MemoryOut(BaseModel):
    id: int
    scope: str
    kind: str
    retention: str
    text: str
    due_on: dt.date | None = None
    entities: dict[str, Any] | None = None
    created_at: dt.datetime
    updated_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None


class RememberedOut(MemoryOut):
    # add: a new memory; update: an older one replaced (kept in its history); duplicate:
    # nothing new (the existing one is returned, its lifetime restarted).
    action: Literal["add", "update", "duplicate"]
    similarity: float | None = None


class PolicyIn(BaseModel):
    """Changes to the company's memory policy (fields left out stay as they are)."""

    model_config = ConfigDict(extra="forbid")

    short_ttl_s: int | None = Field(default=None, ge=60, le=10 * 366 * 86400)
    medium_ttl_s: int | None = Field(default=None, ge=60, le=10 * 366 * 86400)
    long_ttl_s: int | None = Field(default=None, ge=60, le=10 * 366 * 86400)
    pii_scrubbing: bool | None = None
    compliance_mode: bool | None = None


class PolicyOut(BaseModel):
    ttls: dict[str, int | None]
    pii_scrubbing: bool
    compliance_mode: bool
    external_providers_allowed: bool


class ReceiptOut(BaseModel):
    id: str
    company: str
    requested_by: int
    criteria: dict[str, Any]
    removed: dict[str, int]
    total: int
    at: str
    digest: str
    audit_seq: int | None = None


class AuditLogOut(BaseModel):
    """One memory event of the company's audit chain."""

    seq: int
    action: str
    entity_type: str
    entity_id: str | None
    actor: str
    new: dict[str, Any] | None
    hash: str
    created_at: dt.datetime
