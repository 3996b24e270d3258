"""Support of the framework and purchasing action chat tests: turns, contexts, fresh POs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from e2e_support import member as member  # re-exported: the chat tests import it from here
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.erp.documents import DocLineIn
from companion.erp.items.models import Item, Warehouse
from companion.erp.parties.models import Supplier
from companion.erp.purchasing.models import PurchaseOrder
from companion.erp.purchasing.service import create_purchase_order, submit_purchase_order
from companion.tenancy.context import RequestContext

DEMO_DAY = dt.date(2026, 3, 15)  # the chat fixtures' demo "today" (DEMO_TODAY)


class Talk:
    """One demo user's conversation through ``POST /api/v1/ai/chat``."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers
        self.conversation_id: str | None = None

    def say(self, message: str) -> dict[str, Any]:
        body: dict[str, Any] = {"message": message}
        if self.conversation_id:
            body["conversation_id"] = self.conversation_id
        response = self.client.post("/api/v1/ai/chat", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        self.conversation_id = answer["conversation_id"]
        return answer


def submitted_po(session: Session, ctx: RequestContext, amount: str) -> PurchaseOrder:
    """A purchase order of ``amount`` (one untaxed-at-cost line), submitted for approval."""
    supplier = (
        session.execute(
            select(Supplier)
            .where(Supplier.company_id == ctx.company_id, Supplier.is_active.is_(True))
            .order_by(Supplier.id)
        )
        .scalars()
        .first()
    )
    item = (
        session.execute(
            select(Item)
            .where(Item.company_id == ctx.company_id, Item.is_active.is_(True))
            .order_by(Item.id)
        )
        .scalars()
        .first()
    )
    warehouse = (
        session.execute(
            select(Warehouse).where(Warehouse.company_id == ctx.company_id).order_by(Warehouse.id)
        )
        .scalars()
        .first()
    )
    assert supplier is not None and item is not None and warehouse is not None
    order = create_purchase_order(
        session,
        ctx,
        supplier_id=supplier.id,
        order_date=DEMO_DAY,
        warehouse_id=warehouse.id,
        lines=[DocLineIn(item_id=item.id, quantity=Decimal("1"), unit_price=Decimal(amount))],
    )
    order = submit_purchase_order(session, ctx, order.id)
    session.commit()
    return order


def po_status(session: Session, order: PurchaseOrder) -> str:
    session.expire_all()
    return str(session.get(PurchaseOrder, order.id).status)  # type: ignore[union-attr]
