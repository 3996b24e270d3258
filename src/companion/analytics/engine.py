"""Validates an ``AnalyticsQuery`` against its measure and runs it as scoped, read-only SQL.

Every table a statement reads is restricted to the caller's company by construction:
``scoped()`` for the fact and its inner joins, ``in_company()`` in the ON clause of a left
join. Time buckets are grouped in SQL on both databases: a day is the date, a week its
Monday, a month, a fiscal quarter or a fiscal year a whole number counting them (months
since year 0, shifted by the fiscal year's first month), which ``time_bucket`` labels in
Python from the bucket's first day. A breakdown by a record (customer, item, ...) of a
measure that is one sum is ranked, sorted and cut in the database, its total and its count
of groups from the same statement (window aggregates), so Python reads only the rows shown
(18,000 customers or 39,000 customer-months at a million invoices).
The caller runs ``run`` inside a read-only scope (``assistant.queries.runner.read_only``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    Select,
    String,
    and_,
    cast,
    extract,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from companion.analytics import summary as kept
from companion.analytics.measures import COUNT, MEASURES, Measure, Source
from companion.analytics.query import DIMENSIONS, FILTERS, GRAINS, MAX_TOP, AnalyticsQuery
from companion.analytics.query import Unanswerable as Cant
from companion.erp.invoicing.models import OPEN_STATUSES
from companion.kit.money import quantize
from companion.tenancy.context import RequestContext, in_company, scoped
from companion.tenancy.figures import figure_permission

# Rows of a breakdown without top-N beyond this are cut (the totals still cover all).
MAX_ROWS = 500
_NONE_LABEL = "(none)"


@dataclass
class Bucket:
    """One row being summed: its labels and the measure's parts."""

    labels: list[Any]
    sort: tuple[Any, ...]
    parts: dict[str, Decimal] = field(default_factory=dict)

    def add(self, parts: Mapping[str, Any]) -> None:
        for name, value in parts.items():
            self.parts[name] = self.parts.get(name, Decimal(0)) + Decimal(value or 0)


@dataclass(frozen=True)
class AnalyticsResult:
    """A measure broken down as asked: rows, totals, the periods it covers."""

    query: AnalyticsQuery
    measure: Measure
    columns: list[str]
    rows: list[list[Any]]
    total: Decimal | None
    start: dt.date | None
    end: dt.date | None
    matched: int  # rows before a top-N or the row limit cut them
    tables: tuple[str, ...]
    previous_total: Decimal | None = None
    compare_start: dt.date | None = None
    compare_end: dt.date | None = None
    # The company's first record of the measure, where it falls after the compared period's
    # start: that period holds less than it says (or nothing), and the answer must say so.
    records_from: dt.date | None = None


def measure_of(query: AnalyticsQuery) -> Measure:
    """The declared measure, or ``Unanswerable`` naming what is known."""
    measure = MEASURES.get(query.measure)
    if measure is None:
        raise Cant(
            f"Companion has no measure called {query.measure!r}",
            details={"measures": sorted(MEASURES)},
        )
    return measure


def validate(query: AnalyticsQuery, today: dt.date) -> tuple[Measure, Source]:
    """The measure and the source that answers ``query``; ``Unanswerable`` with the reason."""
    measure = measure_of(query)
    if len([b for b in query.by if b in DIMENSIONS]) > 1 or len(query.by) > 2:
        raise Cant("I can break a figure down by one dimension and one time grain at a time")
    for name in query.by:
        if name not in DIMENSIONS and name not in GRAINS:
            raise Cant(f"Companion has no {name} to break {measure.label} down by")
    wanted = {d for d in query.by if d in DIMENSIONS} | set(query.filters)
    for name in sorted(wanted):
        if name not in measure.dimensions:
            reason = measure.lacks.get(name) or f"{measure.label} have no {name}"
            raise Cant(f"I can't break {measure.label} down by {name}: {reason}")
    for name in query.filters:
        if name not in FILTERS:
            raise Cant(f"I can't filter {measure.label} by {name}")
    if query.top is not None and not 1 <= query.top <= MAX_TOP:
        raise Cant(
            f"I can't rank the top {query.top:,}: I rank between 1 and {MAX_TOP} at a time",
            details={"top": query.top, "max": MAX_TOP},
        )
    if measure.snapshot and (query.grain or query.compare):
        raise Cant(
            f"I can't show {measure.label} over time: it is a balance as of today and "
            "Companion keeps no history of it to show by period or compare"
        )
    if query.compare and query.grain:
        raise Cant("I can compare totals or a breakdown by record, not a series over time yet")
    if not measure.snapshot:
        if query.start is None or query.end is None:
            raise Cant(f"{measure.label.capitalize()} need a period")
        if query.start > today:
            raise Cant(
                f"{calendar.month_abbr[query.start.month]} {query.start.year} hasn't started "
                "yet, so there are no figures for it; I can't forecast"
            )
    source = next((s for s in measure.sources if wanted <= set(s.dims)), None)
    if source is None:  # pragma: no cover - every dimension is some source's (tested)
        raise Cant(f"I can't break {measure.label} down by {', '.join(sorted(wanted))}")
    if query.status is not None and source.status is None:
        raise Cant(f"{measure.label.capitalize()} have no status")
    return measure, source


def run(
    session: Session,
    ctx: RequestContext,
    query: AnalyticsQuery,
    today: dt.date,
    *,
    summary: bool = True,
) -> AnalyticsResult:
    """Check the permission, validate and run ``query`` for the caller's company (whole
    months from the ledger's ``sales_months`` where it answers, unless ``summary`` is off)."""
    measure, source = validate(query, today)
    source = source if summary else replace(source, summary={})
    ctx.require(figure_permission(measure.figure))
    start, end = (None, None) if measure.snapshot else (query.start, min(query.end, today))  # type: ignore[type-var]
    if query.dimension is not None and not query.compare and _one_sum(measure):
        ranked = _ranked(session, ctx, query, measure, source, (start, end), today)
        return _recounted(session, ctx, ranked, source, today)
    current = _buckets(session, ctx, query, measure, source, (start, end), today)
    if query.grain and query.dimension is None and not query.top:
        _fill(current, query.grain, start, end, ctx.fiscal_year_start_month)
    previous: dict[tuple[Any, ...], Bucket] | None = None
    p_start = p_end = None
    if query.compare and start is not None and end is not None:
        p_start, p_end = compared_period(query, start, end)
        previous = _buckets(session, ctx, query, measure, source, (p_start, p_end), today)
    result = _result(query, measure, source, current, previous, (start, end), (p_start, p_end))
    if p_start is not None:
        first = _first_day(session, ctx, query, measure, source, today)
        if first is not None and first > p_start:
            result = replace(result, records_from=first)
    return _recounted(session, ctx, result, source, today)


def _first_day(
    session: Session,
    ctx: RequestContext,
    query: AnalyticsQuery,
    measure: Measure,
    source: Source,
    today: dt.date,
) -> dt.date | None:
    """The date of the company's first record of the measure (any party, any period)."""
    if source.date is None:
        return None
    whole = query.model_copy(update={"by": (), "top": None, "filters": {}})
    dialect = session.get_bind().dialect.name
    stmt = _statement(
        ctx, whole, measure, source, (None, None), today, dialect, ctx.fiscal_year_start_month
    )
    first = session.execute(stmt.with_only_columns(func.min(source.date))).scalar()
    if isinstance(first, str):  # SQLite without the column's type
        first = dt.date.fromisoformat(first[:10])
    if isinstance(first, dt.datetime):
        first = first.date()
    return first if isinstance(first, dt.date) else None


def recounts(measure: Measure, source: Source, query: AnalyticsQuery) -> bool:
    """Whether a breakdown's total is counted again rather than summed over its groups: a
    distinct count whose rows fall in several groups (a customer who bought in several
    months, an invoice whose lines sold several items)."""
    return bool(query.by) and COUNT in source.parts and (measure.distinct or source.per_line)


def _recounted(
    session: Session,
    ctx: RequestContext,
    result: AnalyticsResult,
    source: Source,
    today: dt.date,
) -> AnalyticsResult:
    """``result`` with its totals counted over the whole period(s) where the groups overlap."""
    query, measure = result.query, result.measure
    if not recounts(measure, source, query):
        return result
    whole = query.model_copy(update={"by": (), "top": None})

    def total(start: dt.date | None, end: dt.date | None) -> Decimal | None:
        buckets = _buckets(session, ctx, whole, measure, source, (start, end), today)
        return _value(measure, _sum_parts(buckets)) if buckets else _value(measure, {})

    previous = result.previous_total
    if result.compare_start is not None:
        previous = total(result.compare_start, result.compare_end)
    return replace(result, total=total(result.start, result.end), previous_total=previous)


def compared_period(query: AnalyticsQuery, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The other period: as given, the one before (like for like), or a year earlier."""
    if query.compare == "period" and query.compare_start and query.compare_end:
        return query.compare_start, query.compare_end
    if query.compare == "last_year":
        return _add_months(start, -12), _same_end(end, -12)
    if start.day == 1:  # whole months (or this month so far): the same days, months before
        # A period cut at today ("this quarter so far") is compared with the same days of
        # the period before it, the whole period's length earlier: a quarter, not 2 months.
        whole = query.end if query.end is not None and query.end > end else end
        months = (whole.year - start.year) * 12 + whole.month - start.month + 1
        return _add_months(start, -months), _same_end(end, -months)
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), end - dt.timedelta(days=days)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _same_end(end: dt.date, months: int) -> dt.date:
    """``end`` moved by months; a month's last day stays its month's last day."""
    moved = _add_months(end, months)
    if end.day == calendar.monthrange(end.year, end.month)[1]:
        return moved.replace(day=calendar.monthrange(moved.year, moved.month)[1])
    return moved


def _statement(
    ctx: RequestContext,
    query: AnalyticsQuery,
    measure: Measure,
    source: Source,
    period: tuple[dt.date | None, dt.date | None],
    today: dt.date,
    dialect: str,
    fy_start: int,
    names: bool = True,
) -> Select[Any]:
    """The grouped, company-scoped SELECT of the measure's parts (``names``: the record's
    name joined here; without, the caller joins it to the groups)."""
    months = kept.whole_months(query, measure, source, period)
    if months is not None:
        invoices = replace(source, summary={})
        return kept.statement(
            ctx,
            query,
            source,
            period,  # type: ignore[arg-type]
            months,
            lambda p: _statement(ctx, query, measure, invoices, p, today, dialect, fy_start, False),
            lambda date: _grain_key(date, query.grain, dialect, fy_start),  # type: ignore[arg-type]
            names,
        )
    columns: list[Any] = []
    label_model = None
    dim = query.dimension
    if dim is not None:
        d = source.dims[dim]
        columns.append(d.key.label("k"))
        if d.names is not None:
            if names:
                label_model = d.names
                columns.append(d.names.name.label("name"))
        else:
            columns.append((d.label if d.label is not None else d.key).label("name"))
    if query.grain is not None:
        columns.append(_grain_key(source.date, query.grain, dialect, fy_start).label("period"))
    parts = [expr.label(name) for name, expr in source.parts.items()]
    stmt = select(*columns, *parts).select_from(source.fact)
    for model, on in source.joins:
        stmt = scoped(stmt.join(model, on), model, ctx)
    for model, on in source.outer:
        stmt = stmt.outerjoin(model, and_(on, in_company(model, ctx)))
    if label_model is not None and dim is not None:
        key = source.dims[dim].key
        stmt = stmt.outerjoin(
            label_model, and_(label_model.id == key, in_company(label_model, ctx))
        )
    stmt = scoped(stmt, source.fact, ctx).where(*source.where)
    start, end = period
    if query.status == "overdue":
        if source.overdue is None:
            raise Cant(f"{measure.label.capitalize()} have no due date to be overdue by")
        stmt = stmt.where(source.overdue(today))  # open and past due, as of today
    if source.status is not None:
        statuses = (
            tuple(s for s in OPEN_STATUSES if s in source.statuses)  # "unpaid": open ones
            if query.status in ("unpaid", "overdue")
            else (query.status,)
            if query.status
            else source.statuses
        )
        if not statuses:
            raise Cant(f"{measure.label.capitalize()} are not paid or unpaid")
        stmt = stmt.where(source.status.in_(statuses))
    if not measure.snapshot and source.date is not None and start and end:
        stmt = stmt.where(source.date >= start, source.date <= end)
    for name, record_id in sorted(query.filters.items()):
        stmt = stmt.where(source.dims[name].key == record_id)
    return stmt.group_by(*columns) if columns else stmt


def _buckets(
    session: Session,
    ctx: RequestContext,
    query: AnalyticsQuery,
    measure: Measure,
    source: Source,
    period: tuple[dt.date | None, dt.date | None],
    today: dt.date,
) -> dict[tuple[Any, ...], Bucket]:
    fy = ctx.fiscal_year_start_month
    dialect = session.get_bind().dialect.name
    stmt = _statement(ctx, query, measure, source, period, today, dialect, fy)
    names = list(source.parts)
    out: dict[tuple[Any, ...], Bucket] = {}
    for row in session.execute(stmt):
        values = list(row)
        labels: list[Any] = []
        key: list[Any] = []
        sort: list[Any] = []
        if query.dimension is not None:
            record_id, label = values[0], values[1]
            values = values[2:]
            key.append(record_id)
            labels.append(_NONE_LABEL if label is None else str(label))
        if query.grain is not None:
            bucket_sort, bucket_label = time_bucket(
                first_day(values[0], query.grain, fy), query.grain, fy
            )
            values = values[1:]
            key.append(bucket_sort)
            sort.append(bucket_sort)
            labels.append(bucket_label)
        parts = dict(zip(names, values, strict=True))
        if query.dimension is None and query.grain is None and not any(parts.values()):
            continue  # an aggregate over no rows: nothing, not a zero row
        bucket = out.setdefault(tuple(key), Bucket(labels, (*sort, *labels)))
        bucket.add(parts)
    return out


def _one_sum(measure: Measure) -> bool:
    """Whether the measure's value is its one part (a sum or count), so SQL can rank it."""
    names = _part_names(measure)
    one = {n: Decimal(1) for n in names}
    return measure.additive and len(names) == 1 and measure.value(one) == 1


def _ranked(
    session: Session,
    ctx: RequestContext,
    query: AnalyticsQuery,
    measure: Measure,
    source: Source,
    dates: tuple[dt.date | None, dt.date | None],
    today: dt.date,
) -> AnalyticsResult:
    """A breakdown by a record, ranked (or ordered by period and name), cut and totalled by
    the database: one statement returns the rows shown, the total and the count of groups."""
    fy = ctx.fiscal_year_start_month
    dialect = session.get_bind().dialect.name
    dim = source.dims[query.dimension]  # type: ignore[index]
    # Named records are grouped by id alone, totalled, and their names joined to the groups
    # after (only the groups a sort by period reaches need one).
    groups = _statement(
        ctx, query, measure, source, dates, today, dialect, fy, names=False
    ).subquery()
    (part_name,) = source.parts
    summed = groups.c[part_name]
    grouped = select(
        groups,
        type_coerce(func.sum(summed).over(), summed.type).label("total"),
        func.count().over().label("groups"),
    ).subquery()
    part = grouped.c[part_name]
    source_rows: Any = grouped
    if dim.names is not None:
        name_col: Any = dim.names.name
        source_rows = grouped.outerjoin(
            dim.names, and_(dim.names.id == grouped.c.k, in_company(dim.names, ctx))
        )
    else:
        name_col = grouped.c.name
    label = func.coalesce(cast(name_col, String()), _NONE_LABEL)
    # Labels tie-break in code-point order, as Python's sort did.
    ordered_label = label.collate("C") if dialect == "postgresql" else label
    scale = getattr(part.type, "scale", None)
    value = func.round(part, scale) if scale is not None else part
    period = grouped.c.period if query.grain is not None else None
    if query.top:
        by_value = value.desc() if query.order == "desc" else value.asc()
        order = [by_value, ordered_label, *([period] if period is not None else [])]
    else:
        order = [*([period] if period is not None else []), ordered_label]
    stmt = (
        select(
            label.label("label"),
            *([period] if period is not None else []),
            part,
            grouped.c.total,
            grouped.c.groups,
        )
        .select_from(source_rows)
        .order_by(*order, grouped.c.k)
        .limit(query.top or MAX_ROWS)
    )
    rows: list[list[Any]] = []
    total = _value(measure, {})
    matched = 0
    for row in session.execute(stmt):
        labels: list[Any] = [row.label]
        if query.grain is not None:
            day = first_day(row.period, query.grain, fy)
            labels.append(time_bucket(day, query.grain, fy)[1])
        rows.append([*labels, _value(measure, {part_name: Decimal(row._mapping[part_name] or 0)})])
        total = _value(measure, {part_name: Decimal(row.total or 0)})
        matched = int(row.groups)
    return AnalyticsResult(
        query=query,
        measure=measure,
        columns=[*[c for c in (query.dimension, query.grain) if c], measure.name],
        rows=rows,
        total=total,
        start=dates[0],
        end=dates[1],
        matched=matched,
        tables=source.tables,
    )


def _grain_key(date: Any, grain: str, dialect: str, fy_start: int) -> Any:
    """The SQL key of the bucket holding ``date``: the date (day), its week's Monday, or the
    number of months, fiscal quarters or fiscal years since year 0 (``first_day`` reads it)."""
    if grain == "day":
        return date
    if grain == "week":
        if dialect == "postgresql":
            return cast(func.date_trunc("week", cast(date, DateTime())), Date())
        return func.date(date, "-6 days", "weekday 1")  # SQLite: back to Monday
    month = cast(extract("year", date), Integer) * 12 + cast(extract("month", date), Integer) - 1
    if grain == "month":
        return month
    shifted = month - literal(fy_start - 1, Integer)
    return shifted // 3 if grain == "quarter" else shifted // 12


def first_day(key: Any, grain: str, fy_start: int = 1) -> dt.date:
    """The first day of the bucket ``_grain_key`` names by ``key``."""
    if grain in ("day", "week"):
        return key if isinstance(key, dt.date) else dt.date.fromisoformat(str(key)[:10])
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    index = int(key) * months + (0 if grain == "month" else fy_start - 1)
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, 1)


def time_bucket(day: dt.date, grain: str, fy_start: int = 1) -> tuple[Any, str]:
    """(sort key, label) of the day/week/month/quarter/year holding ``day``."""
    if grain == "day":
        return day, day.isoformat()
    if grain == "week":
        monday = day - dt.timedelta(days=day.weekday())
        iso = monday.isocalendar()
        return monday, f"{iso.year}-W{iso.week:02d}"
    if grain == "month":
        return (day.year, day.month), f"{day.year:04d}-{day.month:02d}"
    offset = (day.month - fy_start) % 12
    # A fiscal year is labelled by the calendar year it ends in (FY2026: Jul 2025-Jun 2026).
    fy = day.year + (1 if fy_start != 1 and day.month >= fy_start else 0)
    if grain == "quarter":
        quarter = offset // 3 + 1
        label = f"{day.year}-Q{quarter}" if fy_start == 1 else f"FY{fy} Q{quarter}"
        return (fy, quarter), label
    return (fy,), (str(fy) if fy_start == 1 else f"FY{fy}")


def _fill(
    buckets: dict[tuple[Any, ...], Bucket],
    grain: str,
    start: dt.date | None,
    end: dt.date | None,
    fy_start: int,
) -> None:
    """Empty buckets of a series: a month with no sales is a zero, not a missing row."""
    if start is None or end is None or (end - start).days > 3700:
        return
    day = start
    while day <= end:
        sort, label = time_bucket(day, grain, fy_start)
        if (sort,) not in buckets:
            buckets[(sort,)] = Bucket([label], (sort, label))
        day += dt.timedelta(days=1)


def _value(measure: Measure, parts: Mapping[str, Decimal]) -> Decimal | None:
    full = {name: parts.get(name, Decimal(0)) for name in _part_names(measure)}
    value = measure.value(full)
    if value is None:
        return None
    if measure.unit == "money":
        return quantize(value)
    if measure.unit == "count":
        return Decimal(int(value))
    return value


def _part_names(measure: Measure) -> set[str]:
    return {name for s in measure.sources for name in s.parts}


def _sum_parts(buckets: Mapping[tuple[Any, ...], Bucket]) -> dict[str, Decimal]:
    total: dict[str, Decimal] = {}
    for bucket in buckets.values():
        for name, value in bucket.parts.items():
            total[name] = total.get(name, Decimal(0)) + value
    return total


def _result(
    query: AnalyticsQuery,
    measure: Measure,
    source: Source,
    current: dict[tuple[Any, ...], Bucket],
    previous: dict[tuple[Any, ...], Bucket] | None,
    period: tuple[dt.date | None, dt.date | None],
    compared: tuple[dt.date | None, dt.date | None],
) -> AnalyticsResult:
    name = measure.name
    head = [c for c in (query.dimension, query.grain) if c]
    total = _value(measure, _sum_parts(current)) if current else None
    if measure.additive and total is None:
        total = _value(measure, {})
    keys = list(current)
    if previous is not None:
        keys += [k for k in previous if k not in current]
    rows: list[list[Any]] = []
    sorts: list[tuple[Any, ...]] = []
    for key in keys:
        bucket = current.get(key) or (previous or {})[key]
        value = _value(measure, current[key].parts) if key in current else None
        if measure.additive and value is None:
            value = _value(measure, {})
        row: list[Any] = [*bucket.labels, value]
        if previous is not None:
            before = _value(measure, previous[key].parts) if key in previous else None
            if measure.additive and before is None:
                before = _value(measure, {})
            row += [before, *_change(value, before)]
        rows.append(row)
        sorts.append(bucket.sort)
    n = len(head)
    if query.top or (query.dimension is not None and query.grain is None):
        sign = -1 if query.order == "desc" else 1
        # Largest first (smallest for "lowest"), ties by name; no value (no invoices) last.
        rows.sort(key=lambda r: (r[n] is None, sign * (r[n] or 0), r[:n]))
    else:
        rows = [r for _, r in sorted(zip(sorts, rows, strict=True), key=lambda p: p[0])]
    matched = len(rows)
    rows = rows[: query.top] if query.top else rows[:MAX_ROWS]
    columns = [*head, name]
    previous_total = None
    if previous is not None:
        columns += [f"{name}_before", "change", "change_pct"]
        previous_total = _value(measure, _sum_parts(previous)) if previous else None
        if measure.additive and previous_total is None:
            previous_total = _value(measure, {})
    start, end = period
    return AnalyticsResult(
        query=query,
        measure=measure,
        columns=columns,
        rows=rows,
        total=total,
        start=start,
        end=end,
        matched=matched,
        tables=source.tables,
        previous_total=previous_total,
        compare_start=compared[0],
        compare_end=compared[1],
    )


def _change(now: Decimal | None, before: Decimal | None) -> list[Decimal | None]:
    """Absolute and % change; the % is None when there was nothing before."""
    if now is None or before is None:
        return [None, None]
    change = now - before
    pct = quantize(change * 100 / before, 1) if before else None
    return [change, pct]
