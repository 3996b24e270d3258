"""Support for the action tests: a company with three approval levels and orders waiting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from companion.config import ActionSettings
from companion.erp.documents import DocLineIn
from companion.erp.purchasing.models import PurchaseOrder
from companion.erp.purchasing.schemas import ApprovalLevelIn
from companion.erp.purchasing.service import (
    create_purchase_order,
    set_approval_levels,
    submit_purchase_order,
)
from companion.tenancy.context import RequestContext
from operations_factories import DAY, Shop, make_shop

D = Decimal
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SETTINGS = ActionSettings(expiry_seconds=300, proposals_per_minute=20)


@dataclass
class World:
    """A shop whose buyers approve level 1, a second buyer level 2, the executive level 3."""

    shop: Shop
    buyer2: RequestContext  # another procurement member

    def po(self, session: Session, amount: str) -> PurchaseOrder:
        """A submitted order of one untaxed service line of ``amount``."""
        order = create_purchase_order(
            session,
            self.shop.buyer,
            supplier_id=self.shop.supplier.id,
            order_date=DAY,
            lines=[DocLineIn(item_id=self.shop.service.id, quantity=D("1"), unit_price=D(amount))],
        )
        return submit_purchase_order(session, self.shop.buyer, order.id)


def levels() -> list[ApprovalLevelIn]:
    return [
        ApprovalLevelIn(level=1, name="Buyer", min_amount=D("0"), role="procurement"),
        ApprovalLevelIn(level=2, name="Senior buyer", min_amount=D("1000"), role="procurement"),
        ApprovalLevelIn(level=3, name="Executive", min_amount=D("10000"), role="executive"),
    ]


def make_world(session: Session, slug: str = "acme") -> World:
    shop = make_shop(session, slug, stock=None)
    set_approval_levels(session, shop.company.id, levels())
    return World(shop=shop, buyer2=shop.ctx(["procurement"], f"{slug}-buyer2"))
