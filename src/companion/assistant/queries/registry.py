"""The data-query registry: each query module registers its function with ``register``.

A query is a typed function over the ERP tables: it takes the caller's context and
``QueryParams`` and returns a ``QueryResult`` (rows, totals, currency, provenance and a
sentence written from the figures). It declares the figure it reads; the permission comes
from ``tenancy.figures`` (the table the REST routes read too), and the runner checks it
before anything is read, and runs the query in a read-only transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from companion.kit.registry import Registry
from companion.tenancy.context import RequestContext
from companion.tenancy.figures import figure_permission


class Period(BaseModel):
    """An inclusive date range; a year or quarter also says which calendar it follows."""

    start: dt.date
    end: dt.date
    basis: str | None = None  # "fiscal" or "calendar"
    name: str | None = None  # "fiscal year 2026–27 to date", "calendar year"


class QueryParams(BaseModel):
    """Every filter a data question can carry; each query reads the ones it supports."""

    model_config = ConfigDict(extra="forbid")

    period: Period | None = None
    as_of: dt.date | None = None
    customer_id: int | None = None
    supplier_id: int | None = None
    item_id: int | None = None
    warehouse_id: int | None = None
    bank_account_id: int | None = None
    status: str | None = None
    document_ref: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    top_n: int | None = Field(default=None, ge=1, le=100)
    # How long a document has been so, in whole days, both bounds inclusive ("overdue by
    # more than 60 days": min_days 61; "waiting less than a week": max_days 6).
    min_days: int | None = Field(default=None, ge=0, le=36_500)
    max_days: int | None = Field(default=None, ge=0, le=36_500)


@dataclass(frozen=True)
class Provenance:
    """Where the figures came from: tables, filters, how many records, as of when."""

    tables: list[str]
    filters: dict[str, Any]
    record_count: int
    as_of: dt.datetime

    def line(self) -> str:
        """A short human line: 'From 214 invoices (filters: ...) as of 2026-11-23 10:00 UTC.'"""
        filters = ", ".join(f"{k}={v}" for k, v in self.filters.items() if v is not None)
        where = f"; {filters}" if filters else ""
        return (
            f"Source: {', '.join(self.tables)} ({self.record_count} records{where}), "
            f"as of {self.as_of:%Y-%m-%d %H:%M} UTC."
        )


@dataclass(frozen=True)
class QueryResult:
    """The answer to a data question: figures for the UI and a sentence for the user."""

    columns: list[str]
    rows: list[list[Any]]
    totals: dict[str, Decimal]
    currency: str
    summary: str
    provenance: Provenance
    extra: dict[str, Any] = field(default_factory=dict)


QueryFn = Callable[[Session, RequestContext, QueryParams, dt.date], QueryResult]


@dataclass(frozen=True)
class QuerySpec:
    """A registered query: intent, the figure it reads and its permission, its filters."""

    intent: str
    figure: str
    permission: str
    fn: QueryFn
    filters: frozenset[str]
    description: str
    required: frozenset[str] = frozenset()
    # (document prefix, figure): a query over several kinds of document (order_status:
    # PO- or SO-) reads the figure of the kind asked about, not one for all of them.
    ref_figures: tuple[tuple[str, str], ...] = ()
    # How answers name it ("sales", "cash balance"), and whether it answers with a list of
    # records rather than a figure: a name it can't filter by refuses a figure but only
    # scopes a list (see skills/unapplied.py).
    title: str = ""
    lists: bool = False

    def figure_for(self, params: QueryParams) -> str:
        """The figure this call reads (by ``document_ref`` prefix where declared)."""
        ref = (params.document_ref or "").strip().upper()
        for prefix, figure in self.ref_figures:
            if ref.startswith(f"{prefix}-"):
                return figure
        return self.figure

    def permission_for(self, params: QueryParams) -> str:
        """The permission this call needs: the one that reads its figure."""
        return figure_permission(self.figure_for(params))


# The package's query modules register on import (not this one, nor the runner).
_REGISTRY: Registry[QuerySpec] = Registry(
    "companion.assistant.queries",
    skip={"registry", "runner"},
    duplicate="query for {name!r} registered twice",
)


def register(
    intent: str,
    *,
    figure: str,
    filters: set[str] | frozenset[str] = frozenset(),
    required: set[str] | frozenset[str] = frozenset(),
    description: str = "",
    ref_figures: dict[str, str] | None = None,
    title: str | None = None,
    lists: bool = False,
) -> Callable[[QueryFn], QueryFn]:
    """Register ``fn`` as the query answering ``intent`` from ``figure`` (see tenancy.figures)."""

    def deco(fn: QueryFn) -> QueryFn:
        spec = QuerySpec(
            intent=intent,
            figure=figure,
            permission=figure_permission(figure),
            fn=fn,
            filters=frozenset(filters),
            description=description or (fn.__doc__ or "").strip().splitlines()[0],
            required=frozenset(required),
            ref_figures=tuple(sorted((ref_figures or {}).items())),
            title=title or intent.replace("_", " "),
            lists=lists,
        )
        _REGISTRY.register(intent, spec)
        return fn

    return deco


def get(intent: str) -> QuerySpec | None:
    """The query registered for ``intent``, if any."""
    return _REGISTRY.get(intent)


def all_queries() -> dict[str, QuerySpec]:
    """Every registered query by intent."""
    return _REGISTRY.items()
