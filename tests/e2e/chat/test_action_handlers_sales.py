"""Sales actions through chat and the confirm endpoint, on the demo: orders and customers."""

from __future__ import annotations

from decimal import Decimal

from handler_chat import Chat, context
from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.erp.items.models import Item, Warehouse
from companion.erp.parties.models import Customer
from companion.erp.sales import repository as sales_repo
from companion.erp.stock import repository as stock_repo


def _named(session: Session, model: type, company_id: int, name: str):  # type: ignore[no-untyped-def]
    return session.execute(
        select(model).where(model.company_id == company_id, model.name == name)  # type: ignore[attr-defined]
    ).scalar_one()


def test_a_sales_order_with_a_correction_midway(chat_client, login, demo_session) -> None:
    ctx = context(demo_session, "sales")
    fan = _named(demo_session, Item, ctx.company_id, "Ceiling Fan 56in")
    dhaka = _named(demo_session, Warehouse, ctx.company_id, "Dhaka Central Warehouse (Tejgaon)")
    on_hand = stock_repo.on_hand(demo_session, ctx, fan.id, dhaka.id)
    held = sales_repo.reserved_quantities(demo_session, ctx, dhaka.id, [fan.id], exclude_order_id=0)
    chat = Chat(chat_client, login("sales"))

    ask = chat.say(
        "create a sales order for Tangail Traders: 3 Ceiling Fan 56in and 10 LED Bulb 9W "
        "at 150 each"
    )
    assert ask["intent"] == "create_sales_order" and ask["skill"] == "action"
    assert ask["message"] == "Which warehouse should the order ship from?"
    assert "Dhaka Central Warehouse (Tejgaon)" in ask["choices"]
    first = chat.propose("Dhaka Central Warehouse")["pending_confirmation"]
    assert [ln["quantity"] for ln in first["preview"]["documents"][0]["lines"]] == [
        "3.000",
        "10.000",
    ]

    corrected = chat.propose("no, 4 Ceiling Fan 56in")
    pending = corrected["pending_confirmation"]
    assert pending["token"] != first["token"]
    doc = pending["preview"]["documents"][0]
    assert [(ln["quantity"], ln["unit_price"]) for ln in doc["lines"]] == [
        ("4.000", "3850.00"),  # the list price
        ("10.000", "150.00"),
    ]
    assert "4 × Ceiling Fan 56in" in corrected["message"]

    done = chat.say("yes")
    assert doc["number"] in done["message"]
    demo_session.expire_all()
    order = sales_repo.get_order_by_number(demo_session, ctx, doc["number"])
    assert (order.status, str(order.total), order.warehouse_id) == (
        "confirmed",
        doc["total"],
        dhaka.id,
    )
    assert [str(ln.quantity) for ln in order.lines] == ["4.000", "10.000"]
    fan_row = next(b for b in pending["preview"]["balances"] if b["what"].startswith(fan.sku))
    available = on_hand - held.get(fan.id, Decimal(0))
    assert Decimal(fan_row["before"]) == available
    assert Decimal(fan_row["after"]) == available - 4
    after = sales_repo.reserved_quantities(
        demo_session, ctx, dhaka.id, [fan.id], exclude_order_id=0
    )
    assert on_hand - after[fan.id] == Decimal(fan_row["after"])
    # The first proposal was replaced, so it can no longer be confirmed.
    stale = chat_client.post(f"/api/v1/ai/actions/{first['token']}/confirm", headers=login("sales"))
    assert stale.status_code in (404, 409, 410), stale.text


def test_a_sales_order_confirmed_through_the_endpoint(chat_client, login, demo_session) -> None:
    headers = login("sales")
    pending = Chat(chat_client, headers).propose(
        "sell 2 Ceiling Fan 56in to Uttara Mart from Sylhet Depot"
    )["pending_confirmation"]
    doc = pending["preview"]["documents"][0]
    response = chat_client.post(f"/api/v1/ai/actions/{pending['token']}/confirm", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["document_ref"]) == ("executed", doc["number"])
    demo_session.expire_all()
    order = sales_repo.get_order_by_number(
        demo_session, context(demo_session, "sales"), doc["number"]
    )
    assert (order.status, str(order.total)) == ("confirmed", doc["total"])


def test_sales_order_refusals(chat_client, login, demo_session) -> None:
    ctx = context(demo_session, "sales")
    before = sales_repo.list_orders(demo_session, ctx, limit=1)[1]
    chat = Chat(chat_client, login("sales"))
    short = chat.say("sell 500 Ceiling Fan 56in to Tangail Traders from Sylhet Depot")
    assert short["pending_confirmation"] is None
    assert "Not enough stock in SYL" in short["message"]
    unknown = Chat(chat_client, login("sales")).say(
        "create a sales order for Nobody Corp: 2 Ceiling Fan 56in"
    )
    assert "couldn't find a customer called 'Nobody Corp'" in unknown["message"]
    denied = Chat(chat_client, login("viewer")).say(
        "create a sales order for Tangail Traders: 1 Ceiling Fan 56in"
    )
    assert denied["skill"] == "denied" and "sales" in denied["message"]
    demo_session.expire_all()
    assert sales_repo.list_orders(demo_session, ctx, limit=1)[1] == before


def test_create_a_customer_through_chat_and_through_the_api(
    chat_client, login, demo_session
) -> None:
    headers = login("sales")
    chat = Chat(chat_client, headers)
    pending = chat.propose("add a new customer called Green Valley Agro with credit limit 5 lakh")[
        "pending_confirmation"
    ]
    code = pending["preview"]["documents"][0]["code"]
    done = chat.say("yes")
    assert code in done["message"]
    ctx = context(demo_session, "sales")
    demo_session.expire_all()
    created = _named(demo_session, Customer, ctx.company_id, "Green Valley Agro")
    assert (created.code, created.credit_limit) == (code, Decimal("500000.00"))

    proposed = chat_client.post(
        "/api/v1/ai/actions",
        json={"action": "create_customer", "params": {"name": "Blue Lagoon Foods"}},
        headers=headers,
    )
    assert proposed.status_code == 201, proposed.text
    token = proposed.json()["token"]
    confirmed = chat_client.post(f"/api/v1/ai/actions/{token}/confirm", headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    demo_session.expire_all()
    assert (
        _named(demo_session, Customer, ctx.company_id, "Blue Lagoon Foods").code
        == (confirmed.json()["document_ref"])
    )

    duplicate = Chat(chat_client, headers).say("add a new customer called Tangail Traders")
    assert duplicate["pending_confirmation"] is None
    assert "already exists" in duplicate["message"]
    bad = chat_client.post(
        "/api/v1/ai/actions",
        json={"action": "create_sales_order", "params": {"lines": []}},
        headers=headers,
    )
    assert bad.status_code == 422, bad.text
