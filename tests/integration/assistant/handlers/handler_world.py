"""A small trading company for the action-handler tests, built through the ERP services.

Names are chosen so the real entity extractors find them in a sentence ("Steel Rod",
"Rahman Traders", "Chattogram Port Depot"). A second company (``globex``) has documents of
its own, to prove that another company's records answer exactly like missing ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from companion.assistant.actions.base import ActionHandler, action_for
from companion.assistant.nlu.entities import extract_entities
from companion.assistant.understanding import load_master
from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import Invoice, InvoiceKind
from companion.erp.invoicing.service import create_invoice, post_invoice
from companion.erp.items.models import Item, Warehouse
from companion.erp.items.schemas import ItemIn
from companion.erp.items.service import create_item, create_warehouse
from companion.erp.ledger.models import BankAccount
from companion.erp.ledger.service import create_bank_account, setup_company_ledger
from companion.erp.parties.models import Customer, Supplier
from companion.erp.parties.schemas import CustomerIn, SupplierIn
from companion.erp.parties.service import create_customer, create_supplier
from companion.erp.stock.service import receive_stock
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from factories import make_company, make_context

D = Decimal
TODAY = dt.date(2026, 3, 16)
OPENED = dt.date(2026, 1, 2)


@dataclass
class World:
    company: Company
    admin: RequestContext
    sales: RequestContext
    buyer: RequestContext
    storekeeper: RequestContext
    finance: RequestContext
    viewer: RequestContext
    customer: Customer  # Rahman Traders
    customer2: Customer  # Karim Stores
    supplier: Supplier  # Delta Steel Supply
    rod: Item  # tracked, price 450, cost 300, tax 10%, reorder 50 / 100
    wire: Item  # tracked, price 120, cost 80, untaxed, reorder 10 / 40
    service: Item  # Installation: untracked, price 500
    dhaka: Warehouse  # 40 rods, 100 wire
    ctg: Warehouse  # 5 rods
    bank: BankAccount


def build_world(session: Session, slug: str = "acme", currency: str = "BDT") -> World:
    """The company, its people, master data, stock and a bank account."""
    company = make_company(session, slug, currency)
    setup_company_ledger(session, company.id)

    def ctx(role: str) -> RequestContext:
        return make_context(session, company, [role], username=f"{slug}-{role}")

    admin = ctx("admin")
    dhaka = create_warehouse(session, admin, code="DHK", name="Dhaka Central Warehouse")
    ctg = create_warehouse(session, admin, code="CTG", name="Chattogram Port Depot")
    rod = create_item(
        session,
        admin,
        ItemIn(
            sku="SR-10",
            name="Steel Rod",
            unit_price=D("450.00"),
            unit_cost=D("300.00"),
            tax_rate=D("10"),
            reorder_level=D("50"),
            reorder_qty=D("100"),
        ),
    )
    wire = create_item(
        session,
        admin,
        ItemIn(
            sku="CW-20",
            name="Copper Wire",
            unit_price=D("120.00"),
            unit_cost=D("80.00"),
            reorder_level=D("10"),
            reorder_qty=D("40"),
        ),
    )
    service = create_item(
        session,
        admin,
        ItemIn(
            sku="SV-1",
            name="Installation",
            unit_price=D("500.00"),
            unit_cost=D("200.00"),
            is_tracked=False,
        ),
    )
    for item, warehouse, qty in ((rod, dhaka, "40"), (wire, dhaka, "100"), (rod, ctg, "5")):
        receive_stock(
            session, admin, item_id=item.id, warehouse_id=warehouse.id, quantity=D(qty), on=OPENED
        )
    bank = create_bank_account(
        session,
        admin,
        name="City Bank Current",
        bank_name="City Bank",
        account_number="0001",
        currency=currency,
        opening_balance=D("100000.00"),
        opening_date=OPENED,
    )
    prefix = "" if slug == "acme" else f"{slug.title()} "
    return World(
        company=company,
        admin=admin,
        sales=ctx("sales"),
        buyer=ctx("procurement"),
        storekeeper=ctx("inventory"),
        finance=ctx("finance"),
        viewer=ctx("viewer"),
        customer=create_customer(session, admin, CustomerIn(name=f"{prefix}Rahman Traders")),
        customer2=create_customer(session, admin, CustomerIn(name=f"{prefix}Karim Stores")),
        supplier=create_supplier(session, admin, SupplierIn(name=f"{prefix}Delta Steel Supply")),
        rod=rod,
        wire=wire,
        service=service,
        dhaka=dhaka,
        ctg=ctg,
        bank=bank,
    )


def invoice(
    session: Session,
    world: World,
    amount: str,
    *,
    post: bool = True,
    customer: Customer | None = None,
    due: dt.date | None = None,
) -> Invoice:
    """An AR invoice of ``amount`` (one untaxed service line), posted unless asked not to."""
    draft = create_invoice(
        session,
        world.admin,
        kind=InvoiceKind.AR,
        party_id=(customer or world.customer).id,
        issue_date=OPENED,
        due_date=due,
        lines=[DocLineIn(item_id=world.service.id, quantity=D("1"), unit_price=D(amount))],
    )
    return post_invoice(session, world.admin, draft.id) if post else draft


def bill(session: Session, world: World, amount: str) -> Invoice:
    """A posted AP bill of ``amount`` from the supplier."""
    draft = create_invoice(
        session,
        world.admin,
        kind=InvoiceKind.AP,
        party_id=world.supplier.id,
        issue_date=OPENED,
        lines=[DocLineIn(item_id=world.service.id, quantity=D("1"), unit_price=D(amount))],
    )
    return post_invoice(session, world.admin, draft.id)


def handler(action: str) -> ActionHandler:
    found = action_for(action)
    assert found is not None, action
    return found


def say(
    session: Session,
    ctx: RequestContext,
    action: str,
    text: str,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One user turn through the handler's ``gather``, with the real entity extractors."""
    entities = extract_entities(text, today=TODAY, master=load_master(session, ctx)).entities
    return handler(action).gather(session, ctx, dict(params or {}), entities, text, TODAY)
