"""Sales orders: draft -> confirmed -> delivered -> invoiced, or cancelled before delivery.

Confirming checks stock (on hand less what other confirmed orders hold) and the
customer's credit limit; delivering issues the stock and books its cost; invoicing
creates and posts the AR invoice through the invoicing service.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.erp.documents import (
    DocLineIn,
    clean_notes,
    order_line_values,
    refuse_inactive_items,
    resolve_lines,
    totals_values,
)
from companion.erp.invoicing.models import Invoice, InvoiceKind
from companion.erp.invoicing.service import create_invoice, post_invoice
from companion.erp.items import repository as items_repo
from companion.erp.items.models import Warehouse
from companion.erp.items.service import default_warehouse, require_any
from companion.erp.ledger.models import AccountRole
from companion.erp.numbering.service import DocType, next_number
from companion.erp.parties import repository as parties_repo
from companion.erp.sales import repository as repo
from companion.erp.sales.models import SalesOrder, SalesOrderLine
from companion.erp.sales.models import SalesOrderStatus as S
from companion.erp.sales.rules import check_credit_limit, check_transition, shortages, total_by_item
from companion.erp.stock import repository as stock_repo
from companion.erp.stock.accounting import post_stock_journal, stock_value
from companion.erp.stock.service import issue_stock
from companion.errors import BusinessRuleViolation
from companion.kit.money import ZERO
from companion.tenancy.context import RequestContext


def create_sales_order(
    session: Session,
    ctx: RequestContext,
    *,
    customer_id: int,
    order_date: dt.date,
    lines: list[DocLineIn],
    warehouse_id: int | None = None,
    notes: str | None = None,
) -> SalesOrder:
    """A draft order (SO-YYYY-NNNN) priced from the item list prices unless given (sales.write)."""
    ctx.require("sales.write")
    customer = parties_repo.get_customer(session, ctx, customer_id)
    if not customer.is_active:
        raise BusinessRuleViolation(
            f"Customer {customer.code} is inactive", details={"customer_id": customer.id}
        )
    warehouse = items_repo.get_warehouse(session, ctx, warehouse_id) if warehouse_id else None
    resolved, totals = resolve_lines(session, ctx, lines, price="sale")
    refuse_inactive_items(resolved)
    if warehouse is None and any(r.item.is_tracked for r in resolved):
        warehouse = default_warehouse(session, ctx)
    order = SalesOrder(
        company_id=ctx.company_id,
        number=next_number(session, ctx.company_id, DocType.SALES_ORDER, order_date),
        customer_id=customer.id,
        warehouse_id=warehouse.id if warehouse else None,
        order_date=order_date,
        status=S.DRAFT.value,
        currency=ctx.currency,
        **totals_values(totals),
        notes=clean_notes(notes),
        created_by_id=ctx.user_id,
        lines=[SalesOrderLine(**order_line_values(ctx, r)) for r in resolved],
    )
    session.add(order)
    session.flush()
    audit.record(session, ctx, "sales_order.create", "sales_order", order.id, new=_values(order))
    return order


def confirm_sales_order(session: Session, ctx: RequestContext, order_id: int) -> SalesOrder:
    """Confirm a draft (sales.write) when stock and the customer's credit limit allow it."""
    ctx.require("sales.write")
    order = repo.get_order(session, ctx, order_id, for_update=True)
    check_transition(order.status, S.CONFIRMED, order.number)
    needed = _tracked_quantities(session, ctx, order)
    if needed:
        warehouse = _order_warehouse(session, ctx, order)
        on_hand = stock_repo.on_hand_many(session, ctx, warehouse.id, needed)
        held = repo.reserved_quantities(
            session, ctx, warehouse.id, needed, exclude_order_id=order.id
        )
        available = {i: on_hand.get(i, ZERO) - held.get(i, ZERO) for i in needed}
        _refuse_shortages(session, ctx, order, warehouse, needed, available, "available")
    customer = parties_repo.get_customer(session, ctx, order.customer_id)
    check_credit_limit(
        customer.credit_limit, repo.open_receivables(session, ctx, customer.id), order.total
    )
    return _set_status(session, ctx, order, S.CONFIRMED, "sales_order.confirm")


def deliver_sales_order(
    session: Session, ctx: RequestContext, order_id: int, *, on: dt.date
) -> SalesOrder:
    """Ship a confirmed order (sales.write or inventory.adjust): issue stock, book its cost."""
    require_any(ctx, "sales.write", "inventory.adjust")
    permission = "sales.write" if ctx.can("sales.write") else "inventory.adjust"
    order = repo.get_order(session, ctx, order_id, for_update=True)
    check_transition(order.status, S.DELIVERED, order.number)
    _refuse_before_order_date(order, on, "delivered")
    needed = _tracked_quantities(session, ctx, order)
    if needed:
        warehouse = _order_warehouse(session, ctx, order)
        # Check every line first so a short line leaves nothing half-issued.
        on_hand = stock_repo.on_hand_many(session, ctx, warehouse.id, needed)
        _refuse_shortages(session, ctx, order, warehouse, needed, on_hand, "on hand")
        cost = ZERO
        for line in order.lines:
            if line.item_id not in needed:
                continue
            move = issue_stock(
                session,
                ctx,
                item_id=line.item_id,
                warehouse_id=warehouse.id,
                quantity=line.quantity,
                on=on,
                reference=order.number,
                permission=permission,
            )
            cost += stock_value(move.quantity, move.unit_cost)
        post_stock_journal(
            session,
            ctx,
            on=on,
            memo=f"Cost of goods delivered on {order.number}",
            debit=AccountRole.COGS,
            credit=AccountRole.INVENTORY,
            amount=cost,
            source_type="sales_order",
            source_id=order.id,
        )
    return _set_status(session, ctx, order, S.DELIVERED, "sales_order.deliver", on=on)


def invoice_sales_order(
    session: Session, ctx: RequestContext, order_id: int, *, on: dt.date
) -> Invoice:
    """Create and post the AR invoice of a delivered order (finance.post); status invoiced."""
    ctx.require("finance.post")
    order = repo.get_order(session, ctx, order_id, for_update=True)
    check_transition(order.status, S.INVOICED, order.number)
    _refuse_before_order_date(order, on, "invoiced")
    invoice = create_invoice(
        session,
        ctx,
        kind=InvoiceKind.AR,
        party_id=order.customer_id,
        issue_date=on,
        lines=[
            DocLineIn(
                item_id=line.item_id,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_pct=line.discount_pct,
                tax_rate=line.tax_rate,
                description=line.description,
            )
            for line in order.lines
        ],
        sales_order_id=order.id,
        notes=f"Sales order {order.number}",
    )
    invoice = post_invoice(session, ctx, invoice.id, on=on)
    _set_status(session, ctx, order, S.INVOICED, "sales_order.invoice", invoice=invoice.number)
    return invoice


def cancel_sales_order(
    session: Session, ctx: RequestContext, order_id: int, *, reason: str
) -> SalesOrder:
    """Cancel a draft or confirmed order (sales.write); delivered goods cannot be cancelled."""
    ctx.require("sales.write")
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleViolation("Cancelling an order needs a reason")
    order = repo.get_order(session, ctx, order_id, for_update=True)
    check_transition(order.status, S.CANCELLED, order.number)
    order.cancel_reason = reason[:500]
    return _set_status(session, ctx, order, S.CANCELLED, "sales_order.cancel", reason=reason)


def _set_status(
    session: Session,
    ctx: RequestContext,
    order: SalesOrder,
    status: S,
    action: str,
    **extra: Any,
) -> SalesOrder:
    old = order.status
    order.status = status.value
    session.flush()
    audit.record(
        session,
        ctx,
        action,
        "sales_order",
        order.id,
        old={"status": old},
        new={"status": status.value, "number": order.number, **extra},
    )
    return order


def _tracked_quantities(
    session: Session, ctx: RequestContext, order: SalesOrder
) -> dict[int, Decimal]:
    """Quantities per tracked item of the order."""
    items = items_repo.items_by_ids(session, ctx, (line.item_id for line in order.lines))
    return total_by_item(
        (line.item_id, line.quantity) for line in order.lines if items[line.item_id].is_tracked
    )


def _order_warehouse(session: Session, ctx: RequestContext, order: SalesOrder) -> Warehouse:
    if order.warehouse_id is None:
        raise BusinessRuleViolation(
            f"Sales order {order.number} has stocked items but no warehouse",
            details={"number": order.number},
        )
    return items_repo.get_warehouse(session, ctx, order.warehouse_id)


def _refuse_shortages(
    session: Session,
    ctx: RequestContext,
    order: SalesOrder,
    warehouse: Warehouse,
    needed: dict[int, Decimal],
    available: dict[int, Decimal],
    what: str,
) -> None:
    short = shortages(needed, available)
    if not short:
        return
    skus = {s.item_id: items_repo.get_item(session, ctx, s.item_id).sku for s in short}
    listed = ", ".join(f"{skus[s.item_id]} (need {s.needed}, {s.available} {what})" for s in short)
    raise BusinessRuleViolation(
        f"Not enough stock in {warehouse.code} for {order.number}: {listed}",
        details={
            "number": order.number,
            "warehouse_id": warehouse.id,
            "shortages": [
                {
                    "item_id": s.item_id,
                    "sku": skus[s.item_id],
                    "needed": str(s.needed),
                    what.replace(" ", "_"): str(s.available),
                }
                for s in short
            ],
        },
    )


def _refuse_before_order_date(order: SalesOrder, on: dt.date, what: str) -> None:
    if on < order.order_date:
        raise BusinessRuleViolation(
            f"Sales order {order.number} cannot be {what} before its order date {order.order_date}",
            details={"order_date": order.order_date.isoformat(), "on": on.isoformat()},
        )


def _values(order: SalesOrder) -> dict[str, Any]:
    return {
        "number": order.number,
        "customer_id": order.customer_id,
        "warehouse_id": order.warehouse_id,
        "order_date": order.order_date,
        "status": order.status,
        "currency": order.currency,
        "total": order.total,
        "tax_total": order.tax_total,
        "lines": [
            {
                "item_id": line.item_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_pct": line.discount_pct,
                "tax_rate": line.tax_rate,
                "net_amount": line.net_amount,
            }
            for line in order.lines
        ],
    }
