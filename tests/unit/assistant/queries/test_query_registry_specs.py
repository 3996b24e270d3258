"""The 19 data-query intents are registered with the permission and filters they declare."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from companion.assistant.queries import common
from companion.assistant.queries.purchasing import po_statuses
from companion.assistant.queries.registry import Period, QueryParams, all_queries, get
from companion.tenancy.permissions import PERMISSIONS

INTENTS = {
    "cash_balance": "finance.read",
    "ar_aging": "finance.read",
    "ap_aging": "finance.read",
    "cash_flow": "finance.read",
    "purchase_orders": "procurement.read",
    "pending_approvals": "procurement.read",
    "stock_levels": "inventory.read",
    "below_reorder": "inventory.read",
    "dashboard_summary": "finance.read",
    "sales_summary": "sales.read",
    "overdue_invoices": "finance.read",
    "invoice_status": "finance.read",
    "order_status": "procurement.read",
    "customer_list": "sales.read",
    "top_customers": "sales.read",
    "customer_balance": "finance.read",
    "supplier_balance": "finance.read",
    "profit_and_loss": "finance.read",
    "inventory_valuation": "inventory.read",
}


def test_every_contract_intent_is_registered_with_its_permission() -> None:
    registered = all_queries()
    assert set(registered) == set(INTENTS)
    for intent, permission in INTENTS.items():
        spec = registered[intent]
        assert spec.permission == permission, intent
        assert spec.permission in PERMISSIONS
        assert spec.description, intent


def test_declared_filters_are_query_params() -> None:
    fields = set(QueryParams.model_fields)
    for spec in all_queries().values():
        assert spec.filters <= fields, spec.intent
        assert spec.required <= spec.filters, spec.intent


def test_document_queries_require_a_reference() -> None:
    for intent in ("invoice_status", "order_status"):
        spec = get(intent)
        assert spec is not None
        assert spec.required == frozenset({"document_ref"})


def test_order_status_needs_the_permission_of_the_kind_of_order() -> None:
    spec = get("order_status")
    assert spec is not None
    assert spec.permission_for(QueryParams(document_ref="so-2026-0003")) == "sales.read"
    assert spec.permission_for(QueryParams(document_ref="PO-2026-0042")) == "procurement.read"
    assert spec.permission_for(QueryParams()) == "procurement.read"
    other = get("invoice_status")
    assert other is not None
    assert other.permission_for(QueryParams(document_ref="SO-2026-0003")) == "finance.read"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("pending", ("pending_approval",)),
        ("Pending Approval", ("pending_approval",)),
        ("partially-received", ("partially_received",)),
        ("open", ("approved", "partially_received")),
        ("canceled", ("cancelled",)),
        ("closed", ("closed",)),
        ("shipped", None),
    ],
)
def test_po_status_words(word: str, expected: tuple[str, ...] | None) -> None:
    assert po_statuses(word) == expected


def test_default_periods() -> None:
    today = dt.date(2026, 11, 23)
    mtd = common.month_to_date(today)
    assert (mtd.start, mtd.end) == (dt.date(2026, 11, 1), today)
    assert mtd.text() == "this month so far (1–23 Nov 2026)"
    last = common.last_12_months(today)
    assert (last.start, last.end) == (dt.date(2025, 11, 24), today)
    leap = common.last_12_months(dt.date(2028, 2, 29))
    assert leap.start == dt.date(2027, 3, 1)
    prev = common.previous_month(dt.date(2026, 1, 15))
    assert (prev.start, prev.end) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    assert prev.text() == "December 2025"
    given = common.resolve_period(
        QueryParams(period=Period(start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31))),
        today,
        common.month_to_date,
    )
    assert given.text() == "1 Jan – 31 Mar 2026"
    assert given.filter_value() == "2026-01-01..2026-03-31"


def test_cut_limits_rows() -> None:
    rows = [[i] for i in range(common.MAX_ROWS + 5)]
    shown, more = common.cut(rows, None)
    assert len(shown) == common.MAX_ROWS and more
    shown, more = common.cut(rows[:3], 5)
    assert len(shown) == 3 and not more
    assert common.shown_note(5, 9, "largest first") == " Showing 5 of 9 (largest first)."
    assert common.shown_note(9, 9, "largest first") == ""


def test_as_of_moment_is_now_for_today_and_end_of_day_before() -> None:
    today = dt.date(2026, 11, 23)
    assert common.as_of_moment(today, today).date() == today
    past = common.as_of_moment(dt.date(2026, 10, 31), today)
    assert past == dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=dt.UTC)


def test_query_modules_stay_small() -> None:
    folder = Path(common.__file__).parent
    for path in folder.glob("*.py"):
        assert len(path.read_text().splitlines()) < 600, path.name
