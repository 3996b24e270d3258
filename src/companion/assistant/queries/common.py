"""What the data queries share: periods, sums, party look-ups, provenance, empty answers.

Nothing here registers a query. Every look-up is scoped to the caller's company, and a
record of another company is treated exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select, type_coerce
from sqlalchemy.orm import QueryableAttribute, Session

from companion.assistant.answers import AnswerFormat, date_text, period_text
from companion.assistant.queries.registry import Provenance, QueryParams, QueryResult
from companion.erp.invoicing.models import InvoiceKind
from companion.kit.db import Money
from companion.tenancy.context import RequestContext, scoped

# The business definitions (open, overdue, sales, below reorder, ...) live in the ERP's
# models modules and are imported from there, never written here (docs/decisions/0002).
AR = InvoiceKind.AR.value
AP = InvoiceKind.AP.value

# Lists longer than this are cut in the data (the totals and the sentence still cover all).
MAX_ROWS = 200


@dataclass(frozen=True)
class Window:
    """A resolved, inclusive period and how to say it."""

    start: dt.date
    end: dt.date
    default_label: str | None = None
    # A year or quarter asked for: "calendar" or "fiscal", and its name (nlu/entities/periods).
    basis: str | None = None
    name: str | None = None

    def text(self) -> str:
        """``October 2026`` or, for a defaulted period, ``this month so far (1–23 Nov 2026)``.

        Years and quarters say which calendar they follow: ``2026 (calendar year)``,
        ``fiscal year 2026–27 to date (1 Jul – 20 Nov 2026)``.
        """
        dates = period_text(self.start, self.end)
        if self.default_label:
            return f"{self.default_label} ({dates})"
        if self.name and self.basis == "calendar":
            return f"{dates} ({self.name})"
        return f"{self.name} ({dates})" if self.name else dates

    def filter_value(self) -> str:
        """``2026-11-01..2026-11-23`` for the provenance line."""
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def month_to_date(today: dt.date) -> Window:
    """The default period of flow figures: the first of this month to today."""
    return Window(today.replace(day=1), today, "this month so far")


def last_12_months(today: dt.date) -> Window:
    """The twelve months ending today (the same day a year ago is excluded)."""
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return Window(year_ago + dt.timedelta(days=1), today, "the last 12 months")


def previous_month(today: dt.date) -> Window:
    """The whole calendar month before today's."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    return Window(end.replace(day=1), end)


def resolve_period(
    params: QueryParams, today: dt.date, default: Callable[[dt.date], Window]
) -> Window:
    """The period asked for, or the query's default when none was given."""
    if params.period is None:
        return default(today)
    period = params.period
    return Window(period.start, period.end, basis=period.basis, name=period.name)


def money_sum(expr: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[Decimal]:
    """``SUM(expr)`` as exact money on both backends (0.00 when there is nothing to sum)."""
    return type_coerce(func.coalesce(func.sum(expr), 0), Money())


def qty_sum(expr: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[Decimal]:
    """``SUM(expr)`` of quantities, three decimals."""
    return type_coerce(func.coalesce(func.sum(expr), 0), Money(18, 3))


def lookup_name(session: Session, ctx: RequestContext, model: Any, record_id: int) -> str | None:
    """The name of the caller's company's record, or None (missing or another company's)."""
    stmt = scoped(select(model.name), model, ctx).where(model.id == record_id)
    name = session.execute(stmt).scalar_one_or_none()
    return None if name is None else str(name)


def as_of_moment(day: dt.date, today: dt.date) -> dt.datetime:
    """When the figures stand: now for today, else the end of the day asked about."""
    if day >= today:
        return dt.datetime.combine(today, dt.datetime.now(dt.UTC).time(), dt.UTC).replace(
            microsecond=0
        )
    return dt.datetime.combine(day, dt.time(23, 59, 59), dt.UTC)


def age_words(params: QueryParams) -> str:
    """The day bound of ``params`` in words ("more than 60 days"), or "" without one."""
    low, high = params.min_days, params.max_days
    if low is not None and high is not None:
        return f"{low} to {high} days" if low != high else _days(low)
    if low is not None:
        return f"more than {_days(low - 1)}" if low > 1 else f"at least {_days(low)}"
    if high is not None:
        return f"less than {_days(high + 1)}"
    return ""


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def given_filters(params: QueryParams, names: Sequence[str]) -> dict[str, Any]:
    """The filters the caller set among ``names``, JSON-friendly for the provenance."""
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(params, name)
        if value is None:
            continue
        if name == "period":
            out[name] = f"{value.start.isoformat()}..{value.end.isoformat()}"
        elif isinstance(value, dt.date):
            out[name] = value.isoformat()
        elif isinstance(value, Decimal):
            out[name] = str(value)
        else:
            out[name] = value
    return out


@dataclass
class Answer:
    """Builds a ``QueryResult`` in the caller's currency with its provenance."""

    ctx: RequestContext
    today: dt.date
    tables: list[str]
    filters: dict[str, Any]
    as_of: dt.date | None = None

    @property
    def fmt(self) -> AnswerFormat:
        return AnswerFormat.of(self.ctx)

    def result(
        self,
        columns: list[str],
        rows: list[list[Any]],
        totals: dict[str, Decimal],
        summary: str,
        record_count: int,
        extra: dict[str, Any] | None = None,
    ) -> QueryResult:
        """The finished answer."""
        day = self.as_of or self.today
        return QueryResult(
            columns=columns,
            rows=rows,
            totals=totals,
            currency=self.ctx.currency,
            summary=summary,
            provenance=Provenance(
                tables=self.tables,
                filters=self.filters,
                record_count=record_count,
                as_of=as_of_moment(day, self.today),
            ),
            extra=extra or {},
        )

    def empty(self, columns: list[str], summary: str) -> QueryResult:
        """An answer with no rows: a clear sentence, never an error."""
        return self.result(columns, [], {}, summary, 0)


def not_found(answer: Answer, columns: list[str], what: str) -> QueryResult:
    """``I couldn't find that customer.``: the same for a missing and a foreign record."""
    return answer.empty(columns, f"I couldn't find {what}.")


def cut(rows: list[list[Any]], top_n: int | None) -> tuple[list[list[Any]], bool]:
    """Rows limited to ``top_n`` (or ``MAX_ROWS``), and whether any were left out."""
    limit = min(top_n, MAX_ROWS) if top_n else MAX_ROWS
    return rows[:limit], len(rows) > limit


def shown_note(shown: int, matched: int, ordering: str) -> str:
    """`` Showing 5 of 23 (largest first).`` when the rows are a part of what matched."""
    if shown >= matched:
        return ""
    return f" Showing {shown:,} of {matched:,} ({ordering})."


def on_date(day: dt.date) -> str:
    """``as of 23 Nov 2026``."""
    return f"as of {date_text(day)}"
