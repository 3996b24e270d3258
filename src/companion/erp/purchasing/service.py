"""Purchase orders: draft -> approval -> receipt -> bill, with a multi-level approval workflow.

Submitting creates one task per approval level the total reaches; the lowest is PENDING,
the rest WAITING. Levels are decided in order by the named user or, failing one, anyone
holding the level's role (and procurement.approve); nobody approves two levels of one order.
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
from companion.erp.items.service import default_warehouse, require_any
from companion.erp.numbering.service import DocType, next_number
from companion.erp.parties import repository as parties_repo
from companion.erp.purchasing import repository as repo
from companion.erp.purchasing.approvals import (
    approve_purchase_order,
    pending_approvals_for,
    reject_purchase_order,
    skip_open_tasks,
)
from companion.erp.purchasing.models import (
    ApprovalLevel,
    ApprovalTask,
    PurchaseOrder,
    PurchaseOrderLine,
    TaskStatus,
)
from companion.erp.purchasing.models import POStatus as S
from companion.erp.purchasing.rules import (
    BILLABLE,
    RECEIVABLE,
    applicable_levels,
    check_transition,
    receipt_status,
)
from companion.erp.purchasing.schemas import ApprovalLevelIn
from companion.erp.stock.service import check_quantity, receive_stock
from companion.errors import BusinessRuleViolation, InvalidState
from companion.kit.money import HUNDRED, money
from companion.tenancy.context import RequestContext
from companion.tenancy.permissions import ROLES

__all__ = [
    "approve_purchase_order",
    "bill_purchase_order",
    "cancel_purchase_order",
    "create_purchase_order",
    "pending_approvals_for",
    "receive_purchase_order",
    "reject_purchase_order",
    "set_approval_levels",
    "submit_purchase_order",
]

_APPROVE = "procurement.approve"


def set_approval_levels(
    session: Session, company_id: int, levels: list[ApprovalLevelIn]
) -> list[ApprovalLevel]:
    """Replace the company's approval levels (an administrative setting, audited)."""
    numbers = [lv.level for lv in levels]
    if len(set(numbers)) != len(numbers):
        raise BusinessRuleViolation(
            "Approval level numbers must be unique", details={"levels": numbers}
        )
    for lv in levels:
        _check_approver(session, company_id, lv)
    old = [_level_values(lv) for lv in repo.levels_of(session, company_id)]
    rows = [
        ApprovalLevel(
            company_id=company_id,
            level=lv.level,
            name=lv.name,
            min_amount=lv.min_amount,
            role=lv.role,
            user_id=lv.user_id,
        )
        for lv in sorted(levels, key=lambda lv: lv.level)
    ]
    repo.replace_levels(session, company_id, rows)
    audit.record(
        session,
        None,
        "approval_levels.set",
        "company",
        company_id,
        old={"levels": old},
        new={"levels": [_level_values(r) for r in rows]},
        company_id=company_id,
    )
    return rows


def create_purchase_order(
    session: Session,
    ctx: RequestContext,
    *,
    supplier_id: int,
    order_date: dt.date,
    lines: list[DocLineIn],
    warehouse_id: int | None = None,
    expected_date: dt.date | None = None,
    notes: str | None = None,
) -> PurchaseOrder:
    """A draft order (PO-YYYY-NNNN) priced at item cost unless given (procurement.write)."""
    ctx.require("procurement.write")
    supplier = parties_repo.get_supplier(session, ctx, supplier_id)
    if not supplier.is_active:
        raise BusinessRuleViolation(
            f"Supplier {supplier.code} is inactive", details={"supplier_id": supplier.id}
        )
    if expected_date is not None and expected_date < order_date:
        raise BusinessRuleViolation(
            "The expected date cannot be before the order date",
            details={
                "order_date": order_date.isoformat(),
                "expected_date": expected_date.isoformat(),
            },
        )
    warehouse = items_repo.get_warehouse(session, ctx, warehouse_id) if warehouse_id else None
    resolved, totals = resolve_lines(session, ctx, lines, price="cost")
    refuse_inactive_items(resolved)
    if warehouse is None and any(r.item.is_tracked for r in resolved):
        warehouse = default_warehouse(session, ctx)
    order = PurchaseOrder(
        company_id=ctx.company_id,
        number=next_number(session, ctx.company_id, DocType.PURCHASE_ORDER, order_date),
        supplier_id=supplier.id,
        warehouse_id=warehouse.id if warehouse else None,
        order_date=order_date,
        expected_date=expected_date,
        status=S.DRAFT.value,
        currency=ctx.currency,
        **totals_values(totals),
        notes=clean_notes(notes),
        created_by_id=ctx.user_id,
        lines=[
            PurchaseOrderLine(
                **order_line_values(ctx, r),
                received_quantity=Decimal("0"),
                billed_quantity=Decimal("0"),
            )
            for r in resolved
        ],
    )
    session.add(order)
    session.flush()
    audit.record(
        session, ctx, "purchase_order.create", "purchase_order", order.id, new=_values(order)
    )
    return order


def submit_purchase_order(session: Session, ctx: RequestContext, order_id: int) -> PurchaseOrder:
    """Send a draft for approval (procurement.write); with no level reached it is approved."""
    ctx.require("procurement.write")
    order = repo.get_order(session, ctx, order_id, for_update=True)
    check_transition(order.status, S.PENDING_APPROVAL, order.number)
    levels = applicable_levels(repo.levels_of(session, ctx.company_id), order.total)
    old = order.status
    for n, lv in enumerate(levels):
        order.tasks.append(
            ApprovalTask(
                company_id=ctx.company_id,
                level=lv.level,
                assigned_role=lv.role,
                assigned_user_id=lv.user_id,
                status=(TaskStatus.PENDING if n == 0 else TaskStatus.WAITING).value,
            )
        )
    order.status = (S.PENDING_APPROVAL if levels else S.APPROVED).value
    session.flush()
    audit.record(
        session,
        ctx,
        "purchase_order.submit",
        "purchase_order",
        order.id,
        old={"status": old},
        new={
            "status": order.status,
            "number": order.number,
            "levels": [
                {"level": lv.level, "role": lv.role, "user_id": lv.user_id} for lv in levels
            ],
        },
    )
    return order


def receive_purchase_order(
    session: Session,
    ctx: RequestContext,
    order_id: int,
    *,
    on: dt.date,
    quantities: dict[int, Decimal] | None = None,
) -> PurchaseOrder:
    """Receive goods into the order's warehouse (procurement.write or inventory.adjust).

    ``quantities`` maps order line ids to quantities received now; None receives everything
    still outstanding. More than is outstanding on a line is refused.
    """
    require_any(ctx, "procurement.write", "inventory.adjust")
    permission = "procurement.write" if ctx.can("procurement.write") else "inventory.adjust"
    order = repo.get_order(session, ctx, order_id, for_update=True)
    if S(order.status) not in RECEIVABLE:
        raise InvalidState(
            f"Purchase order {order.number} is {order.status}; goods can be received only "
            "once it is approved",
            details={"number": order.number, "status": order.status},
        )
    if on < order.order_date:
        raise BusinessRuleViolation(
            f"Goods cannot be received before the order date {order.order_date}",
            details={"order_date": order.order_date.isoformat(), "on": on.isoformat()},
        )
    receipts = _receipts(order, quantities)
    items = items_repo.items_by_ids(session, ctx, (line.item_id for line, _ in receipts))
    if order.warehouse_id is None and any(items[line.item_id].is_tracked for line, _ in receipts):
        raise BusinessRuleViolation(
            f"Purchase order {order.number} has stocked items but no warehouse",
            details={"number": order.number},
        )
    for line, qty in receipts:
        if items[line.item_id].is_tracked and order.warehouse_id is not None:
            receive_stock(
                session,
                ctx,
                item_id=line.item_id,
                warehouse_id=order.warehouse_id,
                quantity=qty,
                unit_cost=money(line.unit_price * (HUNDRED - line.discount_pct) / HUNDRED),
                on=on,
                reference=order.number,
                permission=permission,
            )
        line.received_quantity += qty
    old = order.status
    status = receipt_status((line.quantity, line.received_quantity) for line in order.lines)
    check_transition(old, status, order.number)
    order.status = status.value
    session.flush()
    audit.record(
        session,
        ctx,
        "purchase_order.receive",
        "purchase_order",
        order.id,
        old={"status": old},
        new={
            "status": order.status,
            "number": order.number,
            "on": on,
            "received": [{"line_id": line.id, "quantity": qty} for line, qty in receipts],
        },
    )
    return order


def bill_purchase_order(
    session: Session, ctx: RequestContext, order_id: int, *, on: dt.date
) -> Invoice:
    """Create and post the supplier's bill for what was received and not yet billed.

    Needs finance.post. A fully received order is closed once everything is billed.
    """
    ctx.require("finance.post")
    order = repo.get_order(session, ctx, order_id, for_update=True)
    if S(order.status) not in BILLABLE:
        raise InvalidState(
            f"Purchase order {order.number} is {order.status}; only received goods can be billed",
            details={"number": order.number, "status": order.status},
        )
    to_bill = [
        (line, line.received_quantity - line.billed_quantity)
        for line in order.lines
        if line.received_quantity > line.billed_quantity
    ]
    if not to_bill:
        raise InvalidState(
            f"Everything received on {order.number} is already billed",
            details={"number": order.number},
        )
    bill = create_invoice(
        session,
        ctx,
        kind=InvoiceKind.AP,
        party_id=order.supplier_id,
        issue_date=on,
        lines=[
            DocLineIn(
                item_id=line.item_id,
                quantity=qty,
                unit_price=line.unit_price,
                discount_pct=line.discount_pct,
                tax_rate=line.tax_rate,
                description=line.description,
            )
            for line, qty in to_bill
        ],
        purchase_order_id=order.id,
        notes=f"Purchase order {order.number}",
    )
    bill = post_invoice(session, ctx, bill.id, on=on)
    for line, qty in to_bill:
        line.billed_quantity += qty
    old = order.status
    if order.status == S.RECEIVED and all(ln.billed_quantity >= ln.quantity for ln in order.lines):
        order.status = S.CLOSED.value
    session.flush()
    audit.record(
        session,
        ctx,
        "purchase_order.bill",
        "purchase_order",
        order.id,
        old={"status": old},
        new={
            "status": order.status,
            "number": order.number,
            "bill": bill.number,
            "billed": [{"line_id": line.id, "quantity": qty} for line, qty in to_bill],
        },
    )
    return bill


def cancel_purchase_order(
    session: Session, ctx: RequestContext, order_id: int, *, reason: str
) -> PurchaseOrder:
    """Cancel an order before any goods arrive (procurement.write); open tasks are skipped."""
    ctx.require("procurement.write")
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleViolation("Cancelling an order needs a reason")
    order = repo.get_order(session, ctx, order_id, for_update=True)
    check_transition(order.status, S.CANCELLED, order.number)
    old = order.status
    skip_open_tasks(order)
    order.status = S.CANCELLED.value
    order.cancel_reason = reason[:500]
    session.flush()
    audit.record(
        session,
        ctx,
        "purchase_order.cancel",
        "purchase_order",
        order.id,
        old={"status": old},
        new={"status": order.status, "number": order.number, "reason": reason},
    )
    return order


def _check_approver(session: Session, company_id: int, level: ApprovalLevelIn) -> None:
    """A level nobody could ever decide would block every order that reaches it."""
    grants = ROLES.get(level.role)
    if grants is None:
        raise BusinessRuleViolation(
            f"Level {level.level}: unknown role '{level.role}'", details={"role": level.role}
        )
    if _APPROVE not in grants:
        raise BusinessRuleViolation(
            f"Level {level.level}: role '{level.role}' cannot approve purchase orders "
            f"(it lacks {_APPROVE})",
            details={"level": level.level, "role": level.role},
        )
    if level.user_id is None:
        return
    roles = repo.member_roles(session, company_id, level.user_id)
    if roles is None:
        raise BusinessRuleViolation(
            f"Level {level.level}: user {level.user_id} is not a member of the company",
            details={"level": level.level, "user_id": level.user_id},
        )
    if not any(_APPROVE in ROLES.get(r, frozenset()) for r in roles):
        raise BusinessRuleViolation(
            f"Level {level.level}: user {level.user_id} cannot approve purchase orders "
            f"(no role with {_APPROVE})",
            details={"level": level.level, "user_id": level.user_id},
        )


def _receipts(
    order: PurchaseOrder, quantities: dict[int, Decimal] | None
) -> list[tuple[PurchaseOrderLine, Decimal]]:
    """(line, quantity) pairs to receive now, checked against what is outstanding."""
    outstanding = {line.id: line.quantity - line.received_quantity for line in order.lines}
    if quantities is None:
        pairs = [(line, outstanding[line.id]) for line in order.lines if outstanding[line.id] > 0]
    else:
        by_id = {line.id: line for line in order.lines}
        unknown = sorted(set(quantities) - set(by_id))
        if unknown:
            raise BusinessRuleViolation(
                f"Line(s) {', '.join(map(str, unknown))} are not on {order.number}",
                details={"number": order.number, "line_ids": unknown},
            )
        pairs = []
        for line_id, qty in sorted(quantities.items()):
            if qty == 0:
                continue
            qty = check_quantity(qty, f"quantity of line {line_id}")
            if qty > outstanding[line_id]:
                raise BusinessRuleViolation(
                    f"Line {by_id[line_id].line_no} of {order.number}: {qty} is more than the "
                    f"{outstanding[line_id]} outstanding",
                    details={
                        "line_id": line_id,
                        "outstanding": str(outstanding[line_id]),
                        "quantity": str(qty),
                    },
                )
            pairs.append((by_id[line_id], qty))
    if not pairs:
        raise BusinessRuleViolation(
            f"Nothing to receive on {order.number}", details={"number": order.number}
        )
    return pairs


def _level_values(level: ApprovalLevel) -> dict[str, Any]:
    return {
        "level": level.level,
        "name": level.name,
        "min_amount": level.min_amount,
        "role": level.role,
        "user_id": level.user_id,
    }


def _values(order: PurchaseOrder) -> dict[str, Any]:
    return {
        "number": order.number,
        "supplier_id": order.supplier_id,
        "warehouse_id": order.warehouse_id,
        "order_date": order.order_date,
        "expected_date": order.expected_date,
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
