"""Members with no activity ("items not sold in 90 days") and a filtered figure's share.

``inactive`` lists the active customers, items or suppliers for which a measure's fact has
no row in the period: a ``NOT EXISTS`` over the measure's own source (its statuses, its
date, its conditions), so "no sales" means exactly what "sales" means. An item's stock on
hand is shown beside it. ``share`` runs one query with and without its filters: the part,
the whole and the part's percentage of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, exists, func, literal, not_, select, type_coerce
from sqlalchemy.orm import Session

from companion.analytics.engine import AnalyticsResult, measure_of, run
from companion.analytics.measures import Measure, Source
from companion.analytics.query import MAX_TOP, AnalyticsQuery
from companion.analytics.query import Unanswerable as Cant
from companion.erp.items.models import Item
from companion.erp.parties.models import Customer, Supplier
from companion.erp.stock.models import StockLevel
from companion.kit.db import Money
from companion.kit.money import quantize
from companion.tenancy.context import RequestContext, in_company, scoped
from companion.tenancy.figures import figure_permission

Member = Literal["customer", "item", "supplier"]
_MODELS: dict[str, Any] = {"customer": Customer, "item": Item, "supplier": Supplier}


class InactiveQuery(BaseModel):
    """Which members had none of ``measure`` in the period."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    member: Member
    measure: str
    start: dt.date
    end: dt.date
    top: int = MAX_TOP  # rows shown; the count covers every one


@dataclass(frozen=True)
class InactiveResult:
    """The members without activity: shown rows (name, and stock for items) and the count."""

    query: InactiveQuery
    measure: Measure
    columns: list[str]
    rows: list[list[Any]]
    matched: int
    active: int  # active members of the kind, whether they had activity or not
    start: dt.date
    end: dt.date
    tables: tuple[str, ...]


def inactive(
    session: Session, ctx: RequestContext, query: InactiveQuery, today: dt.date
) -> InactiveResult:
    """Active members of the caller's company with no row of the measure in the period."""
    measure = measure_of(AnalyticsQuery(measure=query.measure))
    if measure.snapshot:
        raise Cant(f"{measure.label.capitalize()} are a balance as of today, not activity")
    source = next((s for s in measure.sources if query.member in s.dims), None)
    if source is None or source.date is None:
        raise Cant(f"{measure.label.capitalize()} are not recorded per {query.member}")
    if not 1 <= query.top <= MAX_TOP:
        raise Cant(f"I can list between 1 and {MAX_TOP} at a time")
    if query.start > query.end:
        raise Cant("The period ends before it starts")
    if query.start > today:
        raise Cant("That period hasn't started yet, so there is no activity in it to look at")
    ctx.require(figure_permission(measure.figure))
    end = min(query.end, today)
    model = _MODELS[query.member]
    activity = _activity(ctx, source, model, query.start, end)
    base = scoped(select(model.id).where(model.is_active.is_(True)), model, ctx)
    active = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    quiet = base.where(not_(exists(activity)))
    matched = session.execute(select(func.count()).select_from(quiet.subquery())).scalar_one()
    columns: list[str] = [query.member]
    selected: list[Any] = [model.name]
    if model is Item:
        on_hand = (
            select(func.coalesce(func.sum(StockLevel.quantity), 0))
            .where(StockLevel.item_id == Item.id, in_company(StockLevel, ctx))
            .scalar_subquery()
        )
        columns.append("stock_on_hand")
        selected.append(type_coerce(on_hand, Money(18, 3)))
    stmt = (
        scoped(select(*selected).where(model.is_active.is_(True)), model, ctx)
        .where(not_(exists(activity)))
        .order_by(model.name, model.id)
        .limit(query.top)
    )
    rows = [list(r) for r in session.execute(stmt)]
    return InactiveResult(
        query=query,
        measure=measure,
        columns=columns,
        rows=rows,
        matched=int(matched),
        active=int(active),
        start=query.start,
        end=end,
        tables=(*source.tables, model.__tablename__),
    )


def _activity(ctx: RequestContext, source: Source, model: Any, start: dt.date, end: dt.date) -> Any:
    """The correlated subquery: a row of ``source`` for the outer member in the period."""
    key = source.dims[_member_of(model)].key
    date: Any = source.date
    stmt: Any = select(literal(1)).select_from(source.fact)
    for joined, on in source.joins:
        stmt = scoped(stmt.join(joined, on), joined, ctx)
    stmt = scoped(stmt, source.fact, ctx).where(*source.where)
    if source.status is not None:
        stmt = stmt.where(source.status.in_(source.statuses))
    return stmt.where(and_(key == model.id, date >= start, date <= end)).correlate(model)


def _member_of(model: Any) -> str:
    return next(name for name, m in _MODELS.items() if m is model)


@dataclass(frozen=True)
class Share:
    """A filtered figure, the figure without its filters, and the part's percentage."""

    part: AnalyticsResult
    whole: AnalyticsResult
    pct: Decimal | None  # None when the whole is nothing


def share(session: Session, ctx: RequestContext, query: AnalyticsQuery, today: dt.date) -> Share:
    """``query`` (with its filters) as a share of the same figure for the whole company."""
    if not query.filters:
        raise Cant("A share needs a part: name the customer, supplier or item it is of")
    if query.by or query.compare or query.top:
        raise Cant("I can give one filtered figure's share of the total at a time")
    measure = measure_of(query)
    if not measure.additive:
        raise Cant(f"{measure.label.capitalize()} don't add up, so they have no share of a total")
    part = run(session, ctx, query, today)
    whole = run(session, ctx, query.model_copy(update={"filters": {}}), today)
    pct = None
    if whole.total and part.total is not None:
        pct = quantize(part.total * 100 / whole.total, 1)
    return Share(part, whole, pct)
