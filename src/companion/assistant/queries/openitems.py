"""Open items of either ledger side: aging and balances of customers (AR) and suppliers (AP).

Definitions (both sides):
- open amount of an invoice or bill: total - amount_paid, for status posted or
  partially_paid (drafts, paid and void documents owe nothing).
- aging buckets by days past due at ``today`` (today - due date): current (not yet due,
  due today included), 1-30, 31-60, 61-90, 90+.
- unapplied: receipts (AR) or payments (AP) with status posted, less what has been
  allocated from them to invoices or bills (money on account).
- balance of a party: its open amount less its unapplied receipts or payments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select, type_coerce
from sqlalchemy.orm import Session

from companion.assistant.queries.common import (
    AP,
    AR,
    MAX_ROWS,
    Answer,
    cut,
    given_filters,
    lookup_name,
    money_sum,
    not_found,
    on_date,
    shown_note,
)
from companion.assistant.queries.registry import QueryParams, QueryResult
from companion.erp.invoicing.models import OPEN_STATUSES, Invoice
from companion.erp.parties.models import Customer, Supplier
from companion.erp.payments.models import Payment, PaymentAllocation, PaymentKind, PaymentStatus
from companion.kit.db import Money
from companion.kit.money import ZERO
from companion.tenancy.context import RequestContext, in_company, scoped

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


@dataclass(frozen=True)
class Side:
    """Everything that differs between receivables and payables."""

    kind: str
    party_model: Any
    party_filter: str  # the QueryParams field naming the party
    party_word: str
    payment_kind: str
    owed_word: str  # "receivables" / "payables"
    document_word: str  # "invoice" / "bill"

    @property
    def party_column(self) -> Any:
        return Invoice.customer_id if self.kind == AR else Invoice.supplier_id

    @property
    def payment_party_column(self) -> Any:
        return Payment.customer_id if self.kind == AR else Payment.supplier_id

    def party_id(self, params: QueryParams) -> int | None:
        value = getattr(params, self.party_filter)
        return None if value is None else int(value)


RECEIVABLES = Side(
    AR, Customer, "customer_id", "customer", PaymentKind.RECEIPT.value, "receivables", "invoice"
)
PAYABLES = Side(
    AP, Supplier, "supplier_id", "supplier", PaymentKind.PAYMENT.value, "payables", "bill"
)


def _open_invoices(side: Side, ctx: RequestContext, *columns: Any) -> Any:
    """Open documents of one side joined to their party, both of the caller's company."""
    party = side.party_model
    return (
        select(*columns)
        .select_from(Invoice)
        .join(party, party.id == side.party_column)
        .where(
            in_company(Invoice, ctx),
            in_company(party, ctx),
            Invoice.kind == side.kind,
            Invoice.status.in_(OPEN_STATUSES),
        )
    )


def aging(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date, side: Side
) -> QueryResult:
    """Open amounts per party in days-past-due buckets at ``today``."""
    answer = Answer(
        ctx,
        today,
        ["invoices", side.party_model.__tablename__],
        given_filters(params, [side.party_filter]),
    )
    columns = [side.party_word, *BUCKETS, "total"]
    party_id = side.party_id(params)
    if party_id is not None and lookup_name(session, ctx, side.party_model, party_id) is None:
        return not_found(answer, columns, f"that {side.party_word}")
    open_amount = Invoice.open_amount
    bounds = [today - dt.timedelta(days=d) for d in (0, 30, 60, 90)]
    bucket_of = [
        Invoice.due_date >= bounds[0],
        (Invoice.due_date < bounds[0]) & (Invoice.due_date >= bounds[1]),
        (Invoice.due_date < bounds[1]) & (Invoice.due_date >= bounds[2]),
        (Invoice.due_date < bounds[2]) & (Invoice.due_date >= bounds[3]),
        Invoice.due_date < bounds[3],
    ]
    party = side.party_model
    # Grouped by party on the invoices alone, then named: at a million invoices, joining the
    # party first walked the whole party-id index (1.1M entries for 8,065 open bills).
    # ``ix_invoices_open_party`` (PostgreSQL) holds every column read in party order, so the
    # groups stream out of it. Each document is added once, to its bucket (no ``else 0``),
    # and a party's total is the sum of its five buckets, which partition its documents.
    per_party = (
        select(
            side.party_column.label("party_id"),
            *(money_sum(case((cond, open_amount))) for cond in bucket_of),
            func.count().label("documents"),
        )
        .where(in_company(Invoice, ctx), Invoice.kind == side.kind)
        .where(Invoice.status.in_(OPEN_STATUSES))
        .group_by(side.party_column)
    )
    if party_id is not None:
        per_party = per_party.where(side.party_column == party_id)
    grouped = per_party.subquery()
    buckets = list(grouped.c)[1:-1]
    total = type_coerce(sum(buckets[1:], buckets[0]), Money())
    sums = [*buckets, total]
    # One statement: the largest balances (all of them when they fit), and the count of
    # parties, the column totals and the documents over every party.
    ranked = (
        select(
            party.name,
            *sums,
            grouped.c.documents,
            func.count().over(),
            *(type_coerce(func.sum(c).over(), Money()) for c in sums),
            func.sum(grouped.c.documents).over(),
        )
        .select_from(grouped)
        .join(party, and_(party.id == grouped.c.party_id, in_company(party, ctx)))
        .order_by(total.desc(), party.name)
        .limit(MAX_ROWS)
    )
    found = [list(r) for r in session.execute(ranked)]
    width = len(columns)
    parties = int(found[0][width + 1]) if found else 0
    note = ""
    if parties > MAX_ROWS:
        rows = [r[:width] for r in found]
        over = found[0][width + 2 : 2 * width + 1]
        totals = {key: Decimal(v) for key, v in zip(columns[1:], over, strict=True)}
        count = int(found[0][-1])
        note = shown_note(len(rows), parties, "largest balances first")
    else:
        rows = [r[:width] for r in found]
        count = sum(int(r[width]) for r in found)
        rows.sort(key=lambda r: (-r[-1], r[0]))
        totals = {key: sum((r[i] for r in rows), ZERO) for i, key in enumerate(columns) if i}
    when = on_date(today)
    if not rows:
        return answer.result(columns, [], totals, f"No open {side.owed_word} {when}.", 0)
    fmt = answer.fmt
    overdue = totals["total"] - totals["current"]
    who = rows[0][0] if parties == 1 else fmt.count(parties, side.party_word)
    summary = (
        f"{side.owed_word.capitalize()} of {fmt.money(totals['total'])} are open across "
        f"{fmt.count(count, side.document_word)} for {who} {when}: {fmt.money(totals['current'])} "
        f"not yet due and {fmt.money(overdue)} overdue"
    )
    if totals["90+"]:
        summary += f", of which {fmt.money(totals['90+'])} is more than 90 days past due"
    return answer.result(columns, rows, totals, summary + "." + note, count)


def balances(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date, side: Side
) -> QueryResult:
    """What each party owes (AR) or is owed (AP): open documents less unapplied money."""
    filter_names = [side.party_filter, "min_amount", "max_amount", "top_n"]
    answer = Answer(
        ctx,
        today,
        ["invoices", "payments", "payment_allocations", side.party_model.__tablename__],
        given_filters(params, filter_names),
    )
    columns = [side.party_word, "open_documents", "open_amount", "overdue", "unapplied", "balance"]
    party_id = side.party_id(params)
    if party_id is not None and lookup_name(session, ctx, side.party_model, party_id) is None:
        return not_found(answer, columns, f"that {side.party_word}")
    party = side.party_model
    open_amount = Invoice.open_amount
    documents = _open_invoices(
        side,
        ctx,
        party.id,
        party.name,
        func.count(Invoice.id),
        money_sum(open_amount),
        money_sum(case((Invoice.due_date < today, open_amount), else_=0)),
    ).group_by(party.id, party.name)
    if party_id is not None:
        documents = documents.where(side.party_column == party_id)
    figures: dict[int, list[Any]] = {}
    record_count = 0
    for pid, name, n, amount, overdue in session.execute(documents):
        figures[pid] = [name, n, amount, overdue, ZERO]
        record_count += n
    for pid, name, unapplied, n in _unapplied(session, ctx, side, party_id):
        record_count += n
        if unapplied:
            figures.setdefault(pid, [name, 0, ZERO, ZERO, ZERO])[4] = unapplied
    rows = [[name, n, amt, over, unap, amt - unap] for name, n, amt, over, unap in figures.values()]
    if params.min_amount is not None:
        rows = [r for r in rows if r[5] >= params.min_amount]
    if params.max_amount is not None:
        rows = [r for r in rows if r[5] <= params.max_amount]
    rows.sort(key=lambda r: (-r[5], r[0]))
    totals = {key: sum((r[i] for r in rows), ZERO) for i, key in enumerate(columns) if i > 1}
    shown, _ = cut(rows, params.top_n)
    summary = _balance_sentence(answer, side, rows, totals, party_id is not None, today)
    summary += shown_note(len(shown), len(rows), "largest balances first")
    return answer.result(
        columns, shown, totals, summary, record_count, {"matched": len(rows), "shown": len(shown)}
    )


def _unapplied(
    session: Session, ctx: RequestContext, side: Side, party_id: int | None
) -> list[tuple[int, str, Decimal, int]]:
    """Per party: posted payments of the side's kind less what was allocated from them."""
    party = side.party_model
    # Only the allocations of the side's (and the party's) posted payments are summed: all
    # of a company's allocations were 1.1M rows at a million invoices for one customer's.
    allocations = (
        scoped(
            select(
                PaymentAllocation.payment_id,
                money_sum(PaymentAllocation.amount).label("amount"),
            ).join(Payment, Payment.id == PaymentAllocation.payment_id),
            PaymentAllocation,
            ctx,
        )
        .where(
            in_company(Payment, ctx),
            Payment.kind == side.payment_kind,
            Payment.status == PaymentStatus.POSTED.value,
        )
        .group_by(PaymentAllocation.payment_id)
    )
    if party_id is not None:
        allocations = allocations.where(side.payment_party_column == party_id)
    allocated = allocations.subquery()
    stmt = (
        select(
            party.id,
            party.name,
            money_sum(Payment.amount - func.coalesce(allocated.c.amount, 0)),
            func.count(Payment.id),
        )
        .select_from(Payment)
        .join(party, party.id == side.payment_party_column)
        .outerjoin(allocated, allocated.c.payment_id == Payment.id)
        .where(
            in_company(Payment, ctx),
            in_company(party, ctx),
            Payment.kind == side.payment_kind,
            Payment.status == PaymentStatus.POSTED.value,
        )
        .group_by(party.id, party.name)
    )
    if party_id is not None:
        stmt = stmt.where(side.payment_party_column == party_id)
    return [(int(pid), str(name), Decimal(a), int(n)) for pid, name, a, n in session.execute(stmt)]


def _balance_sentence(
    answer: Answer,
    side: Side,
    rows: list[list[Any]],
    totals: dict[str, Decimal],
    single: bool,
    today: dt.date,
) -> str:
    fmt = answer.fmt
    when = on_date(today)
    if not rows:
        if single:
            return f"Nothing is outstanding with that {side.party_word} {when}."
        return f"No {side.party_word} has an outstanding balance {when}."
    if single:
        name, n, amount, overdue, unapplied, balance = rows[0]
        verb = "owes us" if side.kind == AR else "is owed"
        text = f"{name} {verb} {fmt.money(balance)} {when}"
        detail = f"{fmt.money(amount)} open on {fmt.count(n, side.document_word)}"
        if overdue:
            detail += f" ({fmt.money(overdue)} overdue)"
        if unapplied:
            detail += f", less {fmt.money(unapplied)} paid but not yet applied"
        return f"{text}: {detail}."
    top = rows[0]
    verb = "owe us" if side.kind == AR else "are owed"
    return (
        f"{fmt.count(len(rows), side.party_word)} {verb} {fmt.money(totals['balance'])} "
        f"in all {when} ({fmt.money(totals['overdue'])} overdue); the largest balance is "
        f"{top[0]} at {fmt.money(top[5])}."
    )
