"""The operations read API: customers, suppliers, items, stock, sales and purchase orders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from e2e_support import Tenants
from httpx import Response
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.erp.documents import DocLineIn
from companion.erp.items.models import Item, Warehouse
from companion.erp.items.schemas import ItemIn
from companion.erp.items.service import create_item, create_warehouse
from companion.erp.parties.models import Customer, Supplier
from companion.erp.parties.schemas import CustomerIn, SupplierIn
from companion.erp.parties.service import create_customer, create_supplier
from companion.erp.purchasing.models import PurchaseOrder
from companion.erp.purchasing.schemas import ApprovalLevelIn
from companion.erp.purchasing.service import (
    create_purchase_order,
    set_approval_levels,
    submit_purchase_order,
)
from companion.erp.sales.models import SalesOrder
from companion.erp.sales.service import confirm_sales_order, create_sales_order
from companion.erp.stock.service import receive_stock

API = "/api/v1"
D = Decimal
DAY = dt.date(2026, 3, 2)


@dataclass
class World:
    customer: Customer
    inactive: Customer
    supplier: Supplier
    goods: Item
    short: Item
    main: Warehouse
    draft: SalesOrder
    confirmed: SalesOrder
    po: PurchaseOrder


def _world(session: Session, tenants: Tenants, slug: str) -> World:
    admin = tenants.context(slug, "admin")
    name = slug.title()
    main = create_warehouse(session, admin, code="MAIN", name="Main")
    goods = create_item(
        session,
        admin,
        ItemIn(sku="G1", name=f"{name} widget", unit_price=D("100"), unit_cost=D("60")),
    )
    short = create_item(
        session,
        admin,
        ItemIn(
            sku="G2",
            name=f"{name} gadget",
            unit_price=D("10"),
            unit_cost=D("4"),
            reorder_level=D("50"),
        ),
    )
    for item, qty in ((goods, "40"), (short, "5")):
        receive_stock(
            session, admin, item_id=item.id, warehouse_id=main.id, quantity=D(qty), on=DAY
        )
    customer = create_customer(session, admin, CustomerIn(name=f"{name} Retail", email="a@b.co"))
    inactive = create_customer(session, admin, CustomerIn(name=f"{name} Dormant", is_active=False))
    supplier = create_supplier(session, admin, SupplierIn(name=f"{name} Wholesale"))
    draft = create_sales_order(
        session,
        admin,
        customer_id=customer.id,
        order_date=dt.date(2026, 2, 1),
        lines=[DocLineIn(item_id=goods.id, quantity=D("2"))],
    )
    confirmed = create_sales_order(
        session,
        admin,
        customer_id=customer.id,
        order_date=DAY,
        lines=[DocLineIn(item_id=goods.id, quantity=D("1.5"), discount_pct=D("10"))],
    )
    confirm_sales_order(session, admin, confirmed.id)
    set_approval_levels(
        session,
        tenants.companies[slug].id,
        [ApprovalLevelIn(level=1, name="Buyer", min_amount=D("0"), role="procurement")],
    )
    po = create_purchase_order(
        session,
        admin,
        supplier_id=supplier.id,
        order_date=DAY,
        lines=[DocLineIn(item_id=short.id, quantity=D("100"))],
    )
    submit_purchase_order(session, admin, po.id)
    return World(customer, inactive, supplier, goods, short, main, draft, confirmed, po)


@pytest.fixture
def worlds(session: Session, tenants: Tenants) -> dict[str, World]:
    made = {slug: _world(session, tenants, slug) for slug in ("acme", "globex")}
    session.commit()
    return made


def _get(
    client: TestClient, tenants: Tenants, path: str, role: str = "admin", **params: object
) -> Response:
    """GET ``path`` as the acme member holding ``role``."""
    return client.get(API + path, headers=tenants.headers("acme", role), params=params)


def test_customers_list_searches_filters_and_pages(
    client: TestClient, tenants: Tenants, worlds: dict[str, World]
) -> None:
    body = _get(client, tenants, "/customers", "sales").json()
    assert [c["name"] for c in body["items"]] == ["Acme Dormant", "Acme Retail"]
    assert (body["total"], body["limit"], body["offset"]) == (2, 50, 0)
    body = _get(client, tenants, "/customers", "viewer", q="retail", active="true").json()
    assert [(c["code"], c["email"], c["credit_limit"]) for c in body["items"]] == [
        ("CUST-0001", "a@b.co", "0.00")
    ]
    body = _get(client, tenants, "/customers", "sales", active="false", limit=1).json()
    assert [c["id"] for c in body["items"]] == [worlds["acme"].inactive.id]


def test_one_customer_and_another_companys_is_404(
    client: TestClient, tenants: Tenants, worlds: dict[str, World]
) -> None:
    mine = _get(client, tenants, f"/customers/{worlds['acme'].customer.id}", "sales")
    assert mine.status_code == 200 and mine.json()["name"] == "Acme Retail"
    theirs = _get(client, tenants, f"/customers/{worlds['globex'].customer.id}", "sales")
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "not_found"
    assert "Globex" not in theirs.text


def test_suppliers_need_procurement_read_and_customers_sales_read(
    client: TestClient, tenants: Tenants, worlds: dict[str, World]
) -> None:
    assert _get(client, tenants, "/suppliers", "sales").status_code == 403
    assert _get(client, tenants, "/customers", "procurement").status_code == 403
    body = _get(client, tenants, "/suppliers", "inventory").json()
    assert [s["name"] for s in body["items"]] == ["Acme Wholesale"]
    supplier = _get(client, tenants, f"/suppliers/{worlds['acme'].supplier.id}", "procurement")
    assert supplier.json()["code"] == "SUPP-0001"
    denied = _get(client, tenants, "/suppliers", "sales").json()
    assert "procurement.read" in denied["error"]["message"]


def test_items_warehouses_and_stock_levels(
    client: TestClient, tenants: Tenants, worlds: dict[str, World]
) -> None:
    acme = worlds["acme"]
    body = _get(client, tenants, "/items", "viewer").json()
    assert [i["sku"] for i in body["items"]] == ["G1", "G2"]
    assert body["items"][0]["unit_price"] == "100.00"
    body = _get(client, tenants, "/items", "viewer", below_reorder="true").json()
    assert [i["id"] for i in body["items"]] == [acme.short.id]
    body = _get(client, tenants, "/items", "viewer", q="gadg").json()
    assert [i["sku"] for i in body["items"]] == ["G2"]
    assert _get(client, tenants, f"/items/{acme.goods.id}", "sales").json()["name"] == "Acme widget"
    assert _get(client, tenants, f"/items/{worlds['globex'].goods.id}").status_code == 404
    assert [w["code"] for w in _get(client, tenants, "/warehouses", "viewer").json()] == ["MAIN"]
    levels = _get(client, tenants, "/stock-levels", "viewer", item_id=acme.goods.id).json()
    assert [(r["sku"], r["warehouse_code"], r["quantity"]) for r in levels["items"]] == [
        ("G1", "MAIN", "40.000")
    ]
    everything = _get(client, tenants, "/stock-levels", "viewer").json()
    assert everything["total"] == 2
    foreign = _get(client, tenants, "/stock-levels", item_id=worlds["globex"].goods.id).json()
    assert foreign == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert _get(client, tenants, "/items", "procurement").status_code == 200
    assert _get(client, tenants, "/items", "norole").status_code == 403


def test_sales_orders_list_detail_and_by_number(
    client: TestClient, tenants: Tenants, worlds: dict[str, World]
) -> None:
    acme = worlds["acme"]
    body = _get(client, tenants, "/sales-orders", "viewer").json()
    assert [o["number"] for o in body["items"]] == ["SO-2026-0002", "SO-2026-0001"]
    assert "lines" not in body["items"][0]
    body = _get(client, tenants, "/sales-orders", "sales", status="confirmed").json()
    assert [o["id"] for o in body["items"]] == [acme.confirmed.id]
    body = _get(
        client, tenants, "/sales-orders", "sales", date_from="2026-01-01", date_to="2026-02-28"
    ).json()
    assert [o["id"] for o in body["items"]] == [acme.draft.id]
    body = _get(client, tenants, "/sales-orders", "sales", customer_id=acme.inactive.id).json()
    assert body["total"] == 0
    assert _get(client, tenants, "/sales-orders", "sales", status="shipped").status_code == 422

    order = _get(client, tenants, f"/sales-orders/{acme.confirmed.id}", "sales").json()
    assert (order["status"], order["total"], order["currency"]) == ("confirmed", "135.00", "BDT")
    assert [(ln["quantity"], ln["discount_pct"], ln["net_amount"]) for ln in order["lines"]] == [
        ("1.500", "10.00", "135.00")
    ]
    by_number = _get(client, tenants, "/sales-orders/by-number/so-2026-0002", "sales").json()
    assert by_number["id"] == acme.confirmed.id
    theirs = worlds["globex"].confirmed
    assert _get(client, tenants, f"/sales-orders/{theirs.id}").status_code == 404
    assert _get(client, tenants, "/sales-orders/by-number/SO-2099-0001").status_code == 404
    assert _get(client, tenants, "/sales-orders", "procurement").status_code == 403


def test_purchase_orders_list_detail_and_pending_approvals(
    client: TestClient, tenants: Tenants, worlds: dict[str, World]
) -> None:
    acme = worlds["acme"]
    body = _get(client, tenants, "/purchase-orders", "inventory").json()
    assert [(o["number"], o["status"], o["total"]) for o in body["items"]] == [
        ("PO-2026-0001", "pending_approval", "400.00")
    ]
    assert _get(client, tenants, "/purchase-orders", "sales").status_code == 403
    empty = _get(client, tenants, "/purchase-orders", "finance", status="closed").json()
    assert empty["total"] == 0
    detail = _get(client, tenants, f"/purchase-orders/{acme.po.id}", "procurement").json()
    assert [(t["level"], t["status"], t["assigned_role"]) for t in detail["tasks"]] == [
        (1, "pending", "procurement")
    ]
    assert detail["lines"][0]["received_quantity"] == "0.000"
    by_number = _get(client, tenants, "/purchase-orders/by-number/PO-2026-0001", "finance")
    assert by_number.json()["id"] == acme.po.id
    assert _get(client, tenants, f"/purchase-orders/{worlds['globex'].po.id}").status_code == 404

    pending = _get(client, tenants, "/approvals/pending", "procurement").json()
    assert [(p["order_number"], p["level"], p["total"]) for p in pending] == [
        ("PO-2026-0001", 1, "400.00")
    ]
    assert _get(client, tenants, "/approvals/pending", "executive").json() == []
    assert _get(client, tenants, "/approvals/pending", "viewer").status_code == 403
