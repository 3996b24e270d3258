"""Finance actions through chat and the confirm endpoint, on the demo: exact vouchers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from handler_chat import Chat, context, only_in
from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.erp.documents import DocLineIn
from companion.erp.invoicing import repository as invoices_repo
from companion.erp.invoicing.models import Invoice, InvoiceKind
from companion.erp.invoicing.service import create_invoice
from companion.erp.items.models import Item
from companion.erp.ledger import repository as ledger_repo
from companion.erp.parties.models import Customer
from companion.kit.money import format_money
from companion.tenancy.context import RequestContext

TODAY = dt.date(2026, 3, 15)


def journal(session: Session, ctx: RequestContext, voucher_id: int) -> list[dict[str, str]]:
    voucher = ledger_repo.get_voucher(session, ctx, voucher_id)
    return [
        {
            "account": f"{ln.account.code} {ln.account.name}",
            "debit": str(ln.debit),
            "credit": str(ln.credit),
        }
        for ln in voucher.lines
    ]


def customer(session: Session, ctx: RequestContext, name: str) -> Customer:
    return session.execute(
        select(Customer).where(Customer.company_id == ctx.company_id, Customer.name == name)
    ).scalar_one()


def open_invoice(session: Session, ctx: RequestContext, name: str) -> Invoice:
    docs = invoices_repo.open_invoices(
        session, ctx, kind=InvoiceKind.AR, party_id=customer(session, ctx, name).id
    )
    return max(docs, key=lambda d: d.open_amount)


def test_post_a_draft_invoice_through_chat(chat_client, login, demo_session) -> None:
    admin = context(demo_session, "admin")
    fan = demo_session.execute(
        select(Item).where(Item.company_id == admin.company_id, Item.name == "Ceiling Fan 56in")
    ).scalar_one()
    draft = create_invoice(
        demo_session,
        admin,
        kind=InvoiceKind.AR,
        party_id=customer(demo_session, admin, "Tangail Traders").id,
        issue_date=TODAY,
        lines=[DocLineIn(item_id=fan.id, quantity=Decimal("2"))],
    )
    demo_session.flush()
    chat = Chat(chat_client, login("finance"))
    answer = chat.propose(f"post invoice {draft.number}")
    pending = answer["pending_confirmation"]
    assert pending["action"] == "post_ar_invoice"
    assert format_money(draft.total, "BDT") in answer["message"]
    done = chat.say("yes")
    assert draft.number in done["message"]
    demo_session.expire_all()
    posted = invoices_repo.get_invoice_by_number(demo_session, admin, draft.number)
    assert posted.status == "posted" and posted.journal_id is not None
    assert journal(demo_session, admin, posted.journal_id) == pending["preview"]["journal"]
    again = Chat(chat_client, login("finance")).say(f"post invoice {draft.number}")
    assert "only a draft can be posted" in again["message"]


def test_a_receipt_confirmed_through_the_endpoint(chat_client, login, demo_session) -> None:
    ctx = context(demo_session, "finance")
    target = open_invoice(demo_session, ctx, "Tangail Traders")
    amount = min(target.open_amount, Decimal("5000.00"))
    paid_before = target.amount_paid
    headers = login("finance")
    pending = Chat(chat_client, headers).propose(
        f"received BDT {amount} from Tangail Traders against {target.number} into City Bank Current"
    )["pending_confirmation"]
    doc = pending["preview"]["documents"][0]
    assert doc["allocations"][0]["number"] == target.number
    response = chat_client.post(f"/api/v1/ai/actions/{pending['token']}/confirm", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["document_ref"] == doc["number"]
    demo_session.expire_all()
    after = invoices_repo.get_invoice(demo_session, ctx, target.id)
    assert after.amount_paid == paid_before + amount
    balances = {b["what"]: b for b in pending["preview"]["balances"]}
    bank = next(
        b
        for b in ledger_repo.bank_balances(demo_session, ctx)
        if b.bank_account.name == "City Bank Current"
    )
    assert str(bank.balance) == balances["City Bank Current balance"]["after"]
    result = response.json()["result"]
    assert journal(demo_session, ctx, result["journal_id"]) == pending["preview"]["journal"]


def test_allocation_above_the_open_amount_is_refused(chat_client, login, demo_session) -> None:
    ctx = context(demo_session, "finance")
    target = open_invoice(demo_session, ctx, "Tangail Traders")
    too_much = target.open_amount + 1000
    answer = Chat(chat_client, login("finance")).say(
        f"received BDT {too_much} from Tangail Traders against {target.number} "
        "into City Bank Current"
    )
    assert answer["pending_confirmation"] is None
    assert f"still open on {target.number}" in answer["message"]


def test_void_an_invoice_with_its_reason_asked_for(chat_client, login, demo_session) -> None:
    ctx = context(demo_session, "finance")
    target = demo_session.execute(
        select(Invoice)
        .where(Invoice.company_id == ctx.company_id, Invoice.kind == "ar")
        .where(Invoice.status == "posted", Invoice.amount_paid == 0)
        .order_by(Invoice.id)
        .limit(1)
    ).scalar_one()
    chat = Chat(chat_client, login("finance"))
    assert chat.say(f"void {target.number}")["message"] == f"Why should {target.number} be voided?"
    pending = chat.propose("entered twice by mistake")["pending_confirmation"]
    assert pending["preview"]["documents"][0]["reason"] == "entered twice by mistake"
    chat.say("yes")
    demo_session.expire_all()
    voided = invoices_repo.get_invoice(demo_session, ctx, target.id)
    assert voided.status == "void"
    reversal = ledger_repo.reversal_of(demo_session, ctx, int(target.journal_id or 0))
    assert reversal is not None
    assert journal(demo_session, ctx, reversal.id) == pending["preview"]["journal"]


def test_void_refusals(chat_client, login, demo_session) -> None:
    ctx = context(demo_session, "finance")
    paid = demo_session.execute(
        select(Invoice)
        .where(Invoice.company_id == ctx.company_id, Invoice.status == "paid")
        .order_by(Invoice.id)
        .limit(1)
    ).scalar_one()
    answer = Chat(chat_client, login("finance")).say(f"void {paid.number} because duplicate")
    assert answer["pending_confirmation"] is None
    assert "payments allocated" in answer["message"]
    theirs = only_in(demo_session, "globex", "acme")
    answer = Chat(chat_client, login("finance")).say(f"void {theirs.number} because duplicate")
    assert answer["pending_confirmation"] is None and "not found" in answer["message"]
    denied = Chat(chat_client, login("sales")).say(f"void {paid.number}")
    assert denied["skill"] == "denied" and "finance" in denied["message"]
    demo_session.expire_all()
    assert invoices_repo.get_invoice(demo_session, ctx, paid.id).status == "paid"


def test_post_then_void_through_the_api(chat_client, login, demo_session) -> None:
    admin = context(demo_session, "admin")
    fan = demo_session.execute(
        select(Item).where(Item.company_id == admin.company_id, Item.name == "Ceiling Fan 56in")
    ).scalar_one()
    draft = create_invoice(
        demo_session,
        admin,
        kind=InvoiceKind.AR,
        party_id=customer(demo_session, admin, "Uttara Mart").id,
        issue_date=TODAY,
        lines=[DocLineIn(item_id=fan.id, quantity=Decimal("1"))],
    )
    demo_session.flush()
    headers = login("finance")

    def act(action: str, params: dict[str, str]) -> dict[str, object]:
        proposed = chat_client.post(
            "/api/v1/ai/actions", json={"action": action, "params": params}, headers=headers
        )
        assert proposed.status_code == 201, proposed.text
        token = proposed.json()["token"]
        confirmed = chat_client.post(f"/api/v1/ai/actions/{token}/confirm", headers=headers)
        assert confirmed.status_code == 200, confirmed.text
        body: dict[str, object] = confirmed.json()
        return body

    posted = act("post_ar_invoice", {"number": draft.number})
    assert (posted["status"], posted["document_ref"]) == ("executed", draft.number)
    voided = act("void_document", {"number": draft.number, "reason": "raised in error"})
    assert voided["document_ref"] == draft.number
    demo_session.expire_all()
    after = invoices_repo.get_invoice_by_number(demo_session, admin, draft.number)
    assert after.status == "void"
    assert ledger_repo.reversal_of(demo_session, admin, int(after.journal_id or 0)) is not None
    missing = chat_client.post(
        "/api/v1/ai/actions",
        json={"action": "void_document", "params": {"reason": "no number"}},
        headers=headers,
    )
    assert missing.status_code == 422, missing.text


def test_a_receipt_settles_the_oldest_invoices_first(chat_client, login, demo_session) -> None:
    ctx = context(demo_session, "finance")
    party = customer(demo_session, ctx, "Tangail Traders")
    docs = invoices_repo.open_invoices(demo_session, ctx, kind=InvoiceKind.AR, party_id=party.id)
    oldest = docs[0]
    chat = Chat(chat_client, login("finance"))
    pending = chat.propose(
        f"Tangail Traders paid us BDT {oldest.open_amount} into City Bank Current"
    )["pending_confirmation"]
    allocations = pending["preview"]["documents"][0]["allocations"]
    assert [(a["number"], a["amount"]) for a in allocations] == [
        (oldest.number, str(oldest.open_amount))
    ]
    done = chat.say("yes")
    number = pending["preview"]["documents"][0]["number"]
    assert number in done["message"]
    demo_session.expire_all()
    assert invoices_repo.get_invoice(demo_session, ctx, oldest.id).status == "paid"
