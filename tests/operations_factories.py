"""Builders for operations tests: a company with people in each role, parties, items, stock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from companion.erp.items.models import Item, Warehouse
from companion.erp.items.schemas import ItemIn
from companion.erp.items.service import create_item, create_warehouse
from companion.erp.parties.models import Customer, Supplier
from companion.erp.parties.schemas import CustomerIn, SupplierIn
from companion.erp.parties.service import create_customer, create_supplier
from companion.erp.stock.service import receive_stock
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from factories import make_company, make_context

D = Decimal
DAY = dt.date(2026, 3, 2)


@dataclass
class Shop:
    """One trading company: a context per role, a customer, a supplier, items, two warehouses."""

    company: Company
    admin: RequestContext
    sales: RequestContext
    buyer: RequestContext  # procurement
    storekeeper: RequestContext  # inventory
    finance: RequestContext
    executive: RequestContext
    viewer: RequestContext
    customer: Customer
    supplier: Supplier
    goods: Item  # tracked: price 100.00, cost 60.00, tax 10%, reorder at 5
    service: Item  # not tracked: price 50.00, cost 20.00, untaxed
    main: Warehouse
    second: Warehouse

    def ctx(self, roles: list[str], username: str) -> RequestContext:
        """Another member of the company with ``roles``."""
        return make_context(self._session, self.company, roles, username=username)

    _session: Session


def make_shop(session: Session, slug: str = "acme", *, stock: str | None = "20") -> Shop:
    """A company ready to trade; ``stock`` units of goods on hand in the main warehouse."""
    company = make_company(session, slug)

    def ctx(role: str) -> RequestContext:
        return make_context(session, company, [role], username=f"{slug}-{role}")

    admin = ctx("admin")
    main = create_warehouse(session, admin, code="MAIN", name="Main warehouse")
    second = create_warehouse(session, admin, code="WEST", name="West depot")
    goods = create_item(
        session,
        admin,
        ItemIn(
            sku="G1",
            name="Widget",
            unit_price=D("100.00"),
            unit_cost=D("60.00"),
            tax_rate=D("10"),
            reorder_level=D("5"),
            reorder_qty=D("20"),
        ),
    )
    service = create_item(
        session,
        admin,
        ItemIn(
            sku="SV",
            name="Installation",
            unit_price=D("50.00"),
            unit_cost=D("20.00"),
            is_tracked=False,
        ),
    )
    if stock is not None:
        receive_stock(
            session, admin, item_id=goods.id, warehouse_id=main.id, quantity=D(stock), on=DAY
        )
    return Shop(
        company=company,
        admin=admin,
        sales=ctx("sales"),
        buyer=ctx("procurement"),
        storekeeper=ctx("inventory"),
        finance=ctx("finance"),
        executive=ctx("executive"),
        viewer=ctx("viewer"),
        customer=create_customer(session, admin, CustomerIn(name=f"{slug.title()} Customer")),
        supplier=create_supplier(session, admin, SupplierIn(name=f"{slug.title()} Supplier")),
        goods=goods,
        service=service,
        main=main,
        second=second,
        _session=session,
    )
