"""Alerts in chat and the command center, on the demo: the briefing, and an alert that
becomes a confirmed purchase order through the conversation ("yes")."""

from __future__ import annotations

from typing import Any

from actions_chat import Talk, member
from admin_support import sign_in
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.alerts import service as alerts
from companion.erp.invoicing.models import Invoice
from companion.erp.items.models import Item
from companion.erp.purchasing.models import PurchaseOrder
from companion.erp.purchasing.supply_repository import on_order
from companion.erp.stock.models import StockLevel
from companion.erp.stock.service import adjust_stock
from companion.tenancy.models import Company

URL = "/api/v1/ai/alerts"


def _short_of_stock(session: Session, today: Any) -> None:
    """One acme item that is not on order pushed under its reorder level (a write-off).

    The demo's own low stock is already on order (its replenishment and scripted orders):
    those alerts say so and suggest nothing.
    """
    ctx = member(session, "admin")
    ordered = set(on_order(session, ctx, [i.id for i in session.scalars(select(Item))]))
    for level, item in session.execute(
        select(StockLevel, Item)
        .join(Item, Item.id == StockLevel.item_id)
        .where(Item.company_id == ctx.company_id, Item.reorder_level > 0)
        .where(StockLevel.quantity >= Item.reorder_level)
        .order_by(Item.sku, StockLevel.warehouse_id)
    ):
        if (item.id, level.warehouse_id) not in ordered:
            delta = item.reorder_level - level.quantity - 1
            adjust_stock(
                session, ctx, item_id=item.id, warehouse_id=level.warehouse_id,
                quantity_delta=delta, reason="damaged in the test", on=today,
            )  # fmt: skip
            return
    raise AssertionError("no item to short")


def _scan(session: Session) -> None:
    """Scan both demo companies as of the demo's today (the last day of its history)."""
    today = session.execute(select(func.max(Invoice.issue_date))).scalar_one()
    _short_of_stock(session, today)
    for company in session.execute(select(Company)).scalars():
        alerts.scan_company(session, company.id, today)
    session.commit()


def test_the_briefing_lists_the_users_alerts_and_the_headline(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    _scan(demo_session)
    store = Talk(chat_client, login("storekeeper")).say("what should I worry about today?")
    assert store["intent"] == "briefing" and store["skill"] == "briefing", store
    assert "below its reorder level" in store["message"]
    assert "overdue" not in store["message"].lower() and "Cash is" not in store["message"]
    types = {row[1] for row in store["data"]["rows"]}
    assert types == {"low_stock"}
    # Every turn's context carries the caller's open alerts (their permissions only).
    assert {a["type"] for a in store["context"]["alerts"]} == {"low_stock"}
    finance = Talk(chat_client, login("finance"))
    # A reminder the user asked for shows up in their briefing once it is due.
    finance.say("remind me to call Khulna Emporium today")
    ceo = finance.say("morning briefing")
    assert ceo["intent"] == "briefing"
    assert "Headline: Cash is" in ceo["message"]
    assert ceo["data"]["totals"]["open_alerts"] >= len(ceo["data"]["rows"]) > 0
    assert "reminders due" in ceo["message"] and "Khulna Emporium" in ceo["message"]
    assert ceo["data"]["totals"]["reminders_due"] == 1
    # Nobody else's reminder: the storekeeper's briefing has none.
    again = Talk(chat_client, login("storekeeper")).say("morning briefing")
    assert "Khulna" not in again["message"] and again["data"]["totals"]["reminders_due"] == 0


def test_an_alert_becomes_a_confirmed_purchase_order_in_the_conversation(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    _scan(demo_session)
    buyer = login("buyer")
    talk = Talk(chat_client, buyer)
    brief = talk.say("any alerts for me?")
    assert brief["intent"] == "briefing" and brief["choices"], brief
    lows = chat_client.get(URL, headers=buyer, params={"type": "low_stock"}).json()["items"]
    low = next(a for a in lows if a["suggested_action"])
    acted = chat_client.post(
        f"{URL}/{low['id']}/act", headers=buyer, json={"conversation_id": talk.conversation_id}
    )
    assert acted.status_code == 201, acted.text
    assert acted.json()["pending_confirmation"]["action"] == "create_purchase_order"
    done = talk.say("yes")
    assert "Created purchase order PO-" in done["message"], done
    number = done["message"].split("purchase order ")[1].split(" ")[0]
    order = demo_session.execute(
        select(PurchaseOrder).where(PurchaseOrder.number == number)
    ).scalar_one()
    assert order.supplier_id == low["suggested_action"]["params"]["supplier_id"]


def test_the_command_center_lists_and_dismisses_alerts(
    chat_client: TestClient, demo_session: Session
) -> None:
    _scan(demo_session)
    csrf = sign_in(chat_client, "admin")
    page = chat_client.get("/admin/acme/alerts", params={"type": "low_stock"})
    assert page.status_code == 200 and "below its reorder level" in page.text
    alert_id = int(page.text.split('id="alert-')[1].split('"')[0])
    gone = chat_client.post(f"/admin/acme/alerts/{alert_id}/dismiss", data={"csrf": csrf})
    assert gone.status_code == 200 and "Alert dismissed." in gone.text
    assert chat_client.get("/admin/acme/alerts", params={"type": "bogus"}).status_code == 422
    refused = chat_client.post(f"/admin/acme/alerts/{alert_id}/dismiss", data={"csrf": "x"})
    assert refused.status_code == 403
