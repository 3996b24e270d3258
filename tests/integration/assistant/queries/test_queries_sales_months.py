"""Sales read from ``sales_months`` (whole months) answer exactly as the invoices do.

Many periods, breakdowns, filters, rankings and comparisons, asked of both companies of
``query_world`` (invoices in every status, voided ones, a draft, backdated ones) once
through the summary and once with it forced off: the results are identical.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from query_sql import TODAY
from query_world import World
from sqlalchemy import update
from sqlalchemy.orm import Session

from companion.analytics import engine
from companion.analytics import summary as kept
from companion.analytics.query import AnalyticsQuery
from companion.erp.invoicing.models import SalesMonth

MEASURES = ("sales", "tax_collected", "invoice_count", "average_invoice")
BY = (
    (),
    ("customer",),
    ("month",),
    ("customer", "month"),
    ("quarter",),
    ("year",),
    ("customer", "quarter"),
    ("week",),  # never from the summary: the same answer by the invoices
)
FIRST = dt.date(2025, 4, 1)


def _queries(w: World, n: int, seed: int) -> list[AnalyticsQuery]:
    rng = random.Random(seed)
    days = (TODAY - FIRST).days
    out = []
    for _ in range(n):
        start = FIRST + dt.timedelta(days=rng.randrange(days))
        if rng.random() < 0.4:
            start = start.replace(day=1)
        end = start + dt.timedelta(days=rng.randrange(20, 430))
        if rng.random() < 0.3:  # a month's last day
            end = (end.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            end -= dt.timedelta(days=1)
        by = rng.choice(BY)
        fields: dict[str, object] = {"measure": rng.choice(MEASURES), "by": by}
        if rng.random() < 0.3:
            fields["filters"] = {"customer": rng.choice(w.customers).id}
        if "customer" in by and rng.random() < 0.5:
            fields["top"] = rng.choice((1, 2, 3))
            fields["order"] = rng.choice(("desc", "asc"))
        elif not any(b in by for b in ("month", "quarter", "year", "week")):
            if rng.random() < 0.4:
                fields["compare"] = rng.choice(("previous_period", "last_year"))
        out.append(AnalyticsQuery(start=start, end=end, **fields))  # type: ignore[arg-type]
    return out


def test_the_summary_answers_exactly_as_the_invoices(qs: Session, a: World, b: World) -> None:
    summarised = 0
    for w, seed in ((a, 18), (b, 1802)):
        ctx = w.ctx["admin"]
        for query in _queries(w, 120, seed):
            measure, source = engine.validate(query, TODAY)
            period = (query.start, min(query.end, TODAY))  # type: ignore[type-var]
            summarised += kept.whole_months(query, measure, source, period) is not None
            fast = engine.run(qs, ctx, query, TODAY)
            slow = engine.run(qs, ctx, query, TODAY, summary=False)
            assert fast == slow, query
    assert summarised > 100  # most of the 240 questions read whole months from the summary


def test_whole_months_come_from_the_summary_and_the_edge_days_from_invoices(
    qs: Session, a: World
) -> None:
    ctx = a.ctx["admin"]
    query = AnalyticsQuery(
        measure="sales", by=("month",), start=dt.date(2026, 2, 20), end=dt.date(2026, 5, 10)
    )
    before = engine.run(qs, ctx, query, TODAY)
    assert before == engine.run(qs, ctx, query, TODAY, summary=False)
    # A changed summary row changes the answer of its (whole) month, and only that month.
    moved = qs.execute(
        update(SalesMonth)
        .where(SalesMonth.company_id == a.id, SalesMonth.month == dt.date(2026, 3, 1))
        .values(amount=SalesMonth.amount + Decimal("1000.00"))
    )
    after = engine.run(qs, ctx, query, TODAY)
    changed = {r[0]: r[1] - s[1] for r, s in zip(after.rows, before.rows, strict=True) if r != s}
    assert moved.rowcount >= 1  # type: ignore[attr-defined]
    assert changed == {"2026-03": Decimal("1000.00") * moved.rowcount}  # type: ignore[attr-defined]
    assert engine.run(qs, ctx, query, TODAY, summary=False) == before


def test_what_the_summary_cannot_answer_reads_the_invoices() -> None:
    measure = engine.MEASURES["sales"]
    jan, mar = dt.date(2026, 1, 1), dt.date(2026, 3, 31)

    def months(**fields: object) -> tuple[dt.date, dt.date] | None:
        query = AnalyticsQuery(measure="sales", start=jan, end=mar, **fields)  # type: ignore[arg-type]
        source = engine.validate(query, TODAY)[1]
        return kept.whole_months(query, measure, source, (query.start, query.end))

    assert months(by=("customer", "month")) == (jan, mar)
    assert months(by=("item",)) is None  # the invoice lines
    assert months(by=("warehouse",)) is None  # through the sales orders
    assert months(by=("status",)) is None
    assert months(status="paid") is None
    assert months(by=("week",)) is None
    query = AnalyticsQuery(measure="sales", start=dt.date(2026, 1, 2), end=dt.date(2026, 2, 27))
    source = engine.validate(query, TODAY)[1]
    assert kept.whole_months(query, measure, source, (query.start, query.end)) is None
    customers = engine.MEASURES["customers_buying"]
    query = AnalyticsQuery(measure="customers_buying", start=jan, end=mar)
    source = engine.validate(query, TODAY)[1]
    assert kept.whole_months(query, customers, source, (jan, mar)) is None  # distinct
