"""Breakdowns with more groups than an answer shows: the database ranks, sorts and cuts
them, and the answer's total and count of groups still cover every group; and time buckets
grouped in SQL (weeks, months, fiscal quarters and years) equal the days bucketed in Python.
The expected figures come from hand-written SQL over the raw rows, grouped here in Python."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from query_sql import TODAY, ask, dec, sql
from query_world import World
from sqlalchemy.orm import Session

from companion.analytics import engine
from companion.analytics.query import AnalyticsQuery
from companion.assistant.queries import inventory, openitems

CENT = Decimal("0.01")


def _day(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def sales_by_customer_month(session: Session, w: World) -> dict[tuple[str, str], Decimal]:
    """Sales (subtotal) per customer and month of 2026, from the invoices themselves."""
    groups: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for name, day, amount in sql(
        session,
        """
        SELECT c.name, i.issue_date, i.subtotal FROM invoices i
        JOIN customers c ON c.id = i.customer_id
        WHERE i.company_id = :c AND i.kind = 'ar'
          AND i.status IN ('posted', 'partially_paid', 'paid')
        """,
        c=w.id,
    ):
        issued = _day(day)
        if dt.date(2026, 1, 1) <= issued <= TODAY:
            groups[(name, f"{issued:%Y-%m}")] += dec(amount)
    return groups


def test_a_customer_by_month_breakdown_cut_by_the_database_keeps_its_total_and_count(
    qs: Session, a: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = sales_by_customer_month(qs, a)
    assert len(expected) > 3  # the world has more groups than the cut below shows
    monkeypatch.setattr(engine, "MAX_ROWS", 3)
    query = AnalyticsQuery(
        measure="sales",
        by=("customer", "month"),
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 12, 31),
    )
    result = engine.run(qs, a.ctx["admin"], query, TODAY)
    assert result.matched == len(expected)
    assert result.total == sum(expected.values(), Decimal(0)).quantize(CENT)
    # By month, then customer name; the first three groups of that order.
    first = sorted(expected, key=lambda k: (k[1], k[0]))[:3]
    assert [(r[0], r[1]) for r in result.rows] == first
    assert [r[2] for r in result.rows] == [expected[k].quantize(CENT) for k in first]


def test_a_top_n_by_customer_ranks_in_the_database_and_totals_every_customer(
    qs: Session, a: World
) -> None:
    per_customer: dict[str, Decimal] = defaultdict(Decimal)
    for (name, _), amount in sales_by_customer_month(qs, a).items():
        per_customer[name] += amount
    assert len(per_customer) > 2
    query = AnalyticsQuery(
        measure="sales",
        by=("customer",),
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 12, 31),
        top=2,
    )
    result = engine.run(qs, a.ctx["admin"], query, TODAY)
    ranked = sorted(per_customer.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    assert [(r[0], r[1]) for r in result.rows] == [(n, v.quantize(CENT)) for n, v in ranked]
    assert result.matched == len(per_customer)
    assert result.total == sum(per_customer.values(), Decimal(0)).quantize(CENT)


def test_the_aging_cut_by_the_database_states_every_party_and_document(
    qs: Session, a: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = sql(
        qs,
        """
        SELECT c.name, count(*), sum(i.total - i.amount_paid) FROM invoices i
        JOIN customers c ON c.id = i.customer_id
        WHERE i.company_id = :c AND i.kind = 'ar' AND i.status IN ('posted', 'partially_paid')
        GROUP BY c.id, c.name
        """,
        c=a.id,
    )
    assert len(rows) > 1
    monkeypatch.setattr(openitems, "MAX_ROWS", 1)
    result = ask(qs, a.ctx["admin"], "ar_aging")
    largest = max(rows, key=lambda r: dec(r[2]))
    assert [r[0] for r in result.rows] == [largest[0]]
    assert result.rows[0][-1] == dec(largest[2])
    assert result.totals["total"] == sum((dec(r[2]) for r in rows), Decimal(0))
    assert result.provenance.record_count == sum(int(r[1]) for r in rows)
    assert f"Showing 1 of {len(rows)}" in result.summary


@pytest.mark.parametrize("shown", [1, 2])
def test_the_inventory_valuation_cut_by_the_database_values_every_item(
    qs: Session, a: World, monkeypatch: pytest.MonkeyPatch, shown: int
) -> None:
    rows = sql(
        qs,
        """
        SELECT it.sku, it.name, sum(l.quantity), it.unit_cost, count(*) FROM stock_levels l
        JOIN items it ON it.id = l.item_id
        WHERE l.company_id = :c GROUP BY it.id, it.sku, it.name, it.unit_cost
        """,
        c=a.id,
    )
    held = {
        (sku, name): (Decimal(str(q)) * dec(cost)).quantize(CENT, ROUND_HALF_UP)
        for sku, name, q, cost, _ in rows
        if Decimal(str(q))
    }
    assert len(held) > 2  # more items than either cut shows
    monkeypatch.setattr(inventory, "MAX_ROWS", shown)
    result = ask(qs, a.ctx["inventory"], "inventory_valuation")
    top = sorted(held.items(), key=lambda kv: (-kv[1], kv[0][0]))[:shown]
    assert [(r[0], r[1], r[4]) for r in result.rows] == [(k[0], k[1], v) for k, v in top]
    assert result.totals["value"] == sum(held.values(), Decimal(0))
    assert result.provenance.record_count == sum(int(r[4]) for r in rows)
    assert f"across {len(held)} items" in result.summary
    assert f"Showing {shown} of {len(held)}" in result.summary


@pytest.mark.parametrize("grain", ["week", "month", "quarter", "year"])
@pytest.mark.parametrize("fy_start", [1, 7])
def test_time_buckets_grouped_in_sql_equal_the_days_bucketed_in_python(
    qs: Session, a: World, grain: str, fy_start: int
) -> None:
    """Fiscal quarters and years (a July year included) from the SQL keys: the same buckets
    and sums as every invoice's day put in its bucket by ``time_bucket``."""
    start, end = dt.date(2025, 1, 1), TODAY
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for day, amount in sql(
        qs,
        """
        SELECT issue_date, subtotal FROM invoices
        WHERE company_id = :c AND kind = 'ar' AND status IN ('posted', 'partially_paid', 'paid')
        """,
        c=a.id,
    ):
        issued = _day(day)
        if start <= issued <= end:
            expected[engine.time_bucket(issued, grain, fy_start)[1]] += dec(amount)
    assert len(expected) > 1
    ctx = dataclasses.replace(a.ctx["admin"], fiscal_year_start_month=fy_start)
    query = AnalyticsQuery(measure="sales", by=(grain,), start=start, end=end)
    result = engine.run(qs, ctx, query, TODAY)
    got = {r[0]: r[1] for r in result.rows if r[1]}
    assert got == {k: v.quantize(CENT) for k, v in expected.items() if v}
