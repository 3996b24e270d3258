"""Finance actions in chat: post an AR invoice, record a receipt or payment (voiding.py voids).

Each proposal runs the invoicing or payments service in a rolled-back dry run, so the
preview shows the exact voucher lines that will post and the balances after.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from companion.assistant.actions.base import Ask, Outcome, Proposal, dry_run, register_action
from companion.assistant.actions.handlers.lines import bare_quantity
from companion.assistant.actions.handlers.support import (
    bank_balance,
    candidates_ask,
    checked,
    day,
    dec,
    document_number,
    document_numbers,
    fmt,
    take_party,
    voucher_preview,
)
from companion.erp.invoicing import repository as invoices_repo
from companion.erp.invoicing.models import OPEN_STATUSES, Invoice, InvoiceKind, InvoiceStatus
from companion.erp.invoicing.schemas import InvoiceFilters
from companion.erp.invoicing.service import post_invoice
from companion.erp.ledger import repository as ledger_repo
from companion.erp.payments.models import Payment, PaymentKind
from companion.erp.payments.schemas import AllocationIn
from companion.erp.payments.service import record_payment
from companion.errors import BusinessRuleViolation
from companion.kit.money import ZERO, money
from companion.tenancy.context import RequestContext

_PAY_WORDS = re.compile(
    r"\b(?:pay|paid|payment\s+to|settle\s+(?:the\s+)?bill|to\s+supplier)\b", re.I
)
_RECEIVE_WORDS = re.compile(r"\b(?:receiv\w*|receipt|got|collected|from\s+customer)\b", re.I)


def open_total(session: Session, ctx: RequestContext, kind: InvoiceKind, party_id: int) -> Decimal:
    """What a customer (AR) or supplier (AP) still owes or is owed on open documents."""
    docs = invoices_repo.open_invoices(session, ctx, kind=kind, party_id=party_id)
    return sum((d.open_amount for d in docs), ZERO)


def party_name(session: Session, ctx: RequestContext, invoice: Invoice) -> str:
    """The customer's or supplier's name on an invoice or bill."""
    if invoice.customer_id is not None:
        return invoices_repo.get_customer(session, ctx, invoice.customer_id).name
    assert invoice.supplier_id is not None
    return invoices_repo.get_supplier(session, ctx, invoice.supplier_id).name


class PostArInvoice:
    """post_ar_invoice: a draft AR invoice becomes posted, with its journal voucher."""

    action = "post_ar_invoice"
    permission = "finance.post"

    def gather(
        self,
        session: Session,
        ctx: RequestContext,
        params: dict[str, Any],
        entities: dict[str, Any],
        text: str,
        today: dt.date,
    ) -> dict[str, Any]:
        """The invoice number named this turn ("INV-2026-0012", "invoice 12")."""
        p = dict(params)
        number = document_number(entities, text, today, ("INV",))
        if number:
            p["number"] = number
        return p

    def missing(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Ask | None:
        """Which invoice, offering the latest drafts."""
        if params.get("number"):
            return None
        drafts, _ = invoices_repo.list_invoices(
            session,
            ctx,
            InvoiceFilters(kind=InvoiceKind.AR, status=InvoiceStatus.DRAFT),
            today=dt.date.today(),
            limit=5,
        )
        return Ask(
            "document_ref", "Which invoice should I post?", [d.number for d in drafts] or None
        )

    @checked
    def propose(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Proposal:
        """Post in a dry run: the voucher's lines and the customer's balance after."""
        invoice = self._invoice(session, ctx, params["number"])
        customer = invoices_repo.get_customer(session, ctx, int(invoice.customer_id or 0))
        before = open_total(session, ctx, InvoiceKind.AR, customer.id)

        def run() -> dict[str, Any]:
            posted = post_invoice(session, ctx, invoice.id)
            assert posted.journal_id is not None
            return {
                "status": posted.status,
                "journal": voucher_preview(session, ctx, posted.journal_id),
                "after": open_total(session, ctx, InvoiceKind.AR, customer.id),
            }

        done = dry_run(session, run)
        f = fmt(ctx)
        doc = {
            "type": "invoice",
            "number": invoice.number,
            "customer": customer.name,
            "issue_date": invoice.issue_date.isoformat(),
            "due_date": invoice.due_date.isoformat(),
            "status_before": InvoiceStatus.DRAFT.value,
            "status_after": done["status"],
            "total": str(invoice.total),
            "tax_total": str(invoice.tax_total),
        }
        return Proposal(
            summary=f"Post invoice {invoice.number} to {customer.name} for "
            f"{f.money(invoice.total)} (due {invoice.due_date.isoformat()}); "
            f"{customer.name} will owe {f.money(done['after'])}",
            preview={
                "documents": [doc],
                "journal": done["journal"],
                "balances": [
                    {
                        "what": f"{customer.name}: open receivables",
                        "before": str(before),
                        "after": str(done["after"]),
                    }
                ],
            },
            params={"number": invoice.number, "invoice_id": invoice.id},
            amount=invoice.total,
            document_ref=invoice.number,
        )

    @checked
    def execute(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Outcome:
        """Post it through the invoicing service."""
        invoice = self._invoice(session, ctx, params["number"])
        posted = post_invoice(session, ctx, invoice.id)
        return Outcome(
            message=f"Posted invoice {posted.number} ({fmt(ctx).money(posted.total)}).",
            document_ref=posted.number,
            result={
                "invoice_id": posted.id,
                "status": posted.status,
                "journal_id": posted.journal_id,
            },
        )

    @staticmethod
    def _invoice(session: Session, ctx: RequestContext, number: str) -> Invoice:
        invoice = invoices_repo.get_invoice_by_number(session, ctx, number)
        if invoice.kind != InvoiceKind.AR.value:
            raise BusinessRuleViolation(
                f"{invoice.number} is a supplier bill; only customer invoices are posted here",
                details={"number": invoice.number},
            )
        return invoice


class RecordPayment:
    """record_payment: a customer receipt or supplier payment, allocated to named documents
    or oldest-first."""

    action = "record_payment"
    permission = "finance.post"

    def gather(
        self,
        session: Session,
        ctx: RequestContext,
        params: dict[str, Any],
        entities: dict[str, Any],
        text: str,
        today: dt.date,
    ) -> dict[str, Any]:
        """Party, amount, bank account and documents from this turn; corrections overwrite."""
        p = dict(params)
        p.setdefault("date", today.isoformat())
        if take_party(p, entities, "customer"):
            p["kind"] = PaymentKind.RECEIPT.value
            p.pop("supplier_id", None)
        elif take_party(p, entities, "supplier"):
            p["kind"] = PaymentKind.PAYMENT.value
            p.pop("customer_id", None)
        take_party(p, entities, "bank_account")
        docs = document_numbers(entities, text, today, ("INV", "BILL"))
        if docs:
            p["documents"] = docs
            if any(d.startswith("BILL") for d in docs) and "kind" not in p:
                p["kind"] = PaymentKind.PAYMENT.value
            elif "kind" not in p:
                p["kind"] = PaymentKind.RECEIPT.value
        if "kind" not in p:
            if _PAY_WORDS.search(text) and not _RECEIVE_WORDS.search(text):
                p["kind"] = PaymentKind.PAYMENT.value
            elif _RECEIVE_WORDS.search(text):
                p["kind"] = PaymentKind.RECEIPT.value
        amount = entities.get("amount")
        if amount is None and not docs:
            amount = bare_quantity(text)  # the reply to "How much?"
        if amount is not None:
            p["amount"] = str(amount)
        if re.search(r"\boldest[- ]first\b|\boldest\b", text, re.I):
            p.pop("documents", None)
        return p

    def missing(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Ask | None:
        """Who paid (or is paid), how much, and into or out of which bank account."""
        for kind in ("customer", "supplier", "bank_account"):
            ambiguous = candidates_ask(params, kind, kind.replace("_", " "))
            if ambiguous:
                return Ask(kind, *ambiguous)
        if params.get("customer_id") is None and params.get("supplier_id") is None:
            if not params.get("documents"):
                return Ask("customer", "Who is the payment from (customer) or to (supplier)?")
        if params.get("amount") is None:
            return Ask("amount", "How much was paid?")
        if params.get("bank_account_id") is None:
            banks = [b for b in ledger_repo.list_bank_accounts(session, ctx) if b.is_active]
            if len(banks) != 1:
                return Ask("bank_account", "Which bank account?", [b.name for b in banks] or None)
        return None

    @checked
    def propose(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Proposal:
        """Record it in a dry run: allocations, voucher, the party's and the bank's balances."""
        p = self._normalised(session, ctx, params)
        receipt = p["kind"] == PaymentKind.RECEIPT.value
        doc_kind = InvoiceKind.AR if receipt else InvoiceKind.AP
        party_id = int(p["customer_id"] if receipt else p["supplier_id"])
        party_name = (
            invoices_repo.get_customer(session, ctx, party_id).name
            if receipt
            else invoices_repo.get_supplier(session, ctx, party_id).name
        )
        bank_id = int(p["bank_account_id"])
        owed_before = open_total(session, ctx, doc_kind, party_id)
        bank_before = bank_balance(session, ctx, bank_id)

        def run() -> dict[str, Any]:
            payment = self._record(session, ctx, p)
            docs = invoices_repo.invoices_by_ids(
                session, ctx, (a.invoice_id for a in payment.allocations)
            )
            assert payment.journal_id is not None
            return {
                "number": payment.number,
                "allocations": [
                    {
                        "number": docs[a.invoice_id].number,
                        "amount": str(a.amount),
                        "open_after": str(docs[a.invoice_id].open_amount),
                        "status_after": docs[a.invoice_id].status,
                    }
                    for a in sorted(payment.allocations, key=lambda a: a.id)
                ],
                "unallocated": str(payment.amount - payment.allocated),
                "journal": voucher_preview(session, ctx, payment.journal_id),
                "owed_after": open_total(session, ctx, doc_kind, party_id),
                "bank_after": bank_balance(session, ctx, bank_id),
            }

        done = dry_run(session, run)
        bank = ledger_repo.get_bank_account(session, ctx, bank_id)
        f = fmt(ctx)
        amount = Decimal(p["amount"])
        allocated = "; ".join(
            f"{a['number']} {f.money(Decimal(a['amount']))}" for a in done["allocations"]
        )
        what = "Receipt" if receipt else "Payment"
        summary = (
            f"Record {what.lower()} {done['number']} of {f.money(amount)} "
            f"{'from' if receipt else 'to'} {party_name} {'into' if receipt else 'from'} "
            f"{bank.name}, allocated to {allocated or 'nothing (held on account)'}"
            + (
                f", {f.money(Decimal(done['unallocated']))} on account"
                if Decimal(done["unallocated"]) and allocated
                else ""
            )
            + "."
        )
        return Proposal(
            summary=summary.rstrip(" ."),
            preview={
                "documents": [
                    {
                        "type": p["kind"],
                        "number": done["number"],
                        "party": party_name,
                        "bank_account": bank.name,
                        "amount": str(money(amount)),
                        "allocations": done["allocations"],
                        "unallocated": done["unallocated"],
                    }
                ],
                "journal": done["journal"],
                "balances": [
                    {
                        "what": f"{party_name}: open {'receivables' if receipt else 'payables'}",
                        "before": str(owed_before),
                        "after": str(done["owed_after"]),
                    },
                    {
                        "what": f"{bank.name} balance",
                        "before": str(bank_before),
                        "after": str(done["bank_after"]),
                    },
                ],
            },
            params=p,
            amount=amount,
        )

    @checked
    def execute(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Outcome:
        """Record it through the payments service."""
        p = self._normalised(session, ctx, params)
        payment = self._record(session, ctx, p)
        what = "receipt" if payment.kind == PaymentKind.RECEIPT.value else "payment"
        return Outcome(
            message=f"Recorded {what} {payment.number} of {fmt(ctx).money(payment.amount)}.",
            document_ref=payment.number,
            result={
                "payment_id": payment.id,
                "number": payment.number,
                "amount": str(payment.amount),
                "allocated": str(payment.allocated),
                "journal_id": payment.journal_id,
            },
        )

    @staticmethod
    def _normalised(
        session: Session, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """Kind, party and bank filled in from the named documents and the company's banks."""
        p = {k: v for k, v in params.items() if not k.endswith("_candidates")}
        documents = [
            invoices_repo.get_invoice_by_number(session, ctx, n) for n in p.get("documents") or []
        ]
        if documents:
            kinds = {d.kind for d in documents}
            if len(kinds) > 1:
                raise BusinessRuleViolation("A payment settles invoices or bills, not both")
            kind = PaymentKind.RECEIPT if kinds == {InvoiceKind.AR.value} else PaymentKind.PAYMENT
            if p.get("kind") not in (None, kind.value):
                article = "an invoice" if kind == PaymentKind.RECEIPT else "a bill"
                raise BusinessRuleViolation(
                    f"{documents[0].number} is {article}; it takes a {kind.value}, "
                    f"not a {p['kind']}"
                )
            p["kind"] = kind.value
            key = "customer_id" if kind == PaymentKind.RECEIPT else "supplier_id"
            parties = {
                d.customer_id if kind == PaymentKind.RECEIPT else d.supplier_id for d in documents
            }
            if p.get(key) is None and len(parties) == 1:
                p[key] = parties.pop()
        if p.get("kind") is None:
            p["kind"] = (
                PaymentKind.PAYMENT.value
                if p.get("supplier_id") is not None
                else PaymentKind.RECEIPT.value
            )
        if p.get("bank_account_id") is None:
            banks = [b for b in ledger_repo.list_bank_accounts(session, ctx) if b.is_active]
            if len(banks) != 1:
                raise BusinessRuleViolation("Say which bank account the money moved through")
            p["bank_account_id"] = banks[0].id
        if dec(p.get("amount")) is None:
            raise BusinessRuleViolation("Say how much was paid")
        return p

    @staticmethod
    def _record(session: Session, ctx: RequestContext, p: dict[str, Any]) -> Payment:
        receipt = p["kind"] == PaymentKind.RECEIPT.value
        party = p.get("customer_id") if receipt else p.get("supplier_id")
        if party is None:
            raise BusinessRuleViolation(f"Say which {'customer' if receipt else 'supplier'} it is")
        amount = dec(p["amount"])
        assert amount is not None
        return record_payment(
            session,
            ctx,
            kind=PaymentKind(p["kind"]),
            party_id=int(party),
            bank_account_id=int(p["bank_account_id"]),
            amount=amount,
            payment_date=day(p),
            allocations=RecordPayment._allocations(session, ctx, p, amount),
        )

    @staticmethod
    def _allocations(
        session: Session, ctx: RequestContext, p: dict[str, Any], amount: Decimal
    ) -> list[AllocationIn] | None:
        """Named documents take their open amounts in the order named, the last the rest;
        no documents named means oldest first."""
        numbers = p.get("documents") or []
        if not numbers:
            return None
        documents = [invoices_repo.get_invoice_by_number(session, ctx, n) for n in numbers]
        out: list[AllocationIn] = []
        remaining = amount
        for n, document in enumerate(documents):
            last = n == len(documents) - 1
            open_amount = document.open_amount if document.status in OPEN_STATUSES else ZERO
            share = remaining if last else min(remaining, open_amount)
            if share > 0:
                out.append(AllocationIn(invoice_id=document.id, amount=share))
            remaining -= share
        return out


register_action(PostArInvoice())
register_action(RecordPayment())
