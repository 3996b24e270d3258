"""The chat request and response of CONTRACT.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from companion.kit.fields import Text


class PageContext(BaseModel):
    """Where in the ERP the user is asking from."""

    model_config = ConfigDict(extra="forbid")

    page: Text | None = Field(default=None, max_length=200)
    module: Text | None = Field(default=None, max_length=64)
    # The document the page shows (e.g. PO-2026-0042): "approve this PO" means that one.
    record: Text | None = Field(default=None, max_length=64)


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Not blank: stated in the OpenAPI, checked by Assistant.validated (its own 422).
    message: Text = Field(json_schema_extra={"minLength": 1, "pattern": r"\S"})
    conversation_id: Text | None = Field(default=None, max_length=64)
    context: PageContext = Field(default_factory=PageContext)


class TableData(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    totals: dict[str, Any] = Field(default_factory=dict)
    currency: str | None = None
    provenance: str | None = None
    # Names the question gave that these figures are not filtered by ({entity, text}): a
    # list the query can't narrow to them is for the whole company, and the message says so.
    not_applied: list[dict[str, str]] | None = None
    # Ad-hoc answers (the analytics skill): the measure, the query it ran, each column's
    # unit, a chart hint for series ({kind: line|bar, x, y}), rows matched before a cut.
    measure: str | None = None
    query: dict[str, Any] | None = None
    units: dict[str, str] | None = None
    chart: dict[str, str] | None = None
    matched: int | None = None
    # A list of documents (issue 13): which kind, "invoice", "bill", "purchase_order" or
    # "sales_order"; its rows are number, party, date, status, amount (and open amount).
    documents: str | None = None


class Source(BaseModel):
    id: str
    title: str
    snippet: str
    url: str | None = None
    section: str | None = None
    number: int | None = None  # the [n] that cites it in the message


class PendingConfirmation(BaseModel):
    token: str
    action: str
    summary: str
    expires_at: dt.datetime
    preview: dict[str, Any] | None = None


class ResponseContext(BaseModel):
    company: str
    roles: list[str]
    module: str | None = None
    page: str | None = None
    # The turn context (assistant.context): the company's facts, what waits for the caller,
    # the memories related to the message, open alerts.
    company_name: str | None = None
    currency: str | None = None
    fiscal_year_start_month: int | None = None
    timezone: str | None = None
    pending: list[dict[str, Any]] = Field(default_factory=list)
    memories: list[dict[str, Any]] = Field(default_factory=list)
    alerts: list[dict[str, Any]] = Field(default_factory=list)


class Usage(BaseModel):
    latency_ms: float
    llm: dict[str, Any] | None = None
    # Metering (governance.usage): the turn's model calls, tokens and cost; the budgets at or
    # past their soft cap (80%); the calls a budget refused (the answer came without them).
    model_calls: int = 0
    cached_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    currency: str | None = None
    warnings: list[dict[str, Any]] | None = None
    refused: list[dict[str, Any]] | None = None


class ChatResponse(BaseModel):
    """One answer; the keys of CONTRACT.md's "Chat response"."""

    conversation_id: str
    # The assistant message this answer was recorded as: what feedback is given on.
    message_id: str | None = None
    message: str
    intent: str
    confidence: float
    entities: dict[str, Any]
    skill: str
    data: TableData | dict[str, Any] | None = None
    sources: list[Source] | None = None
    pending_confirmation: PendingConfirmation | None = None
    choices: list[str] | None = None
    context: ResponseContext
    usage: Usage | None = None


class MessageOut(BaseModel):
    id: str
    role: str
    content: str
    intent: str | None
    confidence: float | None
    entities: dict[str, Any] | None
    skill: str | None
    data: dict[str, Any] | None
    sources: list[dict[str, Any]] | None
    latency_ms: float | None
    rating: int | None
    created_at: dt.datetime


class ConversationOut(BaseModel):
    id: str
    title: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]
