"""void_document in chat: reverse a posted invoice, bill, receipt or payment, or drop a draft.

The proposal voids the document in a rolled-back dry run, so the preview shows the exact
reversal voucher and what reopens. The ERP refuses where the document's state forbids it
(a paid invoice, something already void); orders are cancelled in the ERP, not voided.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from companion.assistant.actions.base import Ask, Outcome, Proposal, dry_run, register_action
from companion.assistant.actions.handlers.finance import open_total, party_name
from companion.assistant.actions.handlers.support import (
    checked,
    day,
    document_number,
    fmt,
    reason_in,
    voucher_preview,
)
from companion.erp.invoicing import repository as invoices_repo
from companion.erp.invoicing.models import Invoice, InvoiceKind
from companion.erp.invoicing.service import void_invoice
from companion.erp.ledger import repository as ledger_repo
from companion.erp.payments import repository as payments_repo
from companion.erp.payments.models import Payment
from companion.erp.payments.schemas import PaymentFilters
from companion.erp.payments.service import void_payment
from companion.errors import BusinessRuleViolation, NotFound
from companion.tenancy.context import RequestContext


class VoidDocument:
    """void_document: reverse a posted invoice, bill, receipt or payment (or drop a draft)."""

    action = "void_document"
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
        """The document and the reason; a later reply without a document is the reason."""
        p = dict(params)
        p.setdefault("date", today.isoformat())
        number = document_number(entities, text, today, ("INV", "BILL", "RCPT", "PAY", "SO", "PO"))
        reason = reason_in(text)
        if number:
            p["number"] = number
        elif p.get("number") and not reason:
            reason = text.strip(" .")  # the reply to "Why should it be voided?"
        if reason:
            p["reason"] = reason[:500]
        return p

    def missing(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Ask | None:
        """Which document, then why."""
        if not params.get("number"):
            return Ask(
                "document_ref", "Which document should I void (invoice, bill, receipt or payment)?"
            )
        if not params.get("reason"):
            return Ask("reason", f"Why should {params['number']} be voided?", free_text=True)
        return None

    @checked
    def propose(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Proposal:
        """Void it in a dry run: the reversal voucher and what changes on the documents."""
        number = str(params["number"])
        on = day(params)
        reason = str(params.get("reason") or "").strip()
        target = self._target(session, ctx, number)
        f = fmt(ctx)
        if isinstance(target, Invoice):
            party = party_name(session, ctx, target)
            kind = InvoiceKind(target.kind)
            party_id = int(target.customer_id or target.supplier_id or 0)
            before = open_total(session, ctx, kind, party_id)
            status_before, journal_id, total = target.status, target.journal_id, target.total

            def run() -> dict[str, Any]:
                voided = void_invoice(session, ctx, target.id, on=on, reason=reason)
                return {
                    "status": voided.status,
                    "journal": self._reversal(session, ctx, journal_id),
                    "after": open_total(session, ctx, kind, party_id),
                }

            done = dry_run(session, run)
            balances = [
                {
                    "what": f"{party}: open "
                    + ("receivables" if kind == InvoiceKind.AR else "payables"),
                    "before": str(before),
                    "after": str(done["after"]),
                }
            ]
            affected: list[dict[str, Any]] = []
        else:
            party = self._payment_party(session, ctx, target)
            status_before, journal_id, total = target.status, target.journal_id, target.amount
            docs = invoices_repo.invoices_by_ids(
                session, ctx, (a.invoice_id for a in target.allocations)
            )
            opens = {i: d.open_amount for i, d in docs.items()}

            def run() -> dict[str, Any]:
                voided = void_payment(session, ctx, target.id, on=on, reason=reason)
                after = invoices_repo.invoices_by_ids(session, ctx, opens)
                return {
                    "status": voided.status,
                    "journal": self._reversal(session, ctx, journal_id),
                    "affected": [
                        {
                            "number": d.number,
                            "open_before": str(opens[i]),
                            "open_after": str(d.open_amount),
                            "status_after": d.status,
                        }
                        for i, d in after.items()
                    ],
                }

            done = dry_run(session, run)
            balances = []
            affected = done["affected"]
        doc = {
            "number": number,
            "party": party,
            "status_before": status_before,
            "status_after": done["status"],
            "amount": str(total),
            "reason": reason,
            "reopens": affected,
        }
        reversal = " and reverse its journal voucher" if done["journal"] else ""
        return Proposal(
            summary=f"Void {number} ({party}, {f.money(total)}){reversal}. "
            f"Reason: {reason.rstrip('.')}",
            preview={"documents": [doc], "journal": done["journal"], "balances": balances},
            params={"number": number, "date": on.isoformat(), "reason": reason},
            amount=total,
            document_ref=number,
        )

    @checked
    def execute(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Outcome:
        """Void it through the invoicing or payments service."""
        number = str(params["number"])
        on = day(params)
        reason = str(params.get("reason") or "")
        target = self._target(session, ctx, number)
        if isinstance(target, Invoice):
            voided_invoice = void_invoice(session, ctx, target.id, on=on, reason=reason)
            result = {"invoice_id": voided_invoice.id, "status": voided_invoice.status}
        else:
            voided_payment = void_payment(session, ctx, target.id, on=on, reason=reason)
            result = {"payment_id": voided_payment.id, "status": voided_payment.status}
        return Outcome(message=f"Voided {number}.", document_ref=number, result=result)

    @staticmethod
    def _target(session: Session, ctx: RequestContext, number: str) -> Invoice | Payment:
        prefix = number.split("-", 1)[0].upper()
        if prefix in ("SO", "PO"):
            raise BusinessRuleViolation(
                f"{number} is an order: orders are cancelled in the ERP, not voided",
                details={"number": number},
            )
        if prefix in ("INV", "BILL"):
            return invoices_repo.get_invoice_by_number(session, ctx, number)
        found, _ = payments_repo.list_payments(session, ctx, PaymentFilters(q=number), limit=5)
        payment = next((p for p in found if p.number == number.upper()), None)
        if payment is None:
            raise NotFound(f"Payment {number} not found", details={"number": number})
        return payments_repo.get_payment(session, ctx, payment.id)

    @staticmethod
    def _payment_party(session: Session, ctx: RequestContext, payment: Payment) -> str:
        if payment.customer_id is not None:
            return invoices_repo.get_customer(session, ctx, payment.customer_id).name
        assert payment.supplier_id is not None
        return invoices_repo.get_supplier(session, ctx, payment.supplier_id).name

    @staticmethod
    def _reversal(
        session: Session, ctx: RequestContext, journal_id: int | None
    ) -> list[dict[str, Any]]:
        if journal_id is None:
            return []
        reversal = ledger_repo.reversal_of(session, ctx, journal_id)
        return voucher_preview(session, ctx, reversal.id) if reversal is not None else []


register_action(VoidDocument())
