"""Knowledge entry shapes: what callers send in and what the API returns."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from companion.kit.fields import Text
from companion.tenancy.permissions import ROLES

DocType = Literal["FAQ", "POLICY", "PROCEDURE", "GUIDE", "NOTE"]
IngestStatus = Literal["created", "updated", "unchanged"]
MAX_CONTENT_CHARS = 2_000_000


def _roles(values: list[str]) -> list[str]:
    cleaned = sorted({v.strip().lower() for v in values if v.strip()})
    unknown = [r for r in cleaned if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(unknown)}; known: {', '.join(ROLES)}")
    return cleaned


def _tags(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        tag = re.sub(r"\s+", " ", value).strip().lower()
        if tag:
            seen.setdefault(tag[:64], None)
    return list(seen)


def _text(value: str) -> str:
    value = re.sub(r"\s+", " ", value).strip()
    if not value:
        raise ValueError("must not be blank")
    return value


Roles = Annotated[list[Text], Field(max_length=len(ROLES)), AfterValidator(_roles)]
Tags = Annotated[list[Text], Field(max_length=20), AfterValidator(_tags)]
Title = Annotated[Text, Field(max_length=200), AfterValidator(_text)]


class EntryMeta(BaseModel):
    """What a caller may say about a document besides its content."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    type: DocType = "POLICY"
    tags: Tags = Field(default_factory=list)
    module: Annotated[Text | None, Field(max_length=64)] = None
    roles: Roles = Field(default_factory=list)
    topic: Annotated[Text | None, Field(max_length=120)] = None
    source_name: Annotated[Text | None, Field(max_length=255)] = None


class RolesIn(BaseModel):
    """Who may read a document: roles (any one of them suffices); empty = everyone with kb.read."""

    model_config = ConfigDict(extra="forbid")

    roles: Roles


class EntryIn(EntryMeta):
    """A knowledge entry given as raw text (Markdown is understood)."""

    title: Title
    content: Annotated[Text, Field(min_length=1, max_length=MAX_CONTENT_CHARS)]


class ChunkOut(BaseModel):
    id: str  # "kb_12#3", as cited in chat answers
    ordinal: int
    section: str | None
    text: str


class DocumentOut(BaseModel):
    id: int
    title: str
    type: str
    tags: list[str]
    module: str | None
    roles: list[str]
    topic: str | None
    version: int
    content_hash: str
    source_name: str | None
    media_type: str | None
    size_bytes: int
    is_global: bool
    chunk_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


class DocumentDetail(DocumentOut):
    content: str
    chunks: list[ChunkOut]


class IngestOut(BaseModel):
    """The result of adding a document: created, updated (new version) or unchanged."""

    status: IngestStatus
    document: DocumentOut


class JobAccepted(BaseModel):
    """The answer to work accepted as a background job (202)."""

    job_id: str
    status: str
    status_url: str
