"""One definition per business measure (issue 13 part 2, docs/decisions/0002): on the demo,
for both companies, a figure read three ways is the same figure.

- the fixed data query (what chat answers: ``assistant/queries``),
- the semantic layer's measure (what an ad-hoc question answers: ``analytics``),
- the REST endpoint (what an integration reads: the ERP repositories behind ``/api/v1``),

for sales in a month, open receivables, open payables, the items below their reorder level
(with the low-stock alert's rows) and the stock value at cost. Each figure is also checked
to be more than nothing, so three empty answers can't agree their way through.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from e2e_support import member
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.analytics import engine as analytics
from companion.analytics.query import AnalyticsQuery
from companion.assistant.queries import registry
from companion.assistant.queries.registry import Period, QueryParams, QueryResult
from companion.assistant.queries.runner import read_only, run_query
from companion.erp.stock import repository as stock_repo
from companion.tenancy.context import RequestContext

DEMO_TODAY = dt.date(2026, 3, 15)  # the chat fixtures' demo "today"
API = "/api/v1"
COMPANIES = ("acme", "globex")
# A whole month before the demo's today, and today's month so far.
MONTHS = [(dt.date(2026, 2, 1), dt.date(2026, 2, 28)), (dt.date(2026, 3, 1), DEMO_TODAY)]


def _query(session: Session, ctx: RequestContext, intent: str, **params: Any) -> QueryResult:
    spec = registry.get(intent)
    assert spec is not None, intent
    return run_query(session, ctx, spec, QueryParams(**params), DEMO_TODAY)


def _measure(session: Session, ctx: RequestContext, **query: Any) -> Decimal | None:
    with read_only(session):
        return analytics.run(session, ctx, AnalyticsQuery(**query), DEMO_TODAY).total


def _rest(client: TestClient, headers: dict[str, str], path: str, **params: Any) -> Any:
    response = client.get(API + path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("slug", COMPANIES)
@pytest.mark.parametrize(("start", "end"), MONTHS)
def test_sales_of_a_month_agree(
    chat_client: TestClient, login, demo_session: Session, slug: str, start, end
) -> None:
    ctx = member(demo_session, "admin", slug)
    fixed = _query(demo_session, ctx, "sales_summary", period=Period(start=start, end=end))
    layer = _measure(demo_session, ctx, measure="sales", start=start, end=end)
    rest = _rest(
        chat_client,
        login("admin", slug),
        "/reports/sales-summary",
        start=start.isoformat(),
        end=end.isoformat(),
    )
    assert fixed.totals["sales"] > 0, slug
    assert layer == fixed.totals["sales"]
    assert Decimal(str(rest["totals"]["sales"])) == fixed.totals["sales"]


@pytest.mark.parametrize("slug", COMPANIES)
@pytest.mark.parametrize(
    ("kind", "intent", "measure"), [("ar", "ar_aging", "open_ar"), ("ap", "ap_aging", "open_ap")]
)
def test_open_receivables_and_payables_agree(
    chat_client: TestClient, login, demo_session: Session, slug: str, kind, intent, measure
) -> None:
    ctx = member(demo_session, "admin", slug)
    fixed = _query(demo_session, ctx, intent)
    layer = _measure(demo_session, ctx, measure=measure)
    rest = _rest(chat_client, login("admin", slug), "/invoices/open-amount", kind=kind)
    assert fixed.totals["total"] > 0, (slug, kind)
    assert layer == fixed.totals["total"]
    assert Decimal(rest["open_amount"]) == fixed.totals["total"]
    assert rest["documents"] == fixed.provenance.record_count


@pytest.mark.parametrize("slug", COMPANIES)
def test_the_items_below_their_reorder_level_agree(
    chat_client: TestClient, login, demo_session: Session, slug: str
) -> None:
    ctx = member(demo_session, "admin", slug)
    headers = login("admin", slug)
    fixed = _query(demo_session, ctx, "below_reorder")
    # (sku, warehouse name) of the chat's answer; the REST rows say the warehouse by code
    chat_levels = {(row[0], row[2], Decimal(str(row[3]))) for row in fixed.rows}
    alert_rows = stock_repo.below_reorder(demo_session, ctx)  # what the low-stock alert reads
    rest_rows = _rest(chat_client, headers, "/stock-levels/below-reorder")
    rest_items = _rest(chat_client, headers, "/items", below_reorder="true", limit=200)
    assert chat_levels, slug
    assert len(alert_rows) == len(rest_rows) == len(chat_levels) == fixed.provenance.record_count
    assert {(r.sku, r.quantity) for r in alert_rows} == {(s, q) for s, _, q in chat_levels}
    assert {(r["sku"], Decimal(r["quantity"])) for r in rest_rows} == {
        (s, q) for s, _, q in chat_levels
    }
    assert {i["sku"] for i in rest_items["items"]} == {s for s, _, _ in chat_levels}


@pytest.mark.parametrize("slug", COMPANIES)
def test_the_stock_value_at_cost_agrees(
    chat_client: TestClient, login, demo_session: Session, slug: str
) -> None:
    ctx = member(demo_session, "admin", slug)
    fixed = _query(demo_session, ctx, "inventory_valuation")
    layer = _measure(demo_session, ctx, measure="stock_value")
    rest = _rest(chat_client, login("admin", slug), "/stock-levels/valuation")
    assert fixed.totals["value"] > 0, slug
    assert layer == fixed.totals["value"]
    assert Decimal(rest["total"]) == fixed.totals["value"]
