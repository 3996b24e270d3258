"""Purchase orders, the approvals waiting for the caller, and any order's status.

Definitions:
- purchase orders: filtered by order date in the period, supplier, status, an item on a
  line, the receiving warehouse, and total (min/max); newest first, or the largest first
  with ``top_n``. Totals cover every matching order; rows are cut at ``top_n``.
  Status words: any PO status, plus ``pending`` (pending_approval) and ``open`` (approved or
  partially_received).
- pending approvals: approval tasks the caller can act on now: status pending on an order
  pending approval, assigned to the caller's user id, or to one of the caller's roles when
  no user is named, on an order the caller has not already approved at another level; the
  caller must hold procurement.approve (the rule of erp.purchasing's approval service).
- order status: one purchase order (PO-, needs procurement.read) or sales order (SO-,
  needs sales.read) by number; another company's number answers like a missing one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from companion.assistant.answers import date_text, join_words
from companion.assistant.queries.common import (
    Answer,
    age_words,
    cut,
    given_filters,
    lookup_name,
    not_found,
    qty_sum,
    shown_note,
)
from companion.assistant.queries.registry import QueryParams, QueryResult, register
from companion.erp.parties.models import Customer, Supplier
from companion.erp.purchasing.models import (
    OPEN_STATUSES,
    ApprovalTask,
    POStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    TaskStatus,
)
from companion.erp.sales.models import SalesOrder, SalesOrderStatus
from companion.kit.money import ZERO
from companion.tenancy.context import RequestContext, in_company, scoped

_PO_ALIASES: dict[str, tuple[str, ...]] = {
    **{s.value: (s.value,) for s in POStatus},
    "pending": (POStatus.PENDING_APPROVAL.value,),
    "awaiting_approval": (POStatus.PENDING_APPROVAL.value,),
    "open": OPEN_STATUSES,
    "canceled": (POStatus.CANCELLED.value,),
}


def po_statuses(word: str) -> tuple[str, ...] | None:
    """The PO statuses a status word means (``pending`` -> pending_approval), or None."""
    key = word.strip().lower().replace("-", "_").replace(" ", "_")
    return _PO_ALIASES.get(key)


_PO_FILTERS = [
    "period",
    "supplier_id",
    "status",
    "item_id",
    "warehouse_id",
    "min_amount",
    "max_amount",
    "top_n",
    "min_days",
    "max_days",
]


@register(
    "purchase_orders",
    figure="purchase_orders",
    filters=set(_PO_FILTERS),
    description="Purchase orders by date, supplier, status, item or amount",
    lists=True,
)
def purchase_orders(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Purchase orders matching the filters; newest first, largest first with ``top_n``.

    ``min_days``/``max_days`` bound the order's age in days since its date ("open purchase
    orders older than 2 weeks")."""
    answer = Answer(
        ctx, today, ["purchase_orders", "suppliers"], given_filters(params, _PO_FILTERS)
    )
    columns = ["number", "supplier", "order_date", "status", "total"]
    statuses = po_statuses(params.status) if params.status else None
    if params.status and statuses is None:
        choices = join_words([s.value.replace("_", " ") for s in POStatus])
        return answer.empty(
            columns, f"I don't know the purchase order status '{params.status}'; try {choices}."
        )
    if params.supplier_id is not None and (
        lookup_name(session, ctx, Supplier, params.supplier_id) is None
    ):
        return not_found(answer, columns, "that supplier")
    stmt = (
        scoped(
            select(
                PurchaseOrder.number,
                Supplier.name,
                PurchaseOrder.order_date,
                PurchaseOrder.status,
                PurchaseOrder.total,
            ),
            PurchaseOrder,
            ctx,
        )
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .where(in_company(Supplier, ctx))
    )
    if params.period is not None:
        stmt = stmt.where(
            PurchaseOrder.order_date >= params.period.start,
            PurchaseOrder.order_date <= params.period.end,
        )
    if params.supplier_id is not None:
        stmt = stmt.where(PurchaseOrder.supplier_id == params.supplier_id)
    if statuses is not None:
        stmt = stmt.where(PurchaseOrder.status.in_(statuses))
    if params.warehouse_id is not None:
        stmt = stmt.where(PurchaseOrder.warehouse_id == params.warehouse_id)
    if params.item_id is not None:
        stmt = stmt.where(
            exists().where(
                PurchaseOrderLine.order_id == PurchaseOrder.id,
                in_company(PurchaseOrderLine, ctx),
                PurchaseOrderLine.item_id == params.item_id,
            )
        )
    if params.min_amount is not None:
        stmt = stmt.where(PurchaseOrder.total >= params.min_amount)
    if params.max_amount is not None:
        stmt = stmt.where(PurchaseOrder.total <= params.max_amount)
    if params.min_days is not None:
        stmt = stmt.where(PurchaseOrder.order_date <= today - dt.timedelta(days=params.min_days))
    if params.max_days is not None:
        stmt = stmt.where(PurchaseOrder.order_date >= today - dt.timedelta(days=params.max_days))
    found = list(session.execute(stmt).all())
    if params.top_n:
        found.sort(key=lambda r: (-r[4], r[0]))
    else:
        found.sort(key=lambda r: (r[2], r[0]), reverse=True)
    rows: list[list[Any]] = [[n, s, d.isoformat(), st, t] for n, s, d, st, t in found]
    total = sum((r[4] for r in rows), ZERO)
    status_words = f"{params.status.strip().lower()} " if params.status else ""
    # "older than 2 weeks": said in the answer
    dated = f" dated {age_words(params)} ago" if age_words(params) else ""
    if not rows:
        return answer.result(
            columns, [], {"total": total}, f"No {status_words}purchase orders{dated} match.", 0
        )
    fmt = answer.fmt
    largest = max(rows, key=lambda r: (r[4], r[0]))
    summary = (
        f"{fmt.count(len(rows), status_words + 'purchase order')}{dated} worth "
        f"{fmt.money(total)} "
        f"in all; the largest is {largest[0]} to {largest[1]} for {fmt.money(largest[4])}."
    )
    shown, _ = cut(rows, params.top_n)
    summary += shown_note(
        len(shown), len(rows), "largest first" if params.top_n else "most recent first"
    )
    return answer.result(
        columns,
        shown,
        {"total": total},
        summary,
        len(rows),
        {"matched": len(rows), "shown": len(shown)},
    )


# Another task of the same order. Made once: aliasing a mapped class copies every column,
# which cost each pending-approvals question ~1 ms of CPU when made per call.
_EARLIER = aliased(ApprovalTask, name="earlier_task")


def actionable_tasks(ctx: RequestContext) -> Any:
    """Conditions on ``ApprovalTask``/``PurchaseOrder`` for tasks the caller may decide now."""
    earlier = _EARLIER
    return and_(
        in_company(ApprovalTask, ctx),
        ApprovalTask.status == TaskStatus.PENDING.value,
        PurchaseOrder.status == POStatus.PENDING_APPROVAL.value,
        or_(
            ApprovalTask.assigned_user_id == ctx.user_id,
            and_(
                ApprovalTask.assigned_user_id.is_(None),
                ApprovalTask.assigned_role.in_(ctx.roles),
            ),
        ),
        # the same person may not approve two levels of one order
        ~exists().where(
            earlier.order_id == ApprovalTask.order_id,
            in_company(earlier, ctx),
            earlier.status == TaskStatus.APPROVED.value,
            earlier.decided_by_id == ctx.user_id,
        ),
    )


@register(
    "pending_approvals",
    figure="purchase_orders",
    filters={"supplier_id", "min_amount", "max_amount", "top_n", "min_days", "max_days"},
    description="Purchase orders waiting for the caller's approval",
    lists=True,
)
def pending_approvals(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Approval tasks the caller can act on now, largest order first; with ``min_days`` /
    ``max_days``, those whose order has waited that many days since its date (the
    approval_waiting alert's measure)."""
    names = ["supplier_id", "min_amount", "max_amount", "top_n", "min_days", "max_days"]
    answer = Answer(
        ctx,
        today,
        ["approval_tasks", "purchase_orders", "suppliers"],
        given_filters(params, names),
    )
    columns = ["number", "supplier", "order_date", "total", "level", "role"]
    if not ctx.can("procurement.approve"):
        return answer.result(
            columns,
            [],
            {"total": ZERO},
            "Nothing is waiting for you: approving purchase orders needs the "
            "'procurement.approve' permission.",
            0,
        )
    if params.supplier_id is not None and (
        lookup_name(session, ctx, Supplier, params.supplier_id) is None
    ):
        return not_found(answer, columns, "that supplier")
    stmt = (
        scoped(
            select(
                PurchaseOrder.number,
                Supplier.name,
                PurchaseOrder.order_date,
                PurchaseOrder.total,
                ApprovalTask.level,
                ApprovalTask.assigned_role,
            ),
            PurchaseOrder,
            ctx,
        )
        .join(ApprovalTask, ApprovalTask.order_id == PurchaseOrder.id)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .where(in_company(Supplier, ctx), actionable_tasks(ctx))
    )
    asked = []  # the question's filters, on the caller's tasks and on every pending order
    if params.supplier_id is not None:
        asked.append(PurchaseOrder.supplier_id == params.supplier_id)
    if params.min_amount is not None:
        asked.append(PurchaseOrder.total >= params.min_amount)
    if params.max_amount is not None:
        asked.append(PurchaseOrder.total <= params.max_amount)
    if params.min_days is not None:
        asked.append(PurchaseOrder.order_date <= today - dt.timedelta(days=params.min_days))
    if params.max_days is not None:
        asked.append(PurchaseOrder.order_date >= today - dt.timedelta(days=params.max_days))
    waiting = f"waiting {age_words(params)}" if age_words(params) else "waiting"
    found = sorted(session.execute(stmt.where(*asked)).all(), key=lambda r: (-r[3], r[0]))
    rows: list[list[Any]] = [[n, s, d.isoformat(), t, lv, ro] for n, s, d, t, lv, ro in found]
    total = sum((r[3] for r in rows), ZERO)
    others = _awaiting_others(session, ctx, asked, {r[0]: r[3] for r in rows}, answer.fmt)
    if not rows:
        nothing = (
            "No purchase orders are waiting for your approval"
            if waiting == "waiting"
            else f"No purchase order has been {waiting} for your approval"
        )
        return answer.result(columns, [], {"total": total}, nothing + others, 0)
    fmt = answer.fmt
    verb = "is" if len(rows) == 1 else "are"
    if waiting != "waiting":
        verb = "has been" if len(rows) == 1 else "have been"
    summary = (
        f"{fmt.count(len(rows), 'purchase order')} {verb} {waiting} for your approval, worth "
        f"{fmt.money(total)} in all; the largest is {rows[0][0]} from {rows[0][1]} "
        f"for {fmt.money(rows[0][3])}."
    )
    shown, _ = cut(rows, params.top_n)
    summary += shown_note(len(shown), len(rows), "largest first")
    if others:
        summary = summary.removesuffix(".") + others
    return answer.result(
        columns,
        shown,
        {"total": total},
        summary,
        len(rows),
        {"matched": len(rows), "shown": len(shown)},
    )


def _awaiting_others(
    session: Session, ctx: RequestContext, asked: list[Any], mine: dict[str, Any], fmt: Any
) -> str:
    """ "; 2 more (BDT ...) are waiting for someone else's approval." for the orders awaiting
    approval that the caller can't decide now ("which POs are awaiting approval?" asks for
    all of them), or "." when there are none."""
    stmt = scoped(select(PurchaseOrder.number, PurchaseOrder.total), PurchaseOrder, ctx).where(
        PurchaseOrder.status == POStatus.PENDING_APPROVAL.value, *asked
    )
    rest = [(n, t) for n, t in session.execute(stmt).all() if n not in mine]
    if not rest:
        return "."
    amount = sum((t for _, t in rest), ZERO)
    more = "more " if mine else ""
    verb = "is" if len(rest) == 1 else "are"
    return (
        f"; {fmt.count(len(rest), f'{more}purchase order')} ({fmt.money(amount)}) {verb} "
        f"waiting for someone else's approval."
    )


@register(
    "order_status",
    figure="purchase_orders",
    ref_figures={"PO": "purchase_orders", "SO": "sales_orders"},
    filters={"document_ref"},
    required={"document_ref"},
    description="Where a purchase or sales order stands",
)
def order_status(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """One purchase order (PO-) or sales order (SO-) by number."""
    ref = (params.document_ref or "").strip().upper()
    columns = ["number", "party", "order_date", "status", "total"]
    prefix = ref.split("-", 1)[0]
    if prefix == "SO":
        ctx.require("sales.read")  # also checked by the runner; kept for direct callers
        return _sales_order_status(session, ctx, ref, today, columns)
    ctx.require("procurement.read")
    answer = Answer(
        ctx,
        today,
        ["purchase_orders", "purchase_order_lines", "approval_tasks"],
        {"document_ref": ref} if ref else {},
    )
    if not ref:
        return answer.empty(columns, "Which order? Give its number, like PO-2026-0042.")
    if prefix != "PO":
        return answer.empty(columns, f"{ref} is not an order number; those start with PO- or SO-.")
    found = session.execute(
        scoped(select(PurchaseOrder, Supplier.name), PurchaseOrder, ctx)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .where(in_company(Supplier, ctx), PurchaseOrder.number == ref)
    ).one_or_none()
    if found is None:
        return not_found(answer, columns, f"purchase order {ref}")
    order, supplier = found
    row = [order.number, supplier, order.order_date.isoformat(), order.status, order.total]
    ordered, received = session.execute(
        scoped(
            select(
                qty_sum(PurchaseOrderLine.quantity), qty_sum(PurchaseOrderLine.received_quantity)
            ),
            PurchaseOrderLine,
            ctx,
        ).where(PurchaseOrderLine.order_id == order.id)
    ).one()
    pending = session.execute(
        scoped(select(ApprovalTask.level, ApprovalTask.assigned_role), ApprovalTask, ctx)
        .where(
            ApprovalTask.order_id == order.id,
            ApprovalTask.status == TaskStatus.PENDING.value,
        )
        .order_by(ApprovalTask.level)
    ).first()
    fmt = answer.fmt
    head = (
        f"{order.number} to {supplier} for {fmt.money(order.total)}, "
        f"ordered {date_text(order.order_date)},"
    )
    state = _po_state(order, pending, ordered, received, fmt.quantity)
    extra: dict[str, Any] = {"ordered_quantity": ordered, "received_quantity": received}
    if pending is not None:
        extra["pending_level"] = pending[0]
        extra["pending_role"] = pending[1]
    return answer.result(columns, [row], {"total": order.total}, f"{head} {state}.", 1, extra)


def _po_state(
    order: PurchaseOrder,
    pending: Any,
    ordered: Decimal,
    received: Decimal,
    quantity: Any,
) -> str:
    status = order.status
    if status == POStatus.PENDING_APPROVAL.value and pending is not None:
        return f"is waiting for approval at level {pending[0]} ({pending[1]})"
    if status == POStatus.PARTIALLY_RECEIVED.value:
        return f"is partially received ({quantity(received)} of {quantity(ordered)} units)"
    if status == POStatus.CANCELLED.value:
        reason = f": {order.cancel_reason}" if order.cancel_reason else ""
        return f"was cancelled{reason}"
    return {
        POStatus.DRAFT.value: "is a draft, not yet submitted for approval",
        POStatus.PENDING_APPROVAL.value: "is waiting for approval",
        POStatus.APPROVED.value: "is approved and not yet received",
        POStatus.REJECTED.value: "was rejected",
        POStatus.RECEIVED.value: "has been received in full and is not yet billed",
        POStatus.CLOSED.value: "has been received and billed (closed)",
    }.get(status, f"is {status.replace('_', ' ')}")


_SO_STATES = {
    SalesOrderStatus.DRAFT.value: "is a draft, not yet confirmed",
    SalesOrderStatus.CONFIRMED.value: "is confirmed and not yet delivered",
    SalesOrderStatus.DELIVERED.value: "has been delivered and is not yet invoiced",
    SalesOrderStatus.INVOICED.value: "has been delivered and invoiced",
}


def _sales_order_status(
    session: Session, ctx: RequestContext, ref: str, today: dt.date, columns: list[str]
) -> QueryResult:
    answer = Answer(ctx, today, ["sales_orders", "customers"], {"document_ref": ref})
    found = session.execute(
        scoped(select(SalesOrder, Customer.name), SalesOrder, ctx)
        .join(Customer, Customer.id == SalesOrder.customer_id)
        .where(in_company(Customer, ctx), SalesOrder.number == ref)
    ).one_or_none()
    if found is None:
        return not_found(answer, columns, f"sales order {ref}")
    order, customer = found
    fmt = answer.fmt
    if order.status == SalesOrderStatus.CANCELLED.value:
        state = "was cancelled" + (f": {order.cancel_reason}" if order.cancel_reason else "")
    else:
        state = _SO_STATES.get(order.status, f"is {order.status}")
    summary = (
        f"{order.number} for {customer}, {fmt.money(order.total)}, ordered "
        f"{date_text(order.order_date)}, {state}."
    )
    row = [order.number, customer, order.order_date.isoformat(), order.status, order.total]
    return answer.result(columns, [row], {"total": order.total}, summary, 1)
