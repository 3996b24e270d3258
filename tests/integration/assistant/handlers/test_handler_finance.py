"""post_ar_invoice, record_payment and void_document: exact vouchers, balances, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from handler_world import TODAY, World, bill, handler, invoice, say
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from companion.erp.invoicing import repository as invoices_repo
from companion.erp.ledger import repository as ledger_repo
from companion.erp.ledger.models import JournalVoucher
from companion.erp.payments.models import Payment
from companion.errors import BusinessRuleViolation, InvalidState, NotFound, PermissionDenied

POST, PAY, VOID = "post_ar_invoice", "record_payment", "void_document"


def vouchers(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(JournalVoucher)).scalar_one())


def journal_of(session: Session, world: World, voucher_id: int) -> list[dict[str, str]]:
    voucher = ledger_repo.get_voucher(session, world.finance, voucher_id)
    return [
        {
            "account": f"{ln.account.code} {ln.account.name}",
            "debit": str(ln.debit),
            "credit": str(ln.credit),
        }
        for ln in voucher.lines
    ]


def foreign(session: Session, theirs: World, ours: World, *, post: bool = True) -> str:
    """The number of an invoice of ``theirs`` that ``ours`` has no invoice numbered like."""
    while True:
        number = invoice(session, theirs, "10.00", post=post).number
        try:
            invoices_repo.get_invoice_by_number(session, ours.finance, number)
        except NotFound:
            return number


def test_post_a_draft_invoice_exactly_as_previewed(session: Session, acme: World) -> None:
    draft = invoice(session, acme, "1500.00", post=False)
    h = handler(POST)
    params = say(session, acme.finance, POST, f"post invoice {draft.number}")
    assert params["number"] == draft.number
    assert h.missing(session, acme.finance, params) is None
    before = vouchers(session)
    proposal = h.propose(session, acme.finance, params)
    assert vouchers(session) == before
    assert proposal.document_ref == draft.number and proposal.amount == Decimal("1500.00")
    journal = proposal.preview["journal"]
    assert [(j["debit"], j["credit"]) for j in journal] == [
        ("1500.00", "0.00"),
        ("0.00", "1500.00"),
    ]
    assert proposal.preview["balances"][0] == {
        "what": "Rahman Traders: open receivables",
        "before": "0.00",
        "after": "1500.00",
    }
    outcome = h.execute(session, acme.finance.as_ai(), proposal.params)
    session.expire_all()
    posted = invoices_repo.get_invoice_by_number(session, acme.finance, draft.number)
    assert (outcome.document_ref, posted.status) == (draft.number, "posted")
    assert posted.journal_id is not None
    assert journal_of(session, acme, posted.journal_id) == journal


def test_short_references_and_the_question_offer_drafts(session: Session, acme: World) -> None:
    draft = invoice(session, acme, "10.00", post=False)
    h = handler(POST)
    params = say(session, acme.finance, POST, "post the invoice")
    ask = h.missing(session, acme.finance, params)
    assert ask is not None and ask.choices == [draft.number]
    short = f"invoice {int(draft.number.rsplit('-', 1)[1])}"
    assert say(session, acme.finance, POST, f"post {short}", params)["number"] == draft.number


def test_posting_twice_or_a_bill_or_elsewhere_is_refused(
    session: Session, acme: World, globex: World
) -> None:
    h = handler(POST)
    posted = invoice(session, acme, "10.00")
    with pytest.raises(InvalidState, match="only a draft can be posted"):
        h.propose(session, acme.finance, {"number": posted.number})
    supplier_bill = bill(session, acme, "10.00")
    with pytest.raises(BusinessRuleViolation, match="supplier bill"):
        h.propose(session, acme.finance, {"number": supplier_bill.number})
    with pytest.raises(NotFound):
        h.propose(session, acme.finance, {"number": foreign(session, globex, acme, post=False)})
    with pytest.raises(PermissionDenied, match="role finance"):
        h.propose(session, acme.sales, {"number": posted.number})


def test_a_receipt_against_a_named_invoice(session: Session, acme: World) -> None:
    first = invoice(session, acme, "300.00")
    second = invoice(session, acme, "700.00")
    h = handler(PAY)
    params = say(
        session, acme.finance, PAY, f"received BDT 700 from Rahman Traders for {second.number}"
    )
    assert (params["kind"], params["amount"], params["documents"]) == (
        "receipt",
        "700",
        [second.number],
    )
    assert h.missing(session, acme.finance, params) is None  # one bank account: no question
    proposal = h.propose(session, acme.finance, params)
    doc = proposal.preview["documents"][0]
    assert doc["allocations"] == [
        {"number": second.number, "amount": "700.00", "open_after": "0.00", "status_after": "paid"}
    ]
    balances = {b["what"]: (b["before"], b["after"]) for b in proposal.preview["balances"]}
    assert balances == {
        "Rahman Traders: open receivables": ("1000.00", "300.00"),
        "City Bank Current balance": ("100000.00", "100700.00"),
    }
    outcome = h.execute(session, acme.finance.as_ai(), proposal.params)
    assert outcome.document_ref == doc["number"]
    session.expire_all()
    assert invoices_repo.get_invoice(session, acme.finance, second.id).status == "paid"
    assert invoices_repo.get_invoice(session, acme.finance, first.id).status == "posted"
    payment = session.execute(select(Payment).where(Payment.number == doc["number"])).scalar_one()
    assert payment.journal_id is not None
    assert journal_of(session, acme, payment.journal_id) == proposal.preview["journal"]


def test_without_documents_the_oldest_are_settled_first(session: Session, acme: World) -> None:
    import datetime as dt

    old = invoice(session, acme, "300.00", due=dt.date(2026, 1, 20))
    new = invoice(session, acme, "700.00", due=dt.date(2026, 2, 20))
    params = say(session, acme.finance, PAY, "Rahman Traders paid us 500 taka")
    proposal = handler(PAY).propose(session, acme.finance, params)
    allocations = proposal.preview["documents"][0]["allocations"]
    assert [(a["number"], a["amount"]) for a in allocations] == [
        (old.number, "300.00"),
        (new.number, "200.00"),
    ]


def test_a_supplier_payment_and_the_amount_asked_for(session: Session, acme: World) -> None:
    owed = bill(session, acme, "250.00")
    h = handler(PAY)
    params = say(session, acme.finance, PAY, f"pay Delta Steel Supply for {owed.number}")
    assert params["kind"] == "payment"
    ask = h.missing(session, acme.finance, params)
    assert ask is not None and ask.slot == "amount"
    params = say(session, acme.finance, PAY, "250", params)
    proposal = h.propose(session, acme.finance, params)
    journal = proposal.preview["journal"]
    assert [(j["debit"], j["credit"]) for j in journal] == [("250.00", "0.00"), ("0.00", "250.00")]
    assert proposal.preview["balances"][1]["after"] == "99750.00"


def test_allocation_above_the_open_amount_is_refused(session: Session, acme: World) -> None:
    owed = invoice(session, acme, "300.00")
    params = say(
        session, acme.finance, PAY, f"received BDT 500 from Rahman Traders against {owed.number}"
    )
    with pytest.raises(
        BusinessRuleViolation, match=f"more than the 300.00 still open on {owed.number}"
    ):
        handler(PAY).propose(session, acme.finance, params)
    assert int(session.execute(select(func.count()).select_from(Payment)).scalar_one()) == 0


def test_payments_against_another_companys_invoice_are_not_found(
    session: Session, acme: World, globex: World
) -> None:
    theirs = foreign(session, globex, acme)
    params = {
        "kind": "receipt",
        "customer_id": acme.customer.id,
        "amount": "100",
        "documents": [theirs],
        "date": TODAY.isoformat(),
    }
    with pytest.raises(NotFound):
        handler(PAY).propose(session, acme.finance, params)
    with pytest.raises(NotFound):
        handler(PAY).propose(
            session, acme.finance, {**params, "documents": [], "customer_id": globex.customer.id}
        )
    with pytest.raises(PermissionDenied, match="role finance"):
        handler(PAY).propose(session, acme.sales, {**params, "documents": []})


def test_void_a_posted_invoice_reverses_its_voucher(session: Session, acme: World) -> None:
    posted = invoice(session, acme, "800.00")
    h = handler(VOID)
    params = say(session, acme.finance, VOID, f"void {posted.number}")
    ask = h.missing(session, acme.finance, params)
    assert ask is not None and ask.slot == "reason"
    params = say(session, acme.finance, VOID, "billed to the wrong customer", params)
    assert params["reason"] == "billed to the wrong customer"
    proposal = h.propose(session, acme.finance, params)
    assert [(j["debit"], j["credit"]) for j in proposal.preview["journal"]] == [
        ("0.00", "800.00"),
        ("800.00", "0.00"),
    ]
    assert proposal.preview["balances"][0]["after"] == "0.00"
    h.execute(session, acme.finance.as_ai(), proposal.params)
    session.expire_all()
    voided = invoices_repo.get_invoice(session, acme.finance, posted.id)
    assert voided.status == "void"
    reversal = ledger_repo.reversal_of(session, acme.finance, int(posted.journal_id or 0))
    assert reversal is not None
    assert journal_of(session, acme, reversal.id) == proposal.preview["journal"]


def test_void_a_receipt_reopens_its_invoice(session: Session, acme: World) -> None:
    owed = invoice(session, acme, "300.00")
    pay = handler(PAY)
    done = pay.execute(
        session,
        acme.finance,
        pay.propose(
            session,
            acme.finance,
            say(
                session,
                acme.finance,
                PAY,
                f"received BDT 300 from Rahman Traders for {owed.number}",
            ),
        ).params,
    )
    params = say(
        session, acme.finance, VOID, f"void {done.document_ref} because the cheque bounced"
    )
    assert params["reason"] == "The cheque bounced"
    proposal = handler(VOID).propose(session, acme.finance, params)
    reopened = proposal.preview["documents"][0]["reopens"]
    assert reopened == [
        {
            "number": owed.number,
            "open_before": "0.00",
            "open_after": "300.00",
            "status_after": "posted",
        }
    ]


def test_void_refused_where_the_state_forbids_it(
    session: Session, acme: World, globex: World
) -> None:
    h = handler(VOID)
    paid = invoice(session, acme, "300.00")
    pay = handler(PAY)
    pay.execute(
        session,
        acme.finance,
        pay.propose(
            session,
            acme.finance,
            say(
                session,
                acme.finance,
                PAY,
                f"received BDT 300 from Rahman Traders for {paid.number}",
            ),
        ).params,
    )
    base = {"date": TODAY.isoformat(), "reason": "test"}
    with pytest.raises(InvalidState, match="payments allocated"):
        h.propose(session, acme.finance, {**base, "number": paid.number})
    gone = invoice(session, acme, "10.00")
    h.execute(session, acme.finance, {**base, "number": gone.number})
    with pytest.raises(InvalidState, match="already void"):
        h.propose(session, acme.finance, {**base, "number": gone.number})
    with pytest.raises(BusinessRuleViolation, match="cancelled in the ERP"):
        h.propose(session, acme.finance, {**base, "number": "SO-2026-0001"})
    with pytest.raises(NotFound):
        h.propose(session, acme.finance, {**base, "number": foreign(session, globex, acme)})
    with pytest.raises(NotFound):
        h.propose(session, acme.finance, {**base, "number": "RCPT-2026-0999"})
