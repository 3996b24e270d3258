"""The alerts API on both databases: what each role sees, read/dismiss/act, bad input.

Alerts come from a real scan (``alerts.service.scan_company``) of data made through the ERP
services; act goes through the real confirmation flow and the PO is really created.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from e2e_support import Tenants
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.alerts import service as alerts
from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import InvoiceKind
from companion.erp.invoicing.service import create_invoice, post_invoice
from companion.erp.items.schemas import ItemIn
from companion.erp.items.service import create_item, create_warehouse
from companion.erp.ledger.service import setup_company_ledger
from companion.erp.parties.schemas import CustomerIn, SupplierIn
from companion.erp.parties.service import create_customer, create_supplier
from companion.erp.purchasing.schemas import ApprovalLevelIn
from companion.erp.purchasing.service import (
    create_purchase_order,
    set_approval_levels,
    submit_purchase_order,
)
from companion.erp.stock.service import receive_stock
from companion.kit.clock import FixedClock

D = Decimal
URL = "/api/v1/ai/alerts"


def _world(session: Session, tenants: Tenants, slug: str, today: dt.date) -> dict[str, Any]:
    """A company with one item short in its warehouse and one customer long overdue."""
    admin = tenants.context(slug, "admin")
    company = tenants.companies[slug]
    setup_company_ledger(session, company.id)
    set_approval_levels(
        session,
        company.id,
        [ApprovalLevelIn(level=1, name="Buyer", min_amount=D("0"), role="procurement")],
    )
    wh = create_warehouse(session, admin, code="MAIN", name="Main warehouse")
    item = create_item(
        session,
        admin,
        ItemIn(
            sku=f"{slug}-W",
            name=f"{slug.title()} widget",
            unit_price=D("100"),
            unit_cost=D("60"),
            reorder_level=D("5"),
            reorder_qty=D("20"),
        ),
    )
    service = create_item(
        session,
        admin,
        ItemIn(
            sku=f"{slug}-S", name="Service", unit_price=D("50"), unit_cost=D("1"), is_tracked=False
        ),
    )
    receive_stock(session, admin, item_id=item.id, warehouse_id=wh.id, quantity=D("2"), on=today)
    supplier = create_supplier(session, admin, SupplierIn(name=f"{slug.title()} Supply Co"))
    depot = create_warehouse(session, admin, code="DEPOT", name="Depot")
    order = create_purchase_order(  # for the depot: the main warehouse stays short
        session,
        admin,
        supplier_id=supplier.id,
        order_date=today - dt.timedelta(days=20),
        lines=[DocLineIn(item_id=item.id, quantity=D("10"), unit_price=D("60"))],
        warehouse_id=depot.id,
    )
    submit_purchase_order(session, tenants.context(slug, "procurement"), order.id)
    customer = create_customer(session, admin, CustomerIn(name=f"{slug.title()} Late Payer"))
    invoice = create_invoice(
        session,
        admin,
        kind=InvoiceKind.AR,
        party_id=customer.id,
        issue_date=today - dt.timedelta(days=90),
        due_date=today - dt.timedelta(days=60),
        lines=[DocLineIn(item_id=service.id, quantity=D("1"), unit_price=D("2000000"))],
    )
    post_invoice(session, admin, invoice.id)
    alerts.scan_company(session, company.id, today)
    session.commit()
    return {"item": item, "supplier": supplier, "warehouse": wh}


@pytest.fixture
def world(session: Session, tenants: Tenants, clock: FixedClock) -> dict[str, Any]:
    today = clock.today()
    _world(session, tenants, "globex", today)
    return _world(session, tenants, "acme", today)


def _types(client: TestClient, tenants: Tenants, role: str, **params: str) -> list[str]:
    r = client.get(URL, headers=tenants.headers("acme", role), params=params)
    assert r.status_code == 200, r.text
    return sorted(a["type"] for a in r.json()["items"])


def test_each_role_sees_the_alerts_of_its_permissions(
    client: TestClient, tenants: Tenants, world: dict[str, Any]
) -> None:
    assert _types(client, tenants, "inventory") == ["low_stock"]  # never a cash alert
    assert "overdue_receivables" in _types(client, tenants, "finance")
    assert "low_stock" in _types(client, tenants, "finance")
    assert _types(client, tenants, "procurement") == ["approval_waiting", "low_stock"]
    assert _types(client, tenants, "viewer") == ["low_stock"]
    r = client.get(URL, headers=tenants.headers("acme", "norole"))
    assert r.status_code == 403


def test_alert_json_has_the_issue_fields(
    client: TestClient, tenants: Tenants, world: dict[str, Any]
) -> None:
    r = client.get(URL, headers=tenants.headers("acme", "inventory"))
    (alert,) = r.json()["items"]
    for key in (
        "id",
        "type",
        "severity",
        "title",
        "message",
        "module",
        "record_ref",
        "on_date",
        "expected",
        "observed",
        "suggested_action",
        "assignee",
        "status",
        "created_at",
    ):
        assert key in alert
    assert alert["status"] == "unread" and alert["module"] == "inventory"
    assert alert["suggested_action"]["params"]["supplier_id"] == world["supplier"].id
    assert "Acme widget" in alert["message"] and "Globex" not in r.text


def test_filters_unread_count_read_and_dismiss(
    client: TestClient, tenants: Tenants, world: dict[str, Any]
) -> None:
    h = tenants.headers("acme", "finance")
    count = client.get(f"{URL}/unread-count", headers=h).json()
    assert count["count"] == count["unread"] >= 2
    assert _types(client, tenants, "finance", type="overdue_receivables") == ["overdue_receivables"]
    alert_id = client.get(URL, headers=h, params={"type": "low_stock"}).json()["items"][0]["id"]
    r = client.post(f"{URL}/{alert_id}/read", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "read"
    assert client.get(f"{URL}/unread-count", headers=h).json()["count"] == count["count"] - 1
    assert client.post(f"{URL}/{alert_id}/dismiss", headers=h).json()["status"] == "dismissed"
    assert client.post(f"{URL}/{alert_id}/dismiss", headers=h).json()["status"] == "dismissed"
    assert _types(client, tenants, "finance", status="dismissed") == ["low_stock"]
    assert "low_stock" not in _types(client, tenants, "finance", status="unread,read")


def test_bad_filters_and_ids_are_clear_errors(
    client: TestClient, tenants: Tenants, world: dict[str, Any]
) -> None:
    h = tenants.headers("acme", "finance")
    r = client.get(URL, headers=h, params={"status": "bogus"})
    assert r.status_code == 422 and r.json()["error"]["details"]["allowed"]
    for bad in ("abc", "-1", "99999999999999"):
        assert client.get(f"{URL}/{bad}", headers=h).status_code == 422
    assert client.get(f"{URL}/2000000000", headers=h).status_code == 404
    r = client.post(f"{URL}/2000000000/act", headers=h)
    assert r.status_code == 404
    r = client.post(
        f"{URL}/1/act", headers={**h, "Content-Type": "application/json"}, content=b"{nope"
    )
    assert r.status_code == 400 and r.json()["error"]["code"]
    big = client.get(URL, headers=h, params={"type": "x" * 5000})
    assert big.status_code == 422


def test_another_companys_alert_is_a_404(
    client: TestClient, tenants: Tenants, world: dict[str, Any]
) -> None:
    theirs = client.get(URL, headers=tenants.headers("globex", "admin")).json()["items"]
    assert theirs and all("Acme" not in a["message"] for a in theirs)
    h = tenants.headers("acme", "admin")
    for a in theirs:
        assert client.get(f"{URL}/{a['id']}", headers=h).status_code == 404
        assert client.post(f"{URL}/{a['id']}/dismiss", headers=h).status_code == 404
        assert client.post(f"{URL}/{a['id']}/act", headers=h).status_code == 404


def test_act_opens_the_confirmation_and_confirm_creates_the_po(
    client: TestClient, tenants: Tenants, world: dict[str, Any]
) -> None:
    h = tenants.headers("acme", "procurement")
    low = client.get(URL, headers=h, params={"type": "low_stock"}).json()["items"][0]
    # A storekeeper sees it but may not buy: refused, and the alert stays open.
    r = client.post(f"{URL}/{low['id']}/act", headers=tenants.headers("acme", "inventory"))
    assert r.status_code == 403
    r = client.post(f"{URL}/{low['id']}/act", headers=h)
    assert r.status_code == 201, r.text
    body = r.json()
    pending = body["pending_confirmation"]
    assert body["alert"]["status"] == "acted" and body["alert"]["action_token"] == pending["token"]
    assert pending["action"] == "create_purchase_order"
    assert "20 × Acme widget" in pending["summary"]
    # A double submit gets the first confirmation's token, not a second proposal.
    again = client.post(f"{URL}/{low['id']}/act", headers=h)
    assert again.status_code == 409
    assert again.json()["error"]["details"]["token"] == pending["token"]
    done = client.post(f"/api/v1/ai/actions/{pending['token']}/confirm", headers=h)
    assert done.status_code == 200, done.text
    assert done.json()["document_ref"].startswith("PO-")
    assert client.post(f"{URL}/{low['id']}/dismiss", headers=h).status_code == 409


def test_an_alert_without_a_suggestion_cannot_be_acted_on(
    client: TestClient, tenants: Tenants, world: dict[str, Any]
) -> None:
    h = tenants.headers("acme", "finance")
    overdue = client.get(URL, headers=h, params={"type": "overdue_receivables"}).json()
    r = client.post(f"{URL}/{overdue['items'][0]['id']}/act", headers=h)
    assert r.status_code == 409 and "no suggested action" in r.json()["error"]["message"]


def test_the_widget_badge_polls_the_alerts_unread_count(client: TestClient) -> None:
    script = client.get("/widget.js").text
    assert '"/api/v1/ai/alerts/unread-count"' in script
    assert "/api/v1/alerts/unread-count" not in script
