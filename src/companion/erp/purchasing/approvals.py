"""Deciding purchase order approval tasks: who may act, in which order, and what follows."""

from __future__ import annotations

from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.erp.purchasing import repository as repo
from companion.erp.purchasing.models import (
    OPEN_TASK_STATUSES,
    ApprovalTask,
    PurchaseOrder,
    TaskStatus,
)
from companion.erp.purchasing.models import POStatus as S
from companion.erp.purchasing.rules import check_transition, may_act
from companion.errors import InvalidState, PermissionDenied
from companion.kit.db import utcnow
from companion.tenancy.context import RequestContext

_APPROVE = "procurement.approve"


def approve_purchase_order(
    session: Session, ctx: RequestContext, order_id: int, *, comment: str | None = None
) -> PurchaseOrder:
    """Approve the order's current level; the last level approves the order."""
    ctx.require(_APPROVE)
    order = repo.get_order(session, ctx, order_id, for_update=True)
    task = _current_task(session, ctx, order, "approve")
    earlier = [
        t.level
        for t in order.tasks
        if t.status == TaskStatus.APPROVED and t.decided_by_id == ctx.user_id
    ]
    if earlier:
        raise PermissionDenied(
            f"You already approved level {earlier[0]} of {order.number}; level {task.level} "
            "needs another approver",
            details={"number": order.number, "level": task.level, "approved_level": earlier[0]},
        )
    _decide(task, ctx, TaskStatus.APPROVED, comment)
    waiting = [t for t in order.tasks if t.status == TaskStatus.WAITING]
    old = order.status
    if waiting:
        min(waiting, key=lambda t: t.level).status = TaskStatus.PENDING.value
    else:
        check_transition(order.status, S.APPROVED, order.number)
        order.status = S.APPROVED.value
    session.flush()
    audit.record(
        session,
        ctx,
        "purchase_order.approve",
        "purchase_order",
        order.id,
        old={"status": old, "level": task.level, "task_status": TaskStatus.PENDING.value},
        new={
            "status": order.status,
            "number": order.number,
            "level": task.level,
            "task_status": task.status,
            "comment": task.comment,
        },
    )
    return order


def reject_purchase_order(
    session: Session, ctx: RequestContext, order_id: int, *, comment: str | None = None
) -> PurchaseOrder:
    """Reject the order at its current level; the levels above are skipped."""
    ctx.require(_APPROVE)
    order = repo.get_order(session, ctx, order_id, for_update=True)
    task = _current_task(session, ctx, order, "reject")
    _decide(task, ctx, TaskStatus.REJECTED, comment)
    skip_open_tasks(order)
    old = order.status
    check_transition(order.status, S.REJECTED, order.number)
    order.status = S.REJECTED.value
    session.flush()
    audit.record(
        session,
        ctx,
        "purchase_order.reject",
        "purchase_order",
        order.id,
        old={"status": old, "level": task.level, "task_status": TaskStatus.PENDING.value},
        new={
            "status": order.status,
            "number": order.number,
            "level": task.level,
            "task_status": task.status,
            "comment": task.comment,
        },
    )
    return order


def pending_approvals_for(session: Session, ctx: RequestContext) -> list[ApprovalTask]:
    """The tasks the caller can decide right now, oldest order first."""
    if not ctx.can(_APPROVE):
        return []
    return [
        task
        for task in repo.pending_tasks(session, ctx)
        if _may_decide(task, ctx)
        and not any(
            t.status == TaskStatus.APPROVED and t.decided_by_id == ctx.user_id
            for t in task.order.tasks
        )
    ]


def pending_approval_numbers(session: Session, ctx: RequestContext, limit: int) -> list[str]:
    """The order numbers of the first ``limit`` tasks of ``pending_approvals_for``, read as
    rows (the chat turn's context names them on every turn)."""
    if not ctx.can(_APPROVE) or limit <= 0:
        return []
    numbers: list[str] = []
    for number, role, user_id in repo.pending_task_rows(session, ctx):
        if may_act(
            assigned_role=role, assigned_user_id=user_id, user_id=ctx.user_id, roles=ctx.roles
        ):
            numbers.append(number)
            if len(numbers) == limit:
                break
    return numbers


def skip_open_tasks(order: PurchaseOrder) -> None:
    """Mark every undecided task of the order as never reached."""
    for task in order.tasks:
        if task.status in OPEN_TASK_STATUSES:
            task.status = TaskStatus.SKIPPED.value


def _current_task(
    session: Session, ctx: RequestContext, order: PurchaseOrder, verb: str
) -> ApprovalTask:
    """The PENDING task, once the order's state and the caller's right to decide are checked."""
    if order.status != S.PENDING_APPROVAL:
        raise InvalidState(
            f"Purchase order {order.number} is {order.status}; only an order pending approval "
            f"can be {verb}d",
            details={"number": order.number, "status": order.status},
        )
    pending = [t for t in order.tasks if t.status == TaskStatus.PENDING]
    if len(pending) != 1:
        raise InvalidState(
            f"Purchase order {order.number} has no single level waiting for a decision",
            details={"number": order.number, "pending_levels": [t.level for t in pending]},
        )
    task = pending[0]
    if not _may_decide(task, ctx):
        who = (
            f"user {repo.username(session, task.assigned_user_id)}"
            if task.assigned_user_id is not None
            else f"role {task.assigned_role}"
        )
        name = repo.level_name(session, ctx.company_id, task.level)
        level = f"level {task.level}" + (f" ({name})" if name else "")
        raise PermissionDenied(
            f"{order.number} is waiting for {level}, which {who} must {verb}",
            details={
                "number": order.number,
                "level": task.level,
                "role": task.assigned_role,
                "user_id": task.assigned_user_id,
            },
        )
    return task


def _may_decide(task: ApprovalTask, ctx: RequestContext) -> bool:
    return may_act(
        assigned_role=task.assigned_role,
        assigned_user_id=task.assigned_user_id,
        user_id=ctx.user_id,
        roles=ctx.roles,
    )


def _decide(
    task: ApprovalTask, ctx: RequestContext, status: TaskStatus, comment: str | None
) -> None:
    task.status = status.value
    task.decided_by_id = ctx.user_id
    task.decided_at = utcnow()
    task.comment = (comment or "").strip() or None
