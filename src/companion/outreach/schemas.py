"""Shapes outreach takes in and gives out, and the structured output asked of a model."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from companion.kit.fields import Id, Text

RecordRef = Id
DocumentNumber = Annotated[
    Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)
]


class EmailDraft(BaseModel):
    """What a model may write: the subject and body only; recipients come from the ledger.

    No ``max_length`` here: it becomes a JSON-schema ``maxLength``, which llama.cpp turns
    into a grammar of thousands of nested optionals that crashes the sampler. Lengths are
    checked after generation (``drafts.MAX_SUBJECT``, ``drafts.MAX_BODY``).
    """

    subject: str
    body: str


class FactorOut(BaseModel):
    """One scoring factor: its value (null when it has none), weight and points."""

    name: str
    label: str
    value: Decimal | None
    unit: Literal["days", "amount", "percent"]
    weight: int
    points: Decimal
    detail: str


class CollectionScore(BaseModel):
    """A customer's collection-priority score with its factors and rationale."""

    customer_id: int
    customer_name: str
    currency: str
    as_of: dt.date
    score: int = Field(ge=0, le=100)
    band: Literal["high", "medium", "low"]
    overdue_amount: Decimal
    overdue_invoices: int
    outstanding: Decimal
    factors: list[FactorOut]
    rationale: str
    rationale_by: Literal["model", "template"]
    # generated | policy_off | provider_failed | empty | guard_rejected | not_requested
    reason: str
    offending: list[str] = Field(default_factory=list)


class PriorityOut(BaseModel):
    """One row of the ranked collection list (template rationale: no model per row)."""

    rank: int
    customer_id: int
    customer_name: str
    score: int
    band: Literal["high", "medium", "low"]
    overdue_amount: Decimal
    overdue_invoices: int
    outstanding: Decimal
    factors: list[FactorOut]
    rationale: str


class ReminderIn(BaseModel):
    """``POST /ai/drafts/payment-reminder``."""

    model_config = ConfigDict(extra="forbid")

    customer_id: RecordRef


class FollowUpIn(BaseModel):
    """``POST /ai/drafts/supplier-follow-up``: the order's id or number (``PO-2026-0042``)."""

    model_config = ConfigDict(extra="forbid")

    purchase_order: RecordRef | DocumentNumber


class Recipient(BaseModel):
    """Who a draft is addressed to, always from the ledger."""

    name: str
    email: str


class DocumentFact(BaseModel):
    """A document a draft is about, with the figures it states."""

    number: str
    date: dt.date | None = None
    due_date: dt.date | None = None
    days_late: int | None = None
    amount: Decimal | None = None


class DraftOut(BaseModel):
    """An e-mail draft: never sent; who wrote it and, when the template, why."""

    kind: Literal["payment_reminder", "supplier_follow_up"]
    subject: str
    body: str
    recipients: list[Recipient]
    warnings: list[str]
    currency: str
    total: Decimal | None
    documents: list[DocumentFact]
    drafted_by: Literal["model", "template"]
    # generated | policy_off | provider_failed | invalid_output | empty | too_long |
    # guard_rejected
    reason: str
    offending: list[str] = Field(default_factory=list)
    model: str | None = None
    sent: Literal[False] = False
