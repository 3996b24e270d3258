"""Customers and what they owe: AR aging, overdue invoices, invoice status, balances,
top customers and the customer list.

Definitions:
- open amount: total - amount_paid of AR invoices with status posted or partially_paid.
- AR aging: open amounts per customer in buckets of days past due at today: current (not
  yet due), 1-30, 31-60, 61-90, 90+.
- overdue: an open invoice whose due date is before today; days overdue = today - due date.
- customer balance: open amount less receipts not yet applied to any invoice.
- sales (top customers): the subtotal (net of tax, after discounts) of AR invoices with
  status posted, partially_paid or paid, by issue date in the period (default the last 12
  months; default top 5).
- invoice status: one invoice (INV-) or bill (BILL-) by number; another company's number
  answers exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, func, select, type_coerce
from sqlalchemy.orm import Session

from companion.assistant.answers import date_text, percent_text
from companion.assistant.queries.common import (
    AR,
    MAX_ROWS,
    Answer,
    age_words,
    cut,
    given_filters,
    last_12_months,
    lookup_name,
    money_sum,
    not_found,
    on_date,
    resolve_period,
    shown_note,
)
from companion.assistant.queries.openitems import RECEIVABLES, aging, balances
from companion.assistant.queries.registry import QueryParams, QueryResult, register
from companion.erp.invoicing.models import (
    OPEN_STATUSES,
    SALES_STATUSES,
    Invoice,
    InvoiceStatus,
)
from companion.erp.parties.models import Customer, Supplier
from companion.erp.payments.models import Payment, PaymentAllocation
from companion.kit.db import Money
from companion.kit.money import ZERO, quantize
from companion.tenancy.context import RequestContext, in_company, scoped


@register(
    "ar_aging",
    figure="invoices",
    filters={"customer_id"},
    description="Open receivables by days past due",
    title="receivables aging",
)
def ar_aging(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Open AR per customer in current / 1-30 / 31-60 / 61-90 / 90+ days past due."""
    return aging(session, ctx, params, today, RECEIVABLES)


@register(
    "customer_balance",
    figure="invoices",
    filters={"customer_id", "min_amount", "max_amount", "top_n"},
    description="What customers owe",
)
def customer_balance(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Each customer's open invoices less unapplied receipts (one customer if given)."""
    return balances(session, ctx, params, today, RECEIVABLES)


@register(
    "overdue_invoices",
    figure="invoices",
    filters={"customer_id", "min_amount", "max_amount", "top_n", "min_days", "max_days"},
    description="Customer invoices past their due date",
    lists=True,
)
def overdue_invoices(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Open AR invoices due before today, oldest first (largest first with ``top_n``);
    with ``min_days``/``max_days``, those overdue by that many days."""
    names = ["customer_id", "min_amount", "max_amount", "top_n", "min_days", "max_days"]
    answer = Answer(ctx, today, ["invoices", "customers"], given_filters(params, names))
    columns = ["number", "customer", "issue_date", "due_date", "days_overdue", "total", "open"]
    if (
        params.customer_id is not None
        and lookup_name(session, ctx, Customer, params.customer_id) is None
    ):
        return not_found(answer, columns, "that customer")
    stmt = (
        select(
            Invoice.number,
            Customer.name,
            Invoice.issue_date,
            Invoice.due_date,
            Invoice.total,
            Invoice.amount_paid,
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(
            in_company(Invoice, ctx),
            in_company(Customer, ctx),
            Invoice.kind == AR,
            Invoice.status.in_(OPEN_STATUSES),
            Invoice.due_date < today,
        )
    )
    if params.customer_id is not None:
        stmt = stmt.where(Invoice.customer_id == params.customer_id)
    # days overdue = today - due date
    if params.min_days is not None:
        stmt = stmt.where(Invoice.due_date <= today - dt.timedelta(days=params.min_days))
    if params.max_days is not None:
        stmt = stmt.where(Invoice.due_date >= today - dt.timedelta(days=params.max_days))
    overdue = f"overdue by {age_words(params)}" if age_words(params) else "overdue"
    if params.min_amount is None and params.max_amount is None:
        return _overdue_in_sql(session, answer, columns, stmt, params.top_n, today, overdue)
    rows: list[list[Any]] = []
    for number, customer, issued, due, total, paid in session.execute(stmt):
        open_amount = total - paid
        if params.min_amount is not None and open_amount < params.min_amount:
            continue
        if params.max_amount is not None and open_amount > params.max_amount:
            continue
        days = (today - due).days
        rows.append(
            [number, customer, issued.isoformat(), due.isoformat(), days, total, open_amount]
        )
    if params.top_n:
        rows.sort(key=lambda r: (-r[6], r[0]))
    else:
        rows.sort(key=lambda r: (-r[4], r[0]))
    totals = {
        "total": sum((r[5] for r in rows), ZERO),
        "open": sum((r[6] for r in rows), ZERO),
    }
    when = on_date(today)
    if not rows:
        return answer.result(columns, [], totals, _none_overdue(overdue, when), 0)
    fmt = answer.fmt
    oldest = max(rows, key=lambda r: (r[4], r[6]))
    summary = (
        f"{fmt.count(len(rows), 'invoice is', 'invoices are')} {overdue} {when}, "
        f"{fmt.money(totals['open'])} open in all; the oldest is {oldest[0]} to {oldest[1]}, "
        f"{fmt.count(oldest[4], 'day')} overdue with {fmt.money(oldest[6])} open."
    )
    shown, _ = cut(rows, params.top_n)
    summary += shown_note(
        len(shown), len(rows), "largest first" if params.top_n else "oldest first"
    )
    return answer.result(
        columns, shown, totals, summary, len(rows), {"matched": len(rows), "shown": len(shown)}
    )


def _overdue_in_sql(
    session: Session,
    answer: Answer,
    columns: list[str],
    stmt: Select[str, str, dt.date, dt.date, Decimal, Decimal],
    top_n: int | None,
    today: dt.date,
    overdue: str,
) -> QueryResult:
    """Totals, the oldest and the rows shown, each sorted and cut by the database.

    The same answer as sorting every overdue invoice in Python, which took seconds with
    tens of thousands of them; amount filters keep that path (see ``overdue_invoices``).
    """
    found = stmt.subquery()
    open_amount = found.c.total - found.c.amount_paid
    count, total, open_total = session.execute(
        select(func.count(), money_sum(found.c.total), money_sum(open_amount))
    ).one()
    totals = {"total": Decimal(total), "open": Decimal(open_total)}
    when = on_date(today)
    if not count:
        return answer.result(columns, [], totals, _none_overdue(overdue, when), 0)

    def listed(*order: Any, limit: int) -> list[list[Any]]:
        rows = session.execute(select(found).order_by(*order).limit(limit))
        return [
            [n, c, issued.isoformat(), due.isoformat(), (today - due).days, t, t - paid]
            for n, c, issued, due, t, paid in rows
        ]

    oldest = listed(found.c.due_date, open_amount.desc(), found.c.number, limit=1)[0]
    limit = min(top_n, MAX_ROWS) if top_n else MAX_ROWS  # as ``cut`` does
    if top_n:
        shown = listed(open_amount.desc(), found.c.number, limit=limit)
    else:
        shown = listed(found.c.due_date, found.c.number, limit=limit)
    fmt = answer.fmt
    summary = (
        f"{fmt.count(count, 'invoice is', 'invoices are')} {overdue} {when}, "
        f"{fmt.money(totals['open'])} open in all; the oldest is {oldest[0]} to {oldest[1]}, "
        f"{fmt.count(oldest[4], 'day')} overdue with {fmt.money(oldest[6])} open."
    )
    summary += shown_note(len(shown), count, "largest first" if top_n else "oldest first")
    return answer.result(
        columns, shown, totals, summary, count, {"matched": count, "shown": len(shown)}
    )


def _none_overdue(overdue: str, when: str) -> str:
    if overdue == "overdue":
        return f"No overdue invoices {when}."
    return f"No invoice is {overdue} {when}."


_DOC_PREFIXES = {"INV": ("ar", "invoice"), "BILL": ("ap", "bill")}


@register(
    "invoice_status",
    figure="invoices",
    filters={"document_ref"},
    required={"document_ref"},
    description="Where an invoice or bill stands",
)
def invoice_status(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """One invoice (INV-) or bill (BILL-) by number: status, paid, open, due."""
    ref = (params.document_ref or "").strip().upper()
    tables = ["invoices", "payments", "payment_allocations"]
    answer = Answer(ctx, today, tables, {"document_ref": ref} if ref else {})
    columns = ["number", "party", "issue_date", "due_date", "status", "total", "paid", "open"]
    prefix = ref.split("-", 1)[0]
    if not ref:
        return answer.empty(columns, "Which invoice? Give its number, like INV-2026-0042.")
    if prefix not in _DOC_PREFIXES:
        return answer.empty(
            columns,
            f"{ref} is not an invoice or bill number; those start with INV- or BILL-.",
        )
    kind, word = _DOC_PREFIXES[prefix]
    party = Customer if kind == AR else Supplier
    party_column = Invoice.customer_id if kind == AR else Invoice.supplier_id
    found = session.execute(
        scoped(select(Invoice, party.name), Invoice, ctx)
        .join(party, party.id == party_column)
        .where(
            in_company(party, ctx),
            Invoice.kind == kind,
            Invoice.number == ref,
        )
    ).one_or_none()
    if found is None:
        return not_found(answer, columns, f"{word} {ref}")
    invoice, party_name = found
    is_open = invoice.status in OPEN_STATUSES
    open_amount = invoice.open_amount if is_open else ZERO
    row = [
        invoice.number,
        party_name,
        invoice.issue_date.isoformat(),
        invoice.due_date.isoformat(),
        invoice.status,
        invoice.total,
        invoice.amount_paid,
        open_amount,
    ]
    payments = _allocations(session, ctx, invoice.id)
    totals = {"total": invoice.total, "paid": invoice.amount_paid, "open": open_amount}
    summary = _status_sentence(answer, invoice, party_name, open_amount, today, kind == AR)
    return answer.result(columns, [row], totals, summary, 1 + len(payments), {"payments": payments})


def _allocations(session: Session, ctx: RequestContext, invoice_id: int) -> list[dict[str, Any]]:
    """The payments applied to an invoice, in date order."""
    stmt = (
        scoped(
            select(Payment.number, Payment.payment_date, PaymentAllocation.amount),
            PaymentAllocation,
            ctx,
        )
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(in_company(Payment, ctx), PaymentAllocation.invoice_id == invoice_id)
        .order_by(Payment.payment_date, Payment.number)
    )
    return [
        {"number": number, "date": day.isoformat(), "amount": amount}
        for number, day, amount in session.execute(stmt)
    ]


def _status_sentence(
    answer: Answer, invoice: Invoice, party: str, open_amount: Decimal, today: dt.date, ar: bool
) -> str:
    fmt = answer.fmt
    head = (
        f"{invoice.number} {'to' if ar else 'from'} {party} for {fmt.money(invoice.total)}, "
        f"issued {date_text(invoice.issue_date)},"
    )
    status = invoice.status
    if status == InvoiceStatus.DRAFT.value:
        return f"{head} is a draft: it is not posted yet."
    if status == InvoiceStatus.VOID.value:
        return f"{head} was voided."
    if status == InvoiceStatus.PAID.value:
        return f"{head} is fully paid."
    state = (
        f"partially paid ({fmt.money(invoice.amount_paid)} {'received' if ar else 'paid'})"
        if status == InvoiceStatus.PARTIALLY_PAID.value
        else "posted and unpaid"
    )
    days = (today - invoice.due_date).days
    if days > 0:
        due = f"was due {date_text(invoice.due_date)} ({fmt.count(days, 'day')} overdue)"
    elif days == 0:
        due = "is due today"
    else:
        due = f"is due {date_text(invoice.due_date)} (in {fmt.count(-days, 'day')})"
    return f"{head} is {state}; {fmt.money(open_amount)} is open and {due}."


@register(
    "top_customers",
    figure="sales_totals",
    filters={"period", "top_n"},
    description="The customers who bought most",
    lists=True,
)
def top_customers(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Customers ranked by sales (net of tax) in the period; default last 12 months, top 5."""
    window = resolve_period(params, today, last_12_months)
    top_n = params.top_n or 5
    answer = Answer(
        ctx,
        today,
        ["invoices", "customers"],
        {"period": window.filter_value(), "top_n": top_n},
        window.end,
    )
    columns = ["rank", "customer", "invoices", "sales", "share_pct"]
    # Grouped by customer on the invoices alone, then named: ``ix_invoices_issued`` holds
    # every column read, so PostgreSQL reads the period index-only (joining the customers
    # first read 88,893 invoices of this year from the heap, twice). One statement gives
    # the top rows and, over every customer, the invoices and sales of the whole period.
    per_customer = (
        select(
            Invoice.customer_id.label("customer_id"),
            func.count().label("invoices"),
            money_sum(Invoice.subtotal).label("sales"),
        )
        .where(
            in_company(Invoice, ctx),
            Invoice.kind == AR,
            Invoice.status.in_(SALES_STATUSES),
            Invoice.issue_date >= window.start,
            Invoice.issue_date <= window.end,
        )
        .group_by(Invoice.customer_id)
        .subquery()
    )
    ranked = session.execute(
        select(
            Customer.name,
            per_customer.c.invoices,
            per_customer.c.sales,
            func.sum(per_customer.c.invoices).over(),
            type_coerce(func.sum(per_customer.c.sales).over(), Money()),
        )
        .select_from(per_customer)
        .join(
            Customer,
            and_(Customer.id == per_customer.c.customer_id, in_company(Customer, ctx)),
        )
        .order_by(per_customer.c.sales.desc(), Customer.name, Customer.id)
        .limit(top_n)
    ).all()
    count = int(ranked[0][3]) if ranked else 0
    all_sales = Decimal(ranked[0][4]) if ranked else ZERO
    rows: list[list[Any]] = [
        [i, name, n, sales, quantize(sales * 100 / all_sales, 1) if all_sales else ZERO]
        for i, (name, n, sales, _, _) in enumerate(ranked, start=1)
    ]
    totals = {"sales": sum((r[3] for r in rows), ZERO), "all_sales": all_sales}
    if not rows:
        summary = f"There were no sales to customers in {window.text()}."
        return answer.result(columns, [], totals, summary, 0)
    fmt = answer.fmt
    who = "Your top customer" if len(rows) == 1 else f"Your top {len(rows)} customers"
    summary = (
        f"{who} in {window.text()} bought {fmt.money(totals['sales'])} net of tax, "
        f"{percent_text(totals['sales'], all_sales)} of all sales; "
        f"the largest was {rows[0][1]} at {fmt.money(rows[0][3])}."
    )
    return answer.result(columns, rows, totals, summary, count)


_CUSTOMER_STATUSES: dict[str, tuple[bool, ...]] = {
    "active": (True,),
    "inactive": (False,),
    "all": (True, False),
}


@register(
    "customer_list",
    figure="customers",
    filters={"status", "top_n"},
    description="The company's customers",
    lists=True,
)
def customer_list(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Customers by name; active ones unless ``status`` is inactive or all."""
    status = (params.status or "active").strip().lower()
    answer = Answer(
        ctx, today, ["customers"], {"status": status, **given_filters(params, ["top_n"])}
    )
    columns = ["code", "name", "email", "phone", "payment_terms_days", "credit_limit", "status"]
    if status not in _CUSTOMER_STATUSES:
        return answer.empty(
            columns, f"Customers are active or inactive; I can't list '{params.status}' ones."
        )
    matching = scoped(select(Customer.id), Customer, ctx).where(
        Customer.is_active.in_(_CUSTOMER_STATUSES[status])
    )
    matched = session.execute(select(func.count()).select_from(matching.subquery())).scalar_one()
    fmt = answer.fmt
    word = "" if status == "all" else f"{status} "
    if not matched:
        return answer.empty(columns, f"There are no {word}customers.")
    # Only the rows shown are read: a company with 20,000 customers lists 200 of them.
    limit = min(params.top_n, MAX_ROWS) if params.top_n else MAX_ROWS  # as ``cut`` does
    stmt = (
        scoped(
            select(
                Customer.code,
                Customer.name,
                Customer.email,
                Customer.phone,
                Customer.payment_terms_days,
                Customer.credit_limit,
                Customer.is_active,
            ),
            Customer,
            ctx,
        )
        .where(Customer.is_active.in_(_CUSTOMER_STATUSES[status]))
        .order_by(Customer.name, Customer.code)
        .limit(limit)
    )
    shown: list[list[Any]] = [
        [*row[:6], "active" if row[6] else "inactive"] for row in session.execute(stmt)
    ]
    summary = f"You have {fmt.count(matched, word + 'customer')}."
    summary += shown_note(len(shown), matched, "by name")
    return answer.result(
        columns, shown, {}, summary, matched, {"matched": matched, "shown": len(shown)}
    )
