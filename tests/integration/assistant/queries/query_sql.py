"""Helpers of the figure-exactness tests: run a query through the runner, and plain SQL.

The expected figures are computed with hand-written SQL (``text()``) over the tables,
never with the query code under test.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, bindparam, text
from sqlalchemy.orm import Session

from companion.assistant.answers import AnswerFormat
from companion.assistant.queries.registry import QueryParams, QueryResult, get
from companion.assistant.queries.runner import run_query
from companion.tenancy.context import RequestContext

TODAY = dt.date(2026, 6, 15)
CENT = Decimal("0.01")
MILL = Decimal("0.001")


def ask(
    session: Session,
    ctx: RequestContext,
    intent: str,
    today: dt.date = TODAY,
    **params: Any,
) -> QueryResult:
    """Run ``intent`` the way the assistant does: permission check, then read-only."""
    spec = get(intent)
    assert spec is not None, intent
    return run_query(session, ctx, spec, QueryParams(**params), today)


def sql(session: Session, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of a hand-written statement; dates are bound as dates on both backends."""
    clause = text(statement)
    dates = [bindparam(k, v, type_=Date()) for k, v in params.items() if isinstance(v, dt.date)]
    if dates:
        clause = clause.bindparams(*dates)
    others = {k: v for k, v in params.items() if not isinstance(v, dt.date)}
    return [tuple(r) for r in session.execute(clause, others)]


def dec(value: Any) -> Decimal:
    """Money as the database returned it (REAL on SQLite, NUMERIC on PostgreSQL), to cents."""
    return Decimal(str(value or 0)).quantize(CENT)


def qty(value: Any) -> Decimal:
    """A quantity, to three places."""
    return Decimal(str(value or 0)).quantize(MILL)


def iso(value: Any) -> str:
    """A date column's value as ISO text (SQLite returns text, PostgreSQL a date)."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def dump(result: QueryResult) -> str:
    """Everything a user could see of an answer, as one string."""
    return json.dumps(
        {"rows": result.rows, "summary": result.summary, "extra": result.extra}, default=str
    )


def money_text(ctx: RequestContext, amount: Decimal) -> str:
    """How an answer writes ``amount`` for the caller's company."""
    return AnswerFormat.of(ctx).money(amount)
