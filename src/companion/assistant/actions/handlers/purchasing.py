"""Approve or reject a purchase order at the caller's approval level, through the ERP service."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.assistant.actions.base import Ask, Outcome, Proposal, dry_run, register_action
from companion.assistant.actions.handlers.support import document_number
from companion.erp.parties.models import Supplier
from companion.erp.purchasing import repository as po_repo
from companion.erp.purchasing.approvals import (
    approve_purchase_order,
    pending_approvals_for,
    reject_purchase_order,
)
from companion.erp.purchasing.models import PurchaseOrder, TaskStatus
from companion.errors import BadRequest, InvalidState
from companion.kit.money import format_money
from companion.tenancy.context import RequestContext, scoped

_REASON = re.compile(
    r"\b(?:because|since|as|reason(?:\s+is)?\s*[:\-]?|due to|with (?:the )?(?:reason|comment)"
    r"\s*[:\-]?)\s+(?P<reason>.+)$",
    re.IGNORECASE,
)
MAX_COMMENT = 500


def _reason(text: str) -> str | None:
    match = _REASON.search(text)
    if match is None:
        return None
    reason = match.group("reason").strip().rstrip(".!")
    return reason[:MAX_COMMENT] or None


class _Decision:
    """What approving and rejecting share: finding the order and the caller's level."""

    action: str
    permission = "procurement.approve"
    verb: str

    def gather(
        self,
        session: Session,
        ctx: RequestContext,
        params: dict[str, Any],
        entities: dict[str, Any],
        text: str,
        today: dt.date,
    ) -> dict[str, Any]:
        """Take the order and the reason from this turn; a new one replaces the old."""
        merged = dict(params)
        ref = document_number(entities, text, today, ("PO",))
        if ref is not None:
            merged["document_ref"] = ref
        reason = _reason(text)
        if reason is not None:
            merged["comment"] = reason
        return merged

    def missing(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Ask | None:
        """Which order, offering those waiting for the caller's decision."""
        if params.get("document_ref"):
            return None
        waiting = sorted({t.order.number for t in pending_approvals_for(session, ctx)})
        return Ask(
            slot="document_ref",
            question=f"Which purchase order should I {self.verb}?"
            + (" These are waiting for your decision." if waiting else ""),
            choices=waiting[:8] or None,
        )

    def _order(
        self, session: Session, ctx: RequestContext, params: dict[str, Any]
    ) -> PurchaseOrder:
        ref = params.get("document_ref")
        if not isinstance(ref, str) or not ref.strip():
            raise BadRequest("Which purchase order? Give its number, e.g. PO-2026-0042.")
        return po_repo.get_order_by_number(session, ctx, ref)

    def _supplier(self, session: Session, ctx: RequestContext, order: PurchaseOrder) -> str:
        stmt = scoped(select(Supplier.name), Supplier, ctx).where(Supplier.id == order.supplier_id)
        return str(session.execute(stmt).scalar_one())

    def _decide(
        self, session: Session, ctx: RequestContext, order_id: int, comment: str | None
    ) -> PurchaseOrder:
        raise NotImplementedError

    def propose(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Proposal:
        """Decide inside a savepoint to learn the level and the order's next status, then undo."""
        ctx.require(self.permission)
        order = self._order(session, ctx, params)
        comment = params.get("comment") if isinstance(params.get("comment"), str) else None
        levels = len(order.tasks)
        before = order.status

        current = next((t.level for t in order.tasks if t.status == TaskStatus.PENDING), None)

        def decide() -> dict[str, Any]:
            # The service checks the state, the caller's level and earlier approvals.
            return {"status": self._decide(session, ctx, order.id, comment).status}

        after = dry_run(session, decide)
        after["level"] = current
        supplier = self._supplier(session, ctx, order)
        total = format_money(order.total, order.currency, ctx.locale)
        summary = (
            f"{self.verb.capitalize()} {order.number} ({supplier}, {total}) "
            f"at level {after['level']} of {levels}" + (f", reason: {comment}" if comment else "")
        )
        return Proposal(
            summary=summary,
            preview={
                "documents": [
                    {
                        "type": "purchase_order",
                        "number": order.number,
                        "supplier": supplier,
                        "total": str(order.total),
                        "currency": order.currency,
                        "status_before": before,
                        "status_after": after["status"],
                        "level": after["level"],
                        "levels": levels,
                        "comment": comment,
                    }
                ]
            },
            params={
                "document_ref": order.number,
                "order_id": order.id,
                "level": after["level"],
                "comment": comment,
            },
            amount=order.total,
            document_ref=order.number,
        )

    def execute(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Outcome:
        """Decide the level that was previewed, and only that one."""
        order = self._order(session, ctx, params)
        pending = [t.level for t in order.tasks if t.status == TaskStatus.PENDING]
        if pending != [params.get("level")]:
            raise InvalidState(
                f"{order.number} is no longer waiting at level {params.get('level')}; nothing "
                "was done",
                details={"number": order.number, "pending_levels": pending},
            )
        comment = params.get("comment") if isinstance(params.get("comment"), str) else None
        decided = self._decide(session, ctx, order.id, comment)
        levels = len(decided.tasks)
        return Outcome(
            message=self._done(decided, int(params["level"]), levels),
            document_ref=decided.number,
            result={"order_id": decided.id, "status": decided.status, "level": params["level"]},
        )

    def _done(self, order: PurchaseOrder, level: int, levels: int) -> str:
        raise NotImplementedError


class ApprovePurchaseOrder(_Decision):
    action = "approve_purchase_order"
    verb = "approve"

    def _decide(
        self, session: Session, ctx: RequestContext, order_id: int, comment: str | None
    ) -> PurchaseOrder:
        return approve_purchase_order(session, ctx, order_id, comment=comment)

    def _done(self, order: PurchaseOrder, level: int, levels: int) -> str:
        if order.status == "approved":
            return f"Approved {order.number} at level {level} of {levels}; the order is approved."
        return (
            f"Approved {order.number} at level {level} of {levels}; it now waits for "
            f"level {level + 1}."
        )


class RejectPurchaseOrder(_Decision):
    action = "reject_purchase_order"
    verb = "reject"

    def _decide(
        self, session: Session, ctx: RequestContext, order_id: int, comment: str | None
    ) -> PurchaseOrder:
        return reject_purchase_order(session, ctx, order_id, comment=comment)

    def _done(self, order: PurchaseOrder, level: int, levels: int) -> str:
        return f"Rejected {order.number} at level {level} of {levels}."


register_action(ApprovePurchaseOrder())
register_action(RejectPurchaseOrder())
