"""Every business measure, declared once: its fact, its definition and its dimensions.

The definitions are imported from the ERP's models modules, where the fixed data queries,
the repositories behind REST and the alerts take them too (docs/decisions/0002): statuses,
the open amount, sales, receipts and payments, stock value. So a figure reads the same
whichever way it is asked:

- sales: subtotal (net of tax, after discounts) of customer invoices posted, partially
  paid or paid, by issue date; per item, the net amount of that item's invoice lines.
- open AR / AP: total - amount paid of invoices / bills posted or partially paid.
- expenses: journal lines on expense accounts, debit - credit, by voucher date.
- gross margin: revenue (the revenue-role account, credit - debit) less cost of goods sold
  (the COGS-role account, debit - credit), by voucher date.
- stock value: quantity on hand x the item's unit cost (as inventory valuation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, case, func, type_coerce

from companion.erp.invoicing.models import (
    ISSUED_STATUSES,
    OPEN_STATUSES,
    SALES_AMOUNT,
    SALES_DATE,
    SALES_LINE_AMOUNT,
    SALES_STATUSES,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    SalesMonth,
    is_overdue,
)
from companion.erp.items.models import Item, Warehouse
from companion.erp.ledger.models import Account, AccountDay, AccountRole, AccountType
from companion.erp.parties.models import Customer, Supplier
from companion.erp.payments.models import Payment, PaymentKind, is_posted
from companion.erp.purchasing.models import OPEN_STATUSES as PO_OPEN_STATUSES
from companion.erp.purchasing.models import PLACED_STATUSES as PO_STATUSES
from companion.erp.purchasing.models import PurchaseOrder, PurchaseOrderLine
from companion.erp.sales.models import PLACED_STATUSES as ORDER_STATUSES
from companion.erp.sales.models import SalesOrder, SalesOrderStatus
from companion.erp.stock.models import STOCK_VALUE, StockLevel
from companion.kit.db import Money

Unit = Literal["money", "quantity", "count"]


def _money(expr: Any) -> ColumnElement[Decimal]:
    return type_coerce(func.coalesce(func.sum(expr), 0), Money())


def _qty(expr: Any) -> ColumnElement[Decimal]:
    return type_coerce(func.coalesce(func.sum(expr), 0), Money(18, 3))


# The part that counts distinct rows (invoices, customers): a group's count is no share of
# the total's where one row falls in several groups (an invoice's lines under several items,
# a customer buying in several months), so the engine counts the total again (``recounts``).
COUNT = "n"


def _count(expr: Any) -> ColumnElement[int]:
    return func.count(func.distinct(expr))


@dataclass(frozen=True)
class Dim:
    """How a fact is broken down by one dimension: its key column and where its name is."""

    key: Any
    names: Any | None = None  # the master-data model whose ``name`` labels the key
    label: Any | None = None  # a column of a table already joined, when not ``names``


@dataclass(frozen=True)
class Source:
    """A fact table with its joins, conditions, date and aggregate parts."""

    fact: Any
    parts: Mapping[str, Any]
    dims: Mapping[str, Dim]
    where: tuple[Any, ...] = ()
    joins: tuple[tuple[Any, Any], ...] = ()
    date: Any | None = None
    status: Any | None = None
    statuses: tuple[str, ...] = ()  # the statuses counted unless the question names one
    tables: tuple[str, ...] = ()
    # Left-joined (a missing row keeps the fact): an invoice without a sales order still sells.
    outer: tuple[tuple[Any, Any], ...] = ()
    # One row per document line: a document is in the group of each of its lines' items.
    per_line: bool = False
    # The condition "overdue as of today" (open and past due) where the fact has a due date.
    overdue: Callable[[dt.date], Any] | None = None
    # The columns of ``SalesMonth`` (sales per customer and month, kept by the ledger) whose
    # sums are these parts: whole months are read there (analytics.summary).
    summary: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Measure:
    """A business measure: what it means, its unit, who may read it, how it is computed."""

    name: str
    label: str  # how answers name it: "sales", "quantity sold"
    unit: Unit
    figure: str  # tenancy.figures: the permission that reads it
    definition: str  # the provenance line
    sources: tuple[Source, ...]  # the first that takes every dimension asked is used
    value: Callable[[Mapping[str, Decimal]], Decimal | None]
    additive: bool = True
    snapshot: bool = False  # a balance as of today, not a flow over a period
    qualifier: str = ""  # "net of tax", said after the figure
    # Why a dimension this measure lacks doesn't apply ("receipts are not recorded per item").
    lacks: Mapping[str, str] = field(default_factory=dict)
    # A count of distinct members (customers who bought): its total over groups (months,
    # items) is counted again over the whole period, never the sum of the groups' counts.
    distinct: bool = False

    @property
    def dimensions(self) -> frozenset[str]:
        """Every dimension some source of this measure takes."""
        return frozenset(d for s in self.sources for d in s.dims)


def _part(name: str) -> Callable[[Mapping[str, Decimal]], Decimal | None]:
    return lambda parts: parts[name]


def _ratio(parts: Mapping[str, Decimal]) -> Decimal | None:
    return parts["amount"] / parts[COUNT] if parts[COUNT] else None


_AR = (Invoice.kind == InvoiceKind.AR.value,)
_AP = (Invoice.kind == InvoiceKind.AP.value,)
_INVOICE_DIMS = {
    "customer": Dim(Invoice.customer_id, Customer),
    "status": Dim(Invoice.status),
    "warehouse": Dim(SalesOrder.warehouse_id, Warehouse),
}
_SO_JOIN = ((SalesOrder, SalesOrder.id == Invoice.sales_order_id),)


def _sales_sources(parts: Mapping[str, Any], line_parts: Mapping[str, Any]) -> tuple[Source, ...]:
    """Invoice-level facts, and line-level ones for a breakdown or filter by item."""
    invoice = Source(
        Invoice,
        parts,
        _INVOICE_DIMS,
        _AR,
        date=SALES_DATE,
        status=Invoice.status,
        overdue=is_overdue,
        statuses=SALES_STATUSES,
        tables=("invoices",),
    )
    lines = Source(
        InvoiceLine,
        line_parts,
        {**_INVOICE_DIMS, "item": Dim(InvoiceLine.item_id, Item)},
        _AR,
        joins=((Invoice, Invoice.id == InvoiceLine.invoice_id),),
        date=SALES_DATE,
        status=Invoice.status,
        overdue=is_overdue,
        statuses=SALES_STATUSES,
        tables=("invoices", "invoice_lines"),
        per_line=True,
    )
    return invoice, lines


def _with_so(sources: tuple[Source, ...]) -> tuple[Source, ...]:
    """The same sources reaching the warehouse through each invoice's sales order."""
    return tuple(replace(s, tables=(*s.tables, "sales_orders"), outer=_SO_JOIN) for s in sources)


def _sales_like(
    parts: Mapping[str, Any],
    line_parts: Mapping[str, Any],
    summary: Mapping[str, Any] | None = None,
) -> tuple[Source, ...]:
    plain = _sales_sources(parts, line_parts)
    # Without the warehouse, no join to sales orders (an invoice without one still counts).
    invoice, lines = (
        replace(s, dims={k: v for k, v in s.dims.items() if k != "warehouse"}) for s in plain
    )
    return (replace(invoice, summary=summary or {}), lines, *_with_so(plain))


_NOT_PER_ITEM = "{label} are recorded per invoice, not per item"
_PAYMENT_NOT = "receipts and payments are recorded per party and bank account only"

# The ledger's own totals of the journal lines per account and voucher date (kept by each
# posting): the same sums as the lines, a few rows per account and day to read.
_LEDGER = dict(
    joins=((Account, Account.id == AccountDay.account_id),),
    date=AccountDay.day,
    tables=("journal_lines", "journal_vouchers", "accounts"),
)

_measures: list[Measure] = [
    Measure(
        "sales",
        "sales",
        "money",
        "sales_totals",
        "sales = subtotal (net of tax) of customer invoices posted, partially paid or paid, "
        "by issue date; per item, the invoice lines' net amounts",
        _sales_like(
            {"amount": _money(SALES_AMOUNT)},
            {"amount": _money(SALES_LINE_AMOUNT)},
            {"amount": SalesMonth.amount},
        ),
        _part("amount"),
        qualifier="net of tax",
    ),
    Measure(
        "quantity_sold",
        "quantity sold",
        "quantity",
        "sales_totals",
        "quantity sold = quantity on the lines of customer invoices posted, partially paid or "
        "paid, by issue date",
        _sales_like({}, {"qty": _qty(InvoiceLine.quantity)})[1::2],
        _part("qty"),
    ),
    Measure(
        "invoice_count",
        "invoices",
        "count",
        "sales_totals",
        "invoices = customer invoices posted, partially paid or paid (drafts and voids "
        "excluded), by issue date",
        _sales_like(
            {COUNT: _count(Invoice.id)},
            {COUNT: _count(Invoice.id)},
            {COUNT: SalesMonth.invoices},
        ),
        _part(COUNT),
    ),
    Measure(
        "order_count",
        "sales orders",
        "count",
        "sales_totals",
        "sales orders = customer orders confirmed, delivered or invoiced (drafts and cancelled "
        "orders excluded), by order date",
        (
            Source(
                SalesOrder,
                {COUNT: _count(SalesOrder.id)},
                {
                    "customer": Dim(SalesOrder.customer_id, Customer),
                    "warehouse": Dim(SalesOrder.warehouse_id, Warehouse),
                    "status": Dim(SalesOrder.status),
                },
                date=SalesOrder.order_date,
                status=SalesOrder.status,
                statuses=ORDER_STATUSES,
                tables=("sales_orders",),
            ),
        ),
        _part(COUNT),
        lacks={"item": "an order is counted once, not per item it holds"},
    ),
    Measure(
        "average_invoice",
        "average invoice value",
        "money",
        "sales_totals",
        "average invoice value = sales (net of tax) / number of customer invoices posted, "
        "partially paid or paid",
        _sales_like(
            {"amount": _money(SALES_AMOUNT), COUNT: _count(Invoice.id)},
            {"amount": _money(SALES_LINE_AMOUNT), COUNT: _count(Invoice.id)},
            {"amount": SalesMonth.amount, COUNT: SalesMonth.invoices},
        ),
        _ratio,
        additive=False,
        qualifier="net of tax",
    ),
    Measure(
        "receipts",
        "receipts",
        "money",
        "payments",
        "receipts = posted customer receipts, by payment date",
        (
            Source(
                Payment,
                {"amount": _money(Payment.amount)},
                {"customer": Dim(Payment.customer_id, Customer)},
                (is_posted(PaymentKind.RECEIPT),),
                date=Payment.payment_date,
                tables=("payments",),
            ),
        ),
        _part("amount"),
        lacks={"item": _PAYMENT_NOT, "warehouse": _PAYMENT_NOT},
    ),
    Measure(
        "supplier_payments",
        "supplier payments",
        "money",
        "payments",
        "supplier payments = posted payments to suppliers, by payment date",
        (
            Source(
                Payment,
                {"amount": _money(Payment.amount)},
                {"supplier": Dim(Payment.supplier_id, Supplier)},
                (is_posted(PaymentKind.PAYMENT),),
                date=Payment.payment_date,
                tables=("payments",),
            ),
        ),
        _part("amount"),
        lacks={"item": _PAYMENT_NOT, "warehouse": _PAYMENT_NOT},
    ),
    Measure(
        "po_value",
        "purchase order value",
        "money",
        "purchase_orders",
        "purchase order value = total (tax included) of purchase orders by order date, drafts, "
        "rejected and cancelled orders excluded; per item, the lines' net amounts",
        (
            Source(
                PurchaseOrder,
                {"amount": _money(PurchaseOrder.total)},
                {
                    "supplier": Dim(PurchaseOrder.supplier_id, Supplier),
                    "warehouse": Dim(PurchaseOrder.warehouse_id, Warehouse),
                    "status": Dim(PurchaseOrder.status),
                },
                date=PurchaseOrder.order_date,
                status=PurchaseOrder.status,
                statuses=PO_STATUSES,
                tables=("purchase_orders",),
            ),
            Source(
                PurchaseOrderLine,
                {"amount": _money(PurchaseOrderLine.net_amount)},
                {
                    "supplier": Dim(PurchaseOrder.supplier_id, Supplier),
                    "warehouse": Dim(PurchaseOrder.warehouse_id, Warehouse),
                    "status": Dim(PurchaseOrder.status),
                    "item": Dim(PurchaseOrderLine.item_id, Item),
                },
                joins=((PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id),),
                date=PurchaseOrder.order_date,
                status=PurchaseOrder.status,
                statuses=PO_STATUSES,
                tables=("purchase_orders", "purchase_order_lines"),
                per_line=True,
            ),
        ),
        _part("amount"),
    ),
    Measure(
        "purchases",
        "purchases",
        "money",
        "invoices",
        "purchases = subtotal (net of tax) of supplier bills posted, partially paid or paid, "
        "by bill date; per item, the bill lines' net amounts",
        (
            Source(
                Invoice,
                {"amount": _money(Invoice.subtotal)},
                {"supplier": Dim(Invoice.supplier_id, Supplier), "status": Dim(Invoice.status)},
                _AP,
                date=Invoice.issue_date,
                status=Invoice.status,
                overdue=is_overdue,
                statuses=ISSUED_STATUSES,
                tables=("invoices",),
            ),
            Source(
                InvoiceLine,
                {"amount": _money(InvoiceLine.net_amount)},
                {
                    "supplier": Dim(Invoice.supplier_id, Supplier),
                    "status": Dim(Invoice.status),
                    "item": Dim(InvoiceLine.item_id, Item),
                },
                _AP,
                joins=((Invoice, Invoice.id == InvoiceLine.invoice_id),),
                date=Invoice.issue_date,
                status=Invoice.status,
                overdue=is_overdue,
                statuses=ISSUED_STATUSES,
                tables=("invoices", "invoice_lines"),
                per_line=True,
            ),
        ),
        _part("amount"),
        qualifier="net of tax",
        lacks={"warehouse": "supplier bills are not recorded per warehouse"},
    ),
    Measure(
        "tax_collected",
        "tax charged",
        "money",
        "invoices",
        "tax charged on sales = the tax (VAT) on customer invoices posted, partially paid or "
        "paid, by issue date; per item, the invoice lines' tax amounts",
        _sales_like(
            {"amount": _money(Invoice.tax_total)},
            {"amount": _money(InvoiceLine.tax_amount)},
            {"amount": SalesMonth.tax},
        ),
        _part("amount"),
    ),
    Measure(
        "expenses",
        "expenses",
        "money",
        "ledger",
        "expenses = journal lines on expense accounts, debit - credit, by voucher date",
        (
            Source(
                AccountDay,
                {"amount": _money(AccountDay.debit - AccountDay.credit)},
                {"account": Dim(AccountDay.account_id, label=Account.name)},
                (Account.account_type == AccountType.EXPENSE.value,),
                **_LEDGER,  # type: ignore[arg-type]
            ),
        ),
        _part("amount"),
        lacks={
            "customer": "expenses are posted to accounts, not to customers",
            "item": "expenses are posted to accounts, not to items",
        },
    ),
    Measure(
        "gross_margin",
        "gross margin",
        "money",
        "ledger",
        "gross margin = revenue (revenue account, credit - debit) - cost of goods sold (COGS "
        "account, debit - credit) from the ledger, by voucher date",
        (
            Source(
                AccountDay,
                {
                    "revenue": _money(
                        case(
                            (
                                Account.role == AccountRole.REVENUE.value,
                                AccountDay.credit - AccountDay.debit,
                            ),
                            else_=0,
                        )
                    ),
                    "cogs": _money(
                        case(
                            (
                                Account.role == AccountRole.COGS.value,
                                AccountDay.debit - AccountDay.credit,
                            ),
                            else_=0,
                        )
                    ),
                },
                {},
                (Account.role.in_([AccountRole.REVENUE.value, AccountRole.COGS.value]),),
                **_LEDGER,  # type: ignore[arg-type]
            ),
        ),
        lambda p: p["revenue"] - p["cogs"],
        lacks={
            d: "the ledger posts revenue and cost of goods sold in totals, not per "
            "customer, item or warehouse"
            for d in ("customer", "item", "warehouse", "supplier")
        },
    ),
    Measure(
        "open_ar",
        "open receivables",
        "money",
        "invoices",
        "open receivables = total - amount paid of customer invoices posted or partially paid, "
        "as of today",
        (
            Source(
                Invoice,
                {"amount": _money(Invoice.open_amount)},
                {"customer": Dim(Invoice.customer_id, Customer), "status": Dim(Invoice.status)},
                _AR,
                date=Invoice.issue_date,
                status=Invoice.status,
                overdue=is_overdue,
                statuses=OPEN_STATUSES,
                tables=("invoices",),
            ),
        ),
        _part("amount"),
        snapshot=True,
        lacks={"item": _NOT_PER_ITEM.format(label="open amounts")},
    ),
    Measure(
        "open_ap",
        "open payables",
        "money",
        "invoices",
        "open payables = total - amount paid of supplier bills posted or partially paid, "
        "as of today",
        (
            Source(
                Invoice,
                {"amount": _money(Invoice.open_amount)},
                {"supplier": Dim(Invoice.supplier_id, Supplier), "status": Dim(Invoice.status)},
                _AP,
                date=Invoice.issue_date,
                status=Invoice.status,
                overdue=is_overdue,
                statuses=OPEN_STATUSES,
                tables=("invoices",),
            ),
        ),
        _part("amount"),
        snapshot=True,
        lacks={"item": _NOT_PER_ITEM.format(label="open amounts")},
    ),
    Measure(
        "open_invoices",
        "open invoices",
        "count",
        "invoices",
        "open invoices = customer invoices posted or partially paid (not yet paid in full), "
        "whatever their date, as of today",
        (
            Source(
                Invoice,
                {COUNT: _count(Invoice.id)},
                {"customer": Dim(Invoice.customer_id, Customer), "status": Dim(Invoice.status)},
                _AR,
                date=Invoice.issue_date,
                status=Invoice.status,
                overdue=is_overdue,
                statuses=OPEN_STATUSES,
                tables=("invoices",),
            ),
        ),
        _part(COUNT),
        snapshot=True,
        lacks={"item": _NOT_PER_ITEM.format(label="open invoices")},
    ),
    Measure(
        "open_orders",
        "undelivered sales orders",
        "count",
        "sales_totals",
        "undelivered sales orders = customer orders confirmed and not yet delivered or "
        "invoiced, whatever their date, as of today",
        (
            Source(
                SalesOrder,
                {COUNT: _count(SalesOrder.id)},
                {
                    "customer": Dim(SalesOrder.customer_id, Customer),
                    "warehouse": Dim(SalesOrder.warehouse_id, Warehouse),
                },
                date=SalesOrder.order_date,
                status=SalesOrder.status,
                statuses=(SalesOrderStatus.CONFIRMED.value,),
                tables=("sales_orders",),
            ),
        ),
        _part(COUNT),
        snapshot=True,
        lacks={"item": "an order is counted once, not per item it holds"},
    ),
    Measure(
        "open_pos",
        "undelivered purchase orders",
        "count",
        "purchase_orders",
        "undelivered purchase orders = purchase orders approved or partly received, "
        "whatever their date, as of today",
        (
            Source(
                PurchaseOrder,
                {COUNT: _count(PurchaseOrder.id)},
                {
                    "supplier": Dim(PurchaseOrder.supplier_id, Supplier),
                    "warehouse": Dim(PurchaseOrder.warehouse_id, Warehouse),
                },
                date=PurchaseOrder.order_date,
                status=PurchaseOrder.status,
                statuses=PO_OPEN_STATUSES,
                tables=("purchase_orders",),
            ),
        ),
        _part(COUNT),
        snapshot=True,
        lacks={"item": "an order is counted once, not per item it holds"},
    ),
    Measure(
        "stock_quantity",
        "stock on hand",
        "quantity",
        "stock",
        "stock on hand = quantity in stock levels per item and warehouse, as of today",
        (
            Source(
                StockLevel,
                {"qty": _qty(StockLevel.quantity)},
                {
                    "item": Dim(StockLevel.item_id, Item),
                    "warehouse": Dim(StockLevel.warehouse_id, Warehouse),
                },
                tables=("stock_levels",),
            ),
        ),
        _part("qty"),
        snapshot=True,
    ),
    Measure(
        "stock_value",
        "stock value",
        "money",
        "stock",
        "stock value = quantity on hand x the item's unit cost, as of today",
        (
            Source(
                StockLevel,
                {"amount": _money(STOCK_VALUE)},
                {
                    "item": Dim(StockLevel.item_id, label=Item.name),
                    "warehouse": Dim(StockLevel.warehouse_id, Warehouse),
                },
                joins=((Item, Item.id == StockLevel.item_id),),
                tables=("stock_levels", "items"),
            ),
        ),
        _part("amount"),
        snapshot=True,
        qualifier="at cost",
    ),
]


def _distinct(name: str, of: str, column: Any, label: str, definition: str) -> Measure:
    """A count of distinct ``column`` over measure ``of``'s facts: the same rows, counted
    once per customer, item or supplier (only the sources that carry ``column``'s table)."""
    base = next(m for m in _measures if m.name == of)
    table = column.class_
    sources = tuple(
        replace(s, parts={COUNT: _count(column)}, summary={})
        for s in base.sources
        if s.fact is table or any(j is table for j, _ in s.joins)
    )
    return Measure(
        name,
        label,
        "count",
        base.figure,
        definition,
        sources,
        _part(COUNT),
        additive=False,
        lacks=base.lacks,
        distinct=True,
    )


_measures += [
    _distinct(
        "customers_buying",
        "sales",
        Invoice.customer_id,
        "customers who bought",
        "customers who bought = distinct customers on customer invoices posted, partially "
        "paid or paid, by issue date (as sales)",
    ),
    _distinct(
        "items_sold",
        "sales",
        InvoiceLine.item_id,
        "items sold",
        "items sold = distinct items on the lines of customer invoices posted, partially paid "
        "or paid, by issue date (as sales)",
    ),
    _distinct(
        "customers_paying",
        "receipts",
        Payment.customer_id,
        "customers who paid",
        "customers who paid = distinct customers with a posted receipt from them, by payment "
        "date (as receipts)",
    ),
    _distinct(
        "suppliers_paid",
        "supplier_payments",
        Payment.supplier_id,
        "suppliers paid",
        "suppliers paid = distinct suppliers with a posted payment to them, by payment date "
        "(as supplier payments)",
    ),
]

MEASURES: Mapping[str, Measure] = {m.name: m for m in _measures}
