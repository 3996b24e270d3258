"""Payment rules: customer receipts and supplier payments, their allocations and voiding.

A receipt (RCPT-) brings a customer's money into a bank account and settles open AR
invoices; a payment (PAY-) pays a supplier's open AP bills. Whatever is not allocated
stays on account. Services flush and never commit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.erp.invoicing import repository as invoices
from companion.erp.invoicing.models import OPEN_STATUSES, Invoice, InvoiceKind
from companion.erp.invoicing.service import refresh_payment_status
from companion.erp.ledger import repository as ledger
from companion.erp.ledger.models import AccountRole
from companion.erp.ledger.rules import check_amount
from companion.erp.ledger.service import (
    JournalLineIn,
    account_for_role,
    post_journal,
    reverse_journal,
)
from companion.erp.numbering.service import DocType, next_number
from companion.erp.parties.models import Customer, Supplier
from companion.erp.payments import repository as repo
from companion.erp.payments.models import Payment, PaymentAllocation, PaymentKind, PaymentStatus
from companion.erp.payments.rules import OpenDocument, allocate_oldest_first, check_allocations
from companion.erp.payments.schemas import AllocationIn as AllocationIn
from companion.errors import BusinessRuleViolation, InvalidState, NotFound
from companion.tenancy.context import RequestContext

_KIND_OF_DOCUMENT = {PaymentKind.RECEIPT: InvoiceKind.AR, PaymentKind.PAYMENT: InvoiceKind.AP}


def record_payment(
    session: Session,
    ctx: RequestContext,
    *,
    kind: PaymentKind,
    party_id: int,
    bank_account_id: int,
    amount: Decimal,
    payment_date: dt.date,
    allocations: list[AllocationIn] | None = None,
    reference: str | None = None,
) -> Payment:
    """Record money received from a customer or paid to a supplier, and allocate it.

    ``allocations=None`` settles the party's open documents oldest due first.
    """
    ctx.require("finance.post")
    kind = PaymentKind(kind)
    amount = check_amount(Decimal(amount), "amount")
    if amount <= 0:
        raise BusinessRuleViolation("A payment amount must be positive", details={"amount": "0"})
    party: Customer | Supplier
    if kind == PaymentKind.RECEIPT:
        party = invoices.get_customer(session, ctx, party_id)
    else:
        party = invoices.get_supplier(session, ctx, party_id)
    bank = ledger.get_bank_account(session, ctx, bank_account_id)
    if not bank.is_active:
        raise BusinessRuleViolation(
            f"Bank account {bank.name} is closed", details={"bank_account_id": bank.id}
        )
    shares, documents = _allocation_plan(session, ctx, kind, party_id, amount, allocations)

    number = next_number(
        session,
        ctx.company_id,
        DocType.RECEIPT if kind == PaymentKind.RECEIPT else DocType.PAYMENT,
        payment_date,
    )
    receipt = kind == PaymentKind.RECEIPT
    party_account = account_for_role(
        session, ctx.company_id, AccountRole.RECEIVABLE if receipt else AccountRole.PAYABLE
    )
    party_line = JournalLineIn(
        account_id=party_account.id,
        debit=Decimal(0) if receipt else amount,
        credit=amount if receipt else Decimal(0),
        description=number,
        customer_id=party_id if receipt else None,
        supplier_id=None if receipt else party_id,
    )
    bank_line = JournalLineIn(
        account_id=bank.gl_account_id,
        debit=amount if receipt else Decimal(0),
        credit=Decimal(0) if receipt else amount,
        description=number,
    )
    payment = Payment(
        company_id=ctx.company_id,
        kind=kind.value,
        number=number,
        customer_id=party_id if receipt else None,
        supplier_id=None if receipt else party_id,
        bank_account_id=bank.id,
        payment_date=payment_date,
        amount=amount,
        currency=bank.currency,
        status=PaymentStatus.POSTED.value,
        reference=(reference or "").strip() or None,
        created_by_id=ctx.user_id,
        allocations=[
            PaymentAllocation(company_id=ctx.company_id, invoice_id=invoice_id, amount=share)
            for invoice_id, share in shares
        ],
    )
    session.add(payment)
    session.flush()
    payment.journal_id = post_journal(
        session,
        ctx,
        voucher_date=payment_date,
        memo=f"{'Receipt' if receipt else 'Payment'} {number} {'from' if receipt else 'to'} "
        f"{party.name}",
        lines=[bank_line, party_line] if receipt else [party_line, bank_line],
        source_type="payment",
        source_id=payment.id,
    ).id
    for invoice_id, share in shares:
        document = documents[invoice_id]
        document.amount_paid += share
        refresh_payment_status(document)
    session.flush()
    audit.record(
        session,
        ctx,
        "payment.record",
        "payment",
        payment.id,
        new=payment_values(payment, documents),
    )
    return payment


def void_payment(
    session: Session, ctx: RequestContext, payment_id: int, *, on: dt.date, reason: str
) -> Payment:
    """Reverse a payment's voucher and take it off the documents it settled."""
    ctx.require("finance.post")
    payment = repo.get_payment(session, ctx, payment_id, for_update=True)
    reason = reason.strip()
    if not reason:
        raise BusinessRuleViolation("Say why the payment is voided")
    if payment.status == PaymentStatus.VOID:
        raise InvalidState(f"{payment.number} is already void", details={"number": payment.number})
    documents = invoices.invoices_by_ids(
        session, ctx, (a.invoice_id for a in payment.allocations), for_update=True
    )
    old = payment_values(payment, documents)
    if payment.journal_id is not None:
        reverse_journal(
            session, ctx, payment.journal_id, on=on, memo=f"Void {payment.number}: {reason}"[:500]
        )
    for allocation in payment.allocations:
        document = documents[allocation.invoice_id]
        document.amount_paid -= allocation.amount
        refresh_payment_status(document)
    payment.status = PaymentStatus.VOID.value
    session.flush()
    audit.record(
        session,
        ctx,
        "payment.void",
        "payment",
        payment.id,
        old=old,
        new={**payment_values(payment, documents), "reason": reason, "on": on},
    )
    return payment


def payment_values(payment: Payment, documents: dict[int, Invoice]) -> dict[str, Any]:
    """A payment as the audit log records it, each allocation with its document's state."""
    return {
        "number": payment.number,
        "kind": payment.kind,
        "status": payment.status,
        "customer_id": payment.customer_id,
        "supplier_id": payment.supplier_id,
        "bank_account_id": payment.bank_account_id,
        "payment_date": payment.payment_date,
        "amount": payment.amount,
        "journal_id": payment.journal_id,
        "allocations": [
            {
                "invoice_id": a.invoice_id,
                "number": documents[a.invoice_id].number,
                "amount": a.amount,
                "document_paid": documents[a.invoice_id].amount_paid,
                "document_status": documents[a.invoice_id].status,
            }
            for a in payment.allocations
        ],
    }


def _allocation_plan(
    session: Session,
    ctx: RequestContext,
    kind: PaymentKind,
    party_id: int,
    amount: Decimal,
    allocations: list[AllocationIn] | None,
) -> tuple[list[tuple[int, Decimal]], dict[int, Invoice]]:
    """(invoice id, amount) pairs to apply, and the locked documents they apply to."""
    doc_kind = _KIND_OF_DOCUMENT[kind]
    if allocations is None:
        open_docs = invoices.open_invoices(
            session, ctx, kind=doc_kind, party_id=party_id, for_update=True
        )
        by_id = {d.id: d for d in open_docs}
        return allocate_oldest_first(amount, [_open(d) for d in open_docs]), by_id
    found = invoices.invoices_by_ids(
        session, ctx, (a.invoice_id for a in allocations), for_update=True
    )
    missing = [a.invoice_id for a in allocations if a.invoice_id not in found]
    if missing:
        # Another company's document answers exactly like a missing one.
        raise NotFound(f"Invoice {missing[0]} not found", details={"invoice_ids": missing})
    for document in found.values():
        _check_allocatable(document, doc_kind, party_id)
    requested = [(a.invoice_id, a.amount) for a in allocations]
    check_allocations(amount, requested, {i: _open(d) for i, d in found.items()})
    return [(i, check_amount(share)) for i, share in requested], found


def _check_allocatable(document: Invoice, kind: InvoiceKind, party_id: int) -> None:
    party_id_of_document = document.customer_id if kind == InvoiceKind.AR else document.supplier_id
    if document.kind != kind.value or party_id_of_document != party_id:
        what = "customer's invoices" if kind == InvoiceKind.AR else "supplier's bills"
        raise BusinessRuleViolation(
            f"{document.number} is not one of this {what}",
            details={"invoice_id": document.id, "number": document.number, "party_id": party_id},
        )
    if document.status not in OPEN_STATUSES:
        raise BusinessRuleViolation(
            f"{document.number} is {document.status}; only open documents take payments",
            details={
                "invoice_id": document.id,
                "number": document.number,
                "status": document.status,
            },
        )


def _open(document: Invoice) -> OpenDocument:
    return OpenDocument(document.id, document.number, document.due_date, document.open_amount)
