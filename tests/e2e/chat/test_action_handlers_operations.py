"""Operations actions through chat and the endpoints, on the demo: stock and purchase orders."""

from __future__ import annotations

from decimal import Decimal

from handler_chat import Chat, context
from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.erp.items.models import Item, Warehouse
from companion.erp.ledger import repository as ledger_repo
from companion.erp.parties.models import Supplier
from companion.erp.purchasing import repository as po_repo
from companion.erp.stock import repository as stock_repo
from companion.tenancy.context import RequestContext

FAN = "Ceiling Fan 56in"
SUPPLIER = "Penang Sunrise Exports Pvt Ltd"


def ids(session: Session, ctx: RequestContext) -> tuple[Item, Warehouse]:
    fan = session.execute(
        select(Item).where(Item.company_id == ctx.company_id, Item.name == FAN)
    ).scalar_one()
    sylhet = session.execute(
        select(Warehouse).where(Warehouse.company_id == ctx.company_id, Warehouse.code == "SYL")
    ).scalar_one()
    return fan, sylhet


def test_write_off_damaged_stock_through_chat(chat_client, login, demo_session) -> None:
    ctx = context(demo_session, "storekeeper")
    fan, sylhet = ids(demo_session, ctx)
    before = stock_repo.on_hand(demo_session, ctx, fan.id, sylhet.id)
    chat = Chat(chat_client, login("storekeeper"))
    pending = chat.propose(f"write off 2 {FAN} in Sylhet Depot, damaged in transit")[
        "pending_confirmation"
    ]
    move = pending["preview"]["stock_moves"][0]
    assert (Decimal(move["on_hand_before"]), Decimal(move["on_hand_after"])) == (before, before - 2)
    done = chat.say("yes")
    assert done["skill"] == "action" and "now on hand" in done["message"]
    demo_session.expire_all()
    assert stock_repo.on_hand(demo_session, ctx, fan.id, sylhet.id) == before - 2
    finance = context(demo_session, "finance")
    vouchers, _ = ledger_repo.list_vouchers(
        demo_session, finance, source_type="stock_move", limit=1
    )
    got = [(str(ln.debit), str(ln.credit)) for ln in vouchers[0].lines]
    assert got == [(j["debit"], j["credit"]) for j in pending["preview"]["journal"]]


def test_adjustment_through_the_endpoint_and_refusals(chat_client, login, demo_session) -> None:
    ctx = context(demo_session, "storekeeper")
    fan, sylhet = ids(demo_session, ctx)
    before = stock_repo.on_hand(demo_session, ctx, fan.id, sylhet.id)
    headers = login("storekeeper")
    too_many = Chat(chat_client, headers).say(
        f"remove {before + 100} {FAN} from Sylhet Depot because damaged"
    )
    assert too_many["pending_confirmation"] is None
    assert f"Not enough {fan.sku} in SYL" in too_many["message"]
    denied = Chat(chat_client, login("sales")).say(f"add 5 {FAN} to Sylhet Depot, found in count")
    assert denied["skill"] == "denied" and "inventory" in denied["message"]

    pending = Chat(chat_client, headers).propose(f"add 5 {FAN} to Sylhet Depot, found in count")[
        "pending_confirmation"
    ]
    response = chat_client.post(f"/api/v1/ai/actions/{pending['token']}/confirm", headers=headers)
    assert response.status_code == 200, response.text
    demo_session.expire_all()
    assert stock_repo.on_hand(demo_session, ctx, fan.id, sylhet.id) == before + 5


def test_a_purchase_order_through_chat(chat_client, login, demo_session) -> None:
    ctx = context(demo_session, "buyer")
    chat = Chat(chat_client, login("buyer"))
    pending = chat.propose(f"raise a purchase order to {SUPPLIER} for 20 {FAN} into Sylhet Depot")[
        "pending_confirmation"
    ]
    doc = pending["preview"]["documents"][0]
    assert doc["lines"][0]["quantity"] == "20.000"
    done = chat.say("yes")
    assert doc["number"] in done["message"]
    demo_session.expire_all()
    order = po_repo.get_order_by_number(demo_session, ctx, doc["number"])
    assert (str(order.total), order.status) == (doc["total"], doc["status"])


def test_a_purchase_order_through_the_api_and_refusals(chat_client, login, demo_session) -> None:
    ctx = context(demo_session, "buyer")
    fan, sylhet = ids(demo_session, ctx)
    supplier = demo_session.execute(
        select(Supplier).where(Supplier.company_id == ctx.company_id, Supplier.name == SUPPLIER)
    ).scalar_one()
    headers = login("buyer")
    params = {
        "supplier_id": supplier.id,
        "lines": [{"item_id": fan.id, "quantity": "6"}],
        "warehouse_id": sylhet.id,
    }
    proposed = chat_client.post(
        "/api/v1/ai/actions",
        json={"action": "create_purchase_order", "params": params},
        headers=headers,
    )
    assert proposed.status_code == 201, proposed.text
    token = proposed.json()["token"]
    confirmed = chat_client.post(f"/api/v1/ai/actions/{token}/confirm", headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    demo_session.expire_all()
    order = po_repo.get_order_by_number(demo_session, ctx, confirmed.json()["document_ref"])
    assert [str(ln.quantity) for ln in order.lines] == ["6.000"]

    globex = context(demo_session, "admin", "globex")
    theirs = demo_session.execute(
        select(Supplier.id).where(Supplier.company_id == globex.company_id).limit(1)
    ).scalar_one()
    foreign = chat_client.post(
        "/api/v1/ai/actions",
        json={"action": "create_purchase_order", "params": {**params, "supplier_id": theirs}},
        headers=headers,
    )
    assert foreign.status_code == 404, foreign.text
    denied = Chat(chat_client, login("storekeeper")).say(
        f"raise a purchase order to {SUPPLIER} for 20 {FAN} into Sylhet Depot"
    )
    assert denied["skill"] == "denied" and "procurement" in denied["message"]
