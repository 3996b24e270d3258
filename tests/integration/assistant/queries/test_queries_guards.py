"""What every data query guarantees: permission before any read, read-only execution,
no other company's data, and a sentence (never an error) when there is nothing to show."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from query_sql import TODAY, ask, dump
from query_world import World
from sqlalchemy import event, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from companion.assistant.answers import group_digits
from companion.assistant.queries.registry import QueryParams, QuerySpec, all_queries, get
from companion.assistant.queries.runner import run_query
from companion.erp.ledger.service import setup_company_ledger
from companion.erp.parties.models import Customer
from companion.errors import PermissionDenied
from companion.tenancy.permissions import PERMISSIONS
from factories import make_company, make_context

INTENTS = sorted(all_queries())


def refs(world: World) -> dict[str, list[dict[str, Any]]]:
    """The parameters each intent is asked with in the sweeps (document queries need one)."""
    return {
        "invoice_status": [
            {"document_ref": world.invoices["d1_30"].number},
            {"document_ref": world.invoices["bill_31_60"].number},
        ],
        "order_status": [
            {"document_ref": world.orders["pending_l2"].number},
            {"document_ref": world.sales_orders["invoiced"].number},
        ],
    }


def calls(world: World, intent: str) -> list[dict[str, Any]]:
    return refs(world).get(intent, [{}])


@contextmanager
def counting_statements(session: Session) -> Iterator[list[str]]:
    """Every SQL statement sent on the session's connection while inside."""
    seen: list[str] = []
    conn = session.connection()

    def spy(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(conn, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        event.remove(conn, "before_cursor_execute", spy)


@pytest.mark.parametrize("intent", INTENTS)
def test_no_permission_no_read(qs: Session, a: World, intent: str) -> None:
    spec = get(intent)
    assert spec is not None
    for params in calls(a, intent):
        needed = spec.permission_for(QueryParams(**params))
        ctx = dataclasses.replace(
            a.ctx["admin"], permissions=frozenset(PERMISSIONS) - {needed}, roles=("custom",)
        )
        with counting_statements(qs) as statements, pytest.raises(PermissionDenied) as denied:
            run_query(qs, ctx, spec, QueryParams(**params), TODAY)
        assert statements == []
        assert denied.value.details["permission"] == needed
        assert denied.value.details["roles"]  # names who could ask


@pytest.mark.parametrize("intent", INTENTS)
def test_no_other_company_data_appears(qs: Session, a: World, b: World, intent: str) -> None:
    for mine, other in ((a, b), (b, a)):
        for params in calls(mine, intent):
            result = ask(qs, mine.ctx["admin"], intent, **params)
            text_seen = dump(result)
            leaked = [name for name in other.all_names() if name in text_seen]
            assert leaked == [], (intent, params, leaked)
            assert result.currency == mine.names.currency
            assert result.summary
            if result.totals and any(result.totals.values()):
                assert mine.names.currency in result.summary, (intent, result.summary)


def test_each_company_sees_its_own_names(qs: Session, a: World, b: World) -> None:
    """The sweep above would pass vacuously if nothing was named: check it names things."""
    for world in (a, b):
        seen = " ".join(
            dump(ask(qs, world.ctx["admin"], intent, **params))
            for intent in INTENTS
            for params in calls(world, intent)
        )
        # every name but the service item, which is never stocked, ordered or sold in bulk
        assert {n for n in world.all_names() if n in seen} == world.all_names() - {
            world.names.items[4]
        }


ID_FILTERS = {
    "customer_id": "customers",
    "supplier_id": "suppliers",
    "item_id": "items",
    "warehouse_id": "warehouses",
    "bank_account_id": "banks",
}


@pytest.mark.parametrize("intent", INTENTS)
def test_another_companys_ids_read_like_missing_ones(
    qs: Session, a: World, b: World, intent: str
) -> None:
    spec = get(intent)
    assert spec is not None
    for name in sorted(spec.filters & set(ID_FILTERS)):
        for record in getattr(b, ID_FILTERS[name]):
            foreign = ask(qs, a.ctx["admin"], intent, **{name: record.id})
            missing = ask(qs, a.ctx["admin"], intent, **{name: 10**6 + record.id})
            assert foreign.rows == missing.rows, (intent, name)
            assert foreign.totals == missing.totals, (intent, name)
            assert foreign.summary == missing.summary, (intent, name)
            assert foreign.provenance.record_count == missing.provenance.record_count
            leaked = [n for n in b.all_names() if n in dump(foreign)]
            assert leaked == [], (intent, name, leaked)


def test_amounts_use_each_companys_number_format(qs: Session, a: World, b: World) -> None:
    a_cash = ask(qs, a.ctx["finance"], "cash_balance")
    b_cash = ask(qs, b.ctx["finance"], "cash_balance")
    indian = re.search(r"BDT (\d{1,2},)+\d{3}\.\d{2}", a_cash.summary)
    western = re.search(r"USD \d{1,3}(,\d{3})+\.\d{2}", b_cash.summary)
    assert indian and western, (a_cash.summary, b_cash.summary)
    assert indian.group(0) == "BDT " + group_digits(a_cash.totals["balance"], "en_IN", 2)
    assert western.group(0) == f"USD {b_cash.totals['balance']:,.2f}"


def test_an_empty_company_gets_sentences_not_errors(qs: Session) -> None:
    company = make_company(qs, "qa-empty", "EUR")
    setup_company_ledger(qs, company.id)
    ctx = make_context(qs, company, ["admin"], username="qa-empty-admin")
    for intent in INTENTS:
        params = {"document_ref": "INV-2026-0001"} if intent == "invoice_status" else {}
        if intent == "order_status":
            params = {"document_ref": "PO-2026-0001"}
        result = ask(qs, ctx, intent, **params)
        assert result.currency == "EUR"
        assert result.summary.endswith("."), (intent, result.summary)
        if intent != "dashboard_summary":
            assert result.rows == [], intent
        assert result.provenance.record_count == 0, intent
    overdue = ask(qs, ctx, "overdue_invoices")
    assert overdue.summary == "No overdue invoices as of 15 Jun 2026."
    dashboard = ask(qs, ctx, "dashboard_summary")
    assert all(v == 0 for v in dashboard.totals.values())


def _writes(kind: str) -> Any:
    def query(session: Session, ctx: Any, params: QueryParams, today: dt.date) -> Any:
        if kind == "orm":
            session.add(Customer(company_id=ctx.company_id, code="SNEAK", name="Sneaky Ltd"))
            session.flush()
        elif kind == "core":
            session.execute(
                update(Customer)
                .where(Customer.company_id == ctx.company_id)
                .values(name="Renamed")
                .execution_options(synchronize_session=False)
            )
        else:
            session.execute(text("DELETE FROM payment_allocations"))
        raise AssertionError("the write went through")

    return query


@pytest.mark.parametrize("kind", ["orm", "core", "raw"])
def test_a_query_that_writes_fails_and_leaves_nothing(qs: Session, a: World, kind: str) -> None:
    spec = QuerySpec(
        intent="sneaky",
        figure="invoices",
        permission="finance.read",
        fn=_writes(kind),
        filters=frozenset(),
        description="tries to write",
    )
    ctx = a.ctx["finance"]
    before = qs.execute(select(func.count(), func.max(Customer.name)).select_from(Customer)).one()
    allocations = qs.execute(text("SELECT COUNT(*) FROM payment_allocations")).scalar_one()
    with pytest.raises(DBAPIError) as refused:
        run_query(qs, ctx, spec, QueryParams(), TODAY)
    message = str(refused.value).lower()
    assert "readonly" in message or "read-only" in message
    # nothing changed, and the session is usable afterwards for reads and for writes
    after = qs.execute(select(func.count(), func.max(Customer.name)).select_from(Customer)).one()
    assert tuple(after) == tuple(before)
    assert qs.execute(text("SELECT COUNT(*) FROM payment_allocations")).scalar_one() == allocations
    qs.add(Customer(company_id=a.id, code="LEGIT", name="Legit Ltd"))
    qs.flush()
    assert ask(qs, ctx, "customer_list").summary == "You have 4 active customers."
