"""Every data intent and ad-hoc question on the bulk company, in process; tenancy beside it.

    .venv/bin/python bench/scale_latency.py --database scale_bulk [--rounds 5] \
        [--explain 5] [--tenancy 50]

Reads the database ``bench/bulk_company.py`` builds. Each question is one
``Assistant.turn`` of the user ``ceo`` of the company ``bulk`` (understand + query + record,
rolled back), asked once to warm the caches and then ``--rounds`` times; the answer must be
the expected intent (a data query) or the ad-hoc analytics skill, else it is reported.
Prints p50 / p95 per question and over all of them, the load average, then ``EXPLAIN
(ANALYZE, BUFFERS)`` of each statement of the ``--explain`` slowest questions, and finally
the tenancy check: every data intent for the admin of each of ``--tenancy`` small companies
through ``run_query``, asserting that none of the bulk company's customer, supplier or item
names appears and that the small company's cash and sales equal its own rows' sums.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from companion.assistant.queries.registry import QueryParams, all_queries
from companion.assistant.queries.runner import run_query
from companion.assistant.schemas import ChatRequest
from companion.auth.service import context_for_user
from companion.bootstrap import bootstrap
from companion.config import Settings
from companion.erp.invoicing.models import Invoice
from companion.erp.items.models import Item
from companion.erp.parties.models import Customer, Supplier
from companion.tenancy.models import Company

TODAY = dt.date(2026, 3, 15)
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def questions(session: Session, company_id: int) -> dict[str, tuple[str, str]]:
    """label -> (question, expected intent or 'analytics'), with the company's own names."""
    customer = session.execute(
        select(Customer.name)
        .join(Invoice, Invoice.customer_id == Customer.id)
        .where(Customer.company_id == company_id, Invoice.status == "partially_paid")
        .order_by(Invoice.id.desc())
        .limit(1)
    ).scalar_one()
    supplier = (
        session.execute(
            select(Supplier.name).where(Supplier.company_id == company_id).order_by(Supplier.id)
        )
        .scalars()
        .first()
    )
    number = session.execute(
        select(Invoice.number)
        .where(Invoice.company_id == company_id, Invoice.kind == "ar", Invoice.status == "posted")
        .order_by(Invoice.id.desc())
        .limit(1)
    ).scalar_one()
    return {
        "cash_balance": ("what's our cash balance?", "cash_balance"),
        "ar_aging": ("show me the receivables aging", "ar_aging"),
        "ap_aging": ("show me the payables aging", "ap_aging"),
        "cash_flow": ("cash flow this month", "cash_flow"),
        "purchase_orders": ("list purchase orders awaiting approval", "purchase_orders"),
        "pending_approvals": ("what's waiting for my approval?", "pending_approvals"),
        "stock_levels": ("stock levels in all warehouses", "stock_levels"),
        "below_reorder": ("which items are below reorder level?", "below_reorder"),
        "dashboard_summary": ("give me the dashboard summary", "dashboard_summary"),
        "sales_summary": ("sales last month", "sales_summary"),
        "overdue_invoices": ("which invoices are overdue?", "overdue_invoices"),
        "invoice_status": (f"status of {number}", "invoice_status"),
        "order_status": ("status of SO-2026-0003", "order_status"),
        "customer_list": ("list our customers", "customer_list"),
        "top_customers": ("top 5 customers this year", "top_customers"),
        "customer_balance": (f"how much does {customer} owe us", "customer_balance"),
        "supplier_balance": (f"how much do we owe {supplier}", "supplier_balance"),
        "profit_and_loss": ("profit and loss for last quarter", "profit_and_loss"),
        "inventory_valuation": ("what is our inventory worth?", "inventory_valuation"),
        "adhoc sales by customer last month": ("sales by customer last month", "analytics"),
        "adhoc month-by-customer (this year)": (
            "sales by customer by month from 1 January 2026 to 15 March 2026",
            "analytics",
        ),
        "adhoc month-by-customer (12 months)": (
            "sales by customer by month from 1 April 2025 to 15 March 2026",
            "analytics",
        ),
        "adhoc sales by item in January": ("sales by item in January 2026", "analytics"),
        "adhoc top suppliers by payments": ("top 5 suppliers by payments this year", "analytics"),
        "adhoc average invoice by month": ("average invoice value by month in 2026", "analytics"),
        "adhoc expenses by account": ("expenses by account this year", "analytics"),
        "adhoc stock value by warehouse": ("stock value by warehouse", "analytics"),
        "adhoc open receivables by customer": ("open receivables by customer", "analytics"),
        "adhoc gross margin by month": (
            "gross margin by month from 16 December 2025 to 15 March 2026",
            "analytics",
        ),
        "adhoc receipts by customer": ("receipts by customer in February 2026", "analytics"),
    }


@contextmanager
def statements(session: Session) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement and its parameters sent on the session's connection."""
    seen: list[tuple[str, Any]] = []
    conn = session.connection()

    def spy(_conn: Connection, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        seen.append((sql, params))

    event.listen(conn, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        event.remove(conn, "before_cursor_execute", spy)


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(args: argparse.Namespace, factory: sessionmaker[Session], assistant: Any) -> None:
    with factory() as session:
        company_id = session.execute(
            select(Company.id).where(Company.slug == args.company)
        ).scalar_one()
        asked = questions(session, company_id)
    if args.only:
        asked = {k: v for k, v in asked.items() if any(o in k for o in args.only.split(","))}
    timings: dict[str, list[float]] = defaultdict(list)
    sql: dict[str, list[tuple[str, Any]]] = {}
    wrong: dict[str, str] = {}
    print(f"load average before: {loadavg()}", flush=True)
    for round_no in range(args.rounds + 1):
        for label, (question, expected) in asked.items():
            with factory() as session:
                ctx = context_for_user(session, args.user, args.company)
                with statements(session) as seen:
                    started = time.perf_counter()
                    reply = assistant.turn(session, ctx, ChatRequest(message=question))
                    elapsed = (time.perf_counter() - started) * 1000
                session.rollback()
            got = reply.intent if expected != "analytics" else reply.skill
            if got != expected:
                wrong[label] = f"{reply.intent}/{reply.skill}: {reply.message[:160]}"
            if round_no == 0:
                sql[label] = [s for s in seen if s[0].lstrip().upper().startswith("SELECT")]
                if args.show:
                    print(f"  {label}: {reply.message[:200]}")
            else:
                timings[label].append(elapsed)
    print(f"load average after: {loadavg()}")
    everything: list[float] = []
    intents: list[float] = []
    print(f"{'question':<40} {'p50 ms':>9} {'p95 ms':>9}")
    for label, samples in sorted(timings.items(), key=lambda kv: -pct(kv[1], 95)):
        everything += samples
        if not label.startswith("adhoc"):
            intents += samples
        print(f"{label:<40} {statistics.median(samples):9.1f} {pct(samples, 95):9.1f}")
    if intents:  # --only may name ad-hoc questions alone
        print(
            f"all data intents: p50 {statistics.median(intents):.1f} ms,"
            f" p95 {pct(intents, 95):.1f} ms"
        )
    if everything:
        print(
            f"everything: p50 {statistics.median(everything):.1f}, p95 {pct(everything, 95):.1f}"
            f" ({len(everything)} turns, {args.rounds} rounds)"
        )
    for label, why in wrong.items():
        print(f"NOT ANSWERED AS EXPECTED {label}: {why}")
    slowest = sorted(timings, key=lambda k: -statistics.median(timings[k]))[: args.explain]
    for label in slowest:
        explain(factory, label, sql[label], args.min_ms)


def explain(
    factory: sessionmaker[Session], label: str, seen: list[tuple[str, Any]], min_ms: float
) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement of one question that took >= min_ms."""
    print(f"\n=== {label}")
    with factory() as session:
        raw = session.connection().connection.dbapi_connection
        assert raw is not None
        for statement, params in seen:
            cursor = raw.cursor()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            plan = [row[0] for row in cursor.fetchall()]
            took = float(plan[-1].split(":")[1].split()[0]) if "Execution" in plan[-1] else 0
            if took >= min_ms:
                print(f"--- {statement.strip()[:600]}\n    params {params}")
                print("\n".join(plan))
        session.rollback()


def names_of(session: Session, company_id: int) -> set[str]:
    found: set[str] = set()
    for model in (Customer, Supplier, Item):
        found |= set(
            session.execute(select(model.name).where(model.company_id == company_id)).scalars()
        )
    return found


def tenancy(args: argparse.Namespace, factory: sessionmaker[Session]) -> None:
    """No answer for a small company names the bulk company's records or counts its rows."""
    with factory() as session:
        big = session.execute(select(Company.id).where(Company.slug == args.company)).scalar_one()
        big_names = names_of(session, big)
        small = (
            session.execute(select(Company.slug).where(Company.id != big).order_by(Company.id))
            .scalars()
            .all()[: args.tenancy]
        )
    problems, answers = [], 0
    started = time.perf_counter()
    for slug in small:
        with factory() as session:
            ctx = context_for_user(session, f"{slug}.ceo", slug)
            own = names_of(session, ctx.company_id)
            seen_own = False
            for intent, spec in sorted(all_queries().items()):
                params = QueryParams()
                if intent in ("invoice_status", "order_status"):
                    number = session.execute(
                        select(func.min(Invoice.number)).where(Invoice.company_id == ctx.company_id)
                    ).scalar_one()
                    params = QueryParams(document_ref=number)
                result = run_query(session, ctx, spec, params, TODAY)
                answers += 1
                cells = {c for row in result.rows for c in row if isinstance(c, str)}
                dumped = json.dumps([result.summary, result.rows], default=str)
                leaked = cells & big_names or {n for n in big_names if n in dumped}
                if leaked:
                    problems.append(f"{slug} {intent}: {sorted(leaked)[:3]}")
                seen_own = seen_own or bool(cells & own)
                if intent == "sales_summary" and result.totals:
                    mine = session.execute(
                        text(
                            "SELECT coalesce(sum(subtotal), 0) FROM invoices WHERE company_id = :c"
                            " AND kind = 'ar' AND status IN ('posted', 'partially_paid', 'paid')"
                            " AND issue_date >= :s AND issue_date <= :e"
                        ),
                        {"c": ctx.company_id, "s": TODAY.replace(day=1), "e": TODAY},
                    ).scalar_one()
                    if Decimal(result.totals["sales"]) != Decimal(mine):
                        problems.append(f"{slug} sales {result.totals['sales']} != own {mine}")
            if not seen_own:
                problems.append(f"{slug}: no answer named any of its own records (vacuous)")
    took = time.perf_counter() - started
    print(
        f"\ntenancy: {answers} answers for {len(small)} small companies beside the bulk one "
        f"in {took:.0f} s: "
        + ("no leak" if not problems else "PROBLEMS\n  " + "\n  ".join(problems))
    )
    if problems:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="scale_bulk")
    parser.add_argument("--company", default="bulk")
    parser.add_argument("--user", default="ceo")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--explain", type=int, default=0, help="EXPLAIN the N slowest")
    parser.add_argument("--min-ms", type=float, default=5.0, help="EXPLAIN statements over this")
    parser.add_argument("--tenancy", type=int, default=0, help="small companies to sweep")
    parser.add_argument("--only", help="comma-separated labels to time")
    parser.add_argument("--show", action="store_true", help="print each first answer")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/scale/data"))
    args = parser.parse_args()
    settings = Settings(
        database_url=PG + args.database,
        demo_mode=True,
        today=TODAY,
        data_dir=args.data_dir,
        rate_limits={"chat_per_user": "1000000 per minute"},  # the bench asks hundreds a minute
    )
    container = bootstrap(settings)
    factory = sessionmaker(bind=container.engine)
    if args.rounds:
        measure(args, factory, container.assistant())
    if args.tenancy:
        tenancy(args, factory)
    container.engine.dispose()


if __name__ == "__main__":
    main()
