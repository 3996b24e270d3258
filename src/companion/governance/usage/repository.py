"""SQL of the usage events: writing them, and summing them by day, model, use case or user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from companion.auth.models import User
from companion.governance.usage.models import MODEL_CALL, TURN, UsageEvent
from companion.tenancy.context import RequestContext, scoped
from companion.tenancy.models import Company

S = TypeVar("S", bound="Select[*tuple[Any, ...]]")

# A breakdown dimension -> the column it groups on.
DIMENSIONS = ("model", "use_case", "user", "day", "provider")


def company_timezone(session: Session, company_id: int) -> str | None:
    """The company's IANA time zone as stored (None for an unknown company)."""
    return session.execute(select(Company.timezone).where(Company.id == company_id)).scalar()


def company_by_slug(session: Session, slug: str) -> tuple[int, str | None] | None:
    """A company's id and time zone by its slug."""
    row = session.execute(select(Company.id, Company.timezone).where(Company.slug == slug)).first()
    return (int(row[0]), row[1]) if row is not None else None


def company_by_id(session: Session, company_id: int) -> tuple[str, str | None] | None:
    """A company's slug and time zone by its id."""
    row = session.execute(
        select(Company.slug, Company.timezone).where(Company.id == company_id)
    ).first()
    return (str(row[0]), row[1]) if row is not None else None


def add_event(session: Session, event: UsageEvent) -> None:
    """Store one usage event (flushed with the unit of work)."""
    session.add(event)


def _in_range(stmt: S, ctx: RequestContext, start: dt.date, end: dt.date) -> S:
    return scoped(stmt, UsageEvent, ctx).where(UsageEvent.day >= start, UsageEvent.day <= end)


def totals(session: Session, ctx: RequestContext, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Turns, model calls (cached ones apart), tokens, cost and latency between two days."""
    is_call = UsageEvent.kind == MODEL_CALL
    stmt = _in_range(
        select(
            func.count().filter(UsageEvent.kind == TURN),
            func.count().filter(is_call),
            func.count().filter(is_call, UsageEvent.cached.is_(True)),
            func.coalesce(func.sum(UsageEvent.tokens_in).filter(is_call), 0),
            func.coalesce(func.sum(UsageEvent.tokens_out).filter(is_call), 0),
            func.coalesce(func.sum(UsageEvent.cost).filter(is_call), 0),
            func.avg(UsageEvent.latency_ms).filter(UsageEvent.kind == TURN),
        ),
        ctx,
        start,
        end,
    )
    row = session.execute(stmt).one()
    return {
        "turns": int(row[0]),
        "model_calls": int(row[1]),
        "cached_calls": int(row[2]),
        "tokens_in": int(row[3]),
        "tokens_out": int(row[4]),
        "cost": Decimal(str(row[5])).quantize(Decimal("0.000001")),
        "turn_latency_ms_avg": None if row[6] is None else round(float(row[6]), 2),
    }


def breakdown(
    session: Session, ctx: RequestContext, by: str, start: dt.date, end: dt.date
) -> list[dict[str, Any]]:
    """Model calls grouped by ``by`` (one of ``DIMENSIONS``), largest cost first."""
    if by == "user":
        key: Any = func.coalesce(User.username, "(none)")
    elif by == "day":
        key = UsageEvent.day
    else:
        key = func.coalesce(getattr(UsageEvent, by), "(none)")
    stmt = select(
        key.label("key"),
        func.count(),
        func.count().filter(UsageEvent.cached.is_(True)),
        func.coalesce(func.sum(UsageEvent.tokens_in), 0),
        func.coalesce(func.sum(UsageEvent.tokens_out), 0),
        func.coalesce(func.sum(UsageEvent.cost), 0),
        func.avg(UsageEvent.latency_ms),
    ).where(UsageEvent.kind == MODEL_CALL)
    if by == "user":
        stmt = stmt.outerjoin(User, User.id == UsageEvent.user_id)
    stmt = _in_range(stmt, ctx, start, end).group_by(key)
    rows = [
        {
            "key": r[0].isoformat() if isinstance(r[0], dt.date) else str(r[0]),
            "calls": int(r[1]),
            "cached_calls": int(r[2]),
            "tokens_in": int(r[3]),
            "tokens_out": int(r[4]),
            "cost": Decimal(str(r[5])).quantize(Decimal("0.000001")),
            "latency_ms_avg": None if r[6] is None else round(float(r[6]), 2),
        }
        for r in session.execute(stmt)
    ]
    if by == "day":
        return sorted(rows, key=lambda r: r["key"])
    return sorted(rows, key=lambda r: (-r["cost"], -(r["tokens_in"] + r["tokens_out"]), r["key"]))


def events(
    session: Session, ctx: RequestContext, start: dt.date, end: dt.date
) -> Iterator[tuple[UsageEvent, str | None]]:
    """Every event between two days, oldest first, with its user's name (the billing export)."""
    stmt = (
        _in_range(
            select(UsageEvent, User.username).outerjoin(User, User.id == UsageEvent.user_id),
            ctx,
            start,
            end,
        )
        .order_by(UsageEvent.created_at, UsageEvent.id)
        .execution_options(yield_per=500)
    )
    for row in session.execute(stmt):
        yield row[0], row[1]
