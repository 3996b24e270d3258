"""Every query on purchase orders, approval levels and tasks, scoped to the company."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from companion.auth.models import User
from companion.erp.purchasing.models import (
    ApprovalLevel,
    ApprovalTask,
    PurchaseOrder,
    TaskStatus,
)
from companion.errors import NotFound
from companion.tenancy.context import RequestContext, company_param, scoped, scoped_later
from companion.tenancy.models import Membership

_WITH_CHILDREN = (selectinload(PurchaseOrder.lines), selectinload(PurchaseOrder.tasks))


def get_order(
    session: Session, ctx: RequestContext, order_id: int, *, for_update: bool = False
) -> PurchaseOrder:
    """One order with lines and tasks; ``for_update`` locks it until the transaction ends."""
    stmt = (
        scoped(select(PurchaseOrder), PurchaseOrder, ctx)
        .where(PurchaseOrder.id == order_id)
        .options(*_WITH_CHILDREN)
    )
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    order = session.execute(stmt).scalar_one_or_none()
    if order is None:
        raise NotFound(f"Purchase order {order_id} not found", details={"order_id": order_id})
    return order


def get_order_by_number(session: Session, ctx: RequestContext, number: str) -> PurchaseOrder:
    """One order by its number (``PO-2026-0001``)."""
    stmt = (
        scoped(select(PurchaseOrder), PurchaseOrder, ctx)
        .where(PurchaseOrder.number == number.strip().upper())
        .options(*_WITH_CHILDREN)
    )
    order = session.execute(stmt).scalar_one_or_none()
    if order is None:
        raise NotFound(f"Purchase order {number} not found", details={"number": number})
    return order


def list_orders(
    session: Session,
    ctx: RequestContext,
    *,
    status: str | None = None,
    supplier_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[PurchaseOrder], int]:
    """A page of orders, newest first, and the total; dates are inclusive."""
    stmt = scoped(select(PurchaseOrder), PurchaseOrder, ctx)
    if status is not None:
        stmt = stmt.where(PurchaseOrder.status == status)
    if supplier_id is not None:
        stmt = stmt.where(PurchaseOrder.supplier_id == supplier_id)
    if date_from is not None:
        stmt = stmt.where(PurchaseOrder.order_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(PurchaseOrder.order_date <= date_to)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(PurchaseOrder.order_date.desc(), PurchaseOrder.number.desc())
        .limit(limit)
        .offset(offset)
    ).scalars()
    return list(rows), int(total)


def levels_of(session: Session, company_id: int) -> list[ApprovalLevel]:
    """A company's approval levels, lowest first."""
    stmt = (
        select(ApprovalLevel)
        .where(ApprovalLevel.company_id == company_id)
        .order_by(ApprovalLevel.level)
    )
    return list(session.execute(stmt).scalars())


def replace_levels(session: Session, company_id: int, levels: list[ApprovalLevel]) -> None:
    """Swap a company's levels for ``levels``."""
    for old in levels_of(session, company_id):
        session.delete(old)
    # The old rows must be gone before new ones reuse their (company, level) keys.
    session.flush()
    session.add_all(levels)
    session.flush()


def member_roles(session: Session, company_id: int, user_id: int) -> list[str] | None:
    """The user's roles in the company, or None when they are not a member."""
    stmt = select(Membership.roles).where(
        Membership.company_id == company_id, Membership.user_id == user_id
    )
    roles = session.execute(stmt).scalar_one_or_none()
    return None if roles is None else list(roles)


def username(session: Session, user_id: int) -> str:
    """A user's login name (for messages), or ``user <id>``."""
    name = session.execute(select(User.username).where(User.id == user_id)).scalar_one_or_none()
    return name or f"user {user_id}"


def pending_tasks(session: Session, ctx: RequestContext) -> list[ApprovalTask]:
    """Every task waiting for a decision now in the company, oldest order first."""
    stmt = (
        scoped(select(ApprovalTask), ApprovalTask, ctx)
        .join(PurchaseOrder, PurchaseOrder.id == ApprovalTask.order_id)
        .where(ApprovalTask.status == TaskStatus.PENDING.value)
        .options(selectinload(ApprovalTask.order).selectinload(PurchaseOrder.tasks))
        .order_by(PurchaseOrder.order_date, PurchaseOrder.number)
    )
    return list(session.execute(stmt).scalars())


# Another task of the same order. Made once: aliasing a mapped class copies every column,
# which cost a chat turn (that reads the caller's pending approvals) ~1 ms.
_SIBLING = aliased(ApprovalTask, name="sibling_task")


# Built once, run with parameters (see companion.kit.db): every chat turn reads the caller's
# pending approvals. The EXISTS drops the orders the caller approved a level of.
_PENDING_TASK_ROWS = (
    scoped_later(
        select(PurchaseOrder.number, ApprovalTask.assigned_role, ApprovalTask.assigned_user_id),
        ApprovalTask,
    )
    .join(PurchaseOrder, PurchaseOrder.id == ApprovalTask.order_id)
    .where(
        ApprovalTask.status == TaskStatus.PENDING.value,
        ~select(_SIBLING.id)
        .where(
            _SIBLING.order_id == ApprovalTask.order_id,
            _SIBLING.status == TaskStatus.APPROVED.value,
            _SIBLING.decided_by_id == bindparam("user_id"),
        )
        .exists(),
    )
    .order_by(PurchaseOrder.order_date, PurchaseOrder.number)
)


def pending_task_rows(session: Session, ctx: RequestContext) -> list[tuple[str, str, int | None]]:
    """``pending_tasks`` as (order number, assigned role, assigned user) rows, in its order,
    without the orders the caller approved a level of: no objects loaded."""
    params = {**company_param(ctx), "user_id": ctx.user_id}
    return [(str(n), str(r), u) for n, r, u in session.execute(_PENDING_TASK_ROWS, params).all()]


def level_name(session: Session, company_id: int, level: int) -> str | None:
    """The name of a company's approval level, if it still exists."""
    stmt = select(ApprovalLevel.name).where(
        ApprovalLevel.company_id == company_id, ApprovalLevel.level == level
    )
    return session.execute(stmt).scalar_one_or_none()
