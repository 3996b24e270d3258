"""Invoice and bill rules: drafts, posting to the ledger, voiding, payment status.

An AR invoice bills a customer (INV-), an AP bill records what a supplier billed (BILL-).
Posting writes one balanced voucher through the ledger; voiding a posted document
reverses that voucher. Services flush and never commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.erp.documents import DocLineIn, resolve_lines
from companion.erp.invoicing import repository as repo
from companion.erp.invoicing.models import (
    ISSUED_STATUSES,
    VOIDABLE_STATUSES,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
)
from companion.erp.invoicing.rules import invoice_posting, net_by_account, payment_status
from companion.erp.ledger.models import AccountRole
from companion.erp.ledger.service import (
    JournalLineIn,
    account_for_role,
    post_journal,
    reverse_journal,
)
from companion.erp.numbering.service import DocType, next_number
from companion.erp.parties.models import Customer, Supplier
from companion.errors import BusinessRuleViolation, InvalidState, PermissionDenied
from companion.kit.money import ZERO
from companion.tenancy.context import RequestContext
from companion.tenancy.permissions import roles_granting

# Who may prepare a draft: finance, or the people who sell or buy.
_DRAFT_PERMISSIONS = {
    InvoiceKind.AR: ("finance.post", "sales.write"),
    InvoiceKind.AP: ("finance.post", "procurement.write"),
}
_ANY_DRAFT_PERMISSION = ("finance.post", "sales.write", "procurement.write")


def create_invoice(
    session: Session,
    ctx: RequestContext,
    *,
    kind: InvoiceKind,
    party_id: int,
    issue_date: dt.date,
    lines: list[DocLineIn],
    due_date: dt.date | None = None,
    sales_order_id: int | None = None,
    purchase_order_id: int | None = None,
    supplier_reference: str | None = None,
    notes: str | None = None,
) -> Invoice:
    """A draft invoice (AR, to a customer) or bill (AP, from a supplier)."""
    kind = InvoiceKind(kind)
    _require_any(ctx, _DRAFT_PERMISSIONS[kind])
    party: Customer | Supplier
    if kind == InvoiceKind.AR:
        party = repo.get_customer(session, ctx, party_id)
    else:
        party = repo.get_supplier(session, ctx, party_id)
    _check_orders(session, ctx, kind, party_id, sales_order_id, purchase_order_id)
    if not party.is_active:
        raise BusinessRuleViolation(
            f"{party.name} is inactive", details={"party_id": party_id, "kind": kind.value}
        )
    due = due_date or issue_date + dt.timedelta(days=party.payment_terms_days)
    if due < issue_date:
        raise BusinessRuleViolation(
            "The due date cannot be before the issue date",
            details={"issue_date": issue_date.isoformat(), "due_date": due.isoformat()},
        )
    resolved, totals = resolve_lines(
        session, ctx, lines, price="sale" if kind == InvoiceKind.AR else "cost"
    )
    revenue = expense = inventory = None
    if kind == InvoiceKind.AR:
        revenue = account_for_role(session, ctx.company_id, AccountRole.REVENUE).id
    else:
        expense = account_for_role(session, ctx.company_id, AccountRole.EXPENSE).id
        inventory = account_for_role(session, ctx.company_id, AccountRole.INVENTORY).id
    invoice = Invoice(
        company_id=ctx.company_id,
        kind=kind.value,
        number=next_number(
            session,
            ctx.company_id,
            DocType.INVOICE if kind == InvoiceKind.AR else DocType.BILL,
            issue_date,
        ),
        customer_id=party_id if kind == InvoiceKind.AR else None,
        supplier_id=party_id if kind == InvoiceKind.AP else None,
        sales_order_id=sales_order_id,
        purchase_order_id=purchase_order_id,
        issue_date=issue_date,
        due_date=due,
        status=InvoiceStatus.DRAFT.value,
        currency=ctx.currency,
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        tax_total=totals.tax_total,
        total=totals.total,
        amount_paid=ZERO,
        supplier_reference=(supplier_reference or "").strip() or None,
        notes=(notes or "").strip() or None,
        created_by_id=ctx.user_id,
        lines=[
            InvoiceLine(
                company_id=ctx.company_id,
                line_no=r.line_no,
                item_id=r.item.id,
                # Purchases of stocked items are inventory; anything else bought is an expense.
                account_id=revenue or (inventory if r.item.is_tracked else expense),
                description=r.description,
                quantity=r.quantity,
                unit_price=r.unit_price,
                discount_pct=r.discount_pct,
                tax_rate=r.tax_rate,
                net_amount=r.amounts.net,
                tax_amount=r.amounts.tax,
            )
            for r in resolved
        ],
    )
    session.add(invoice)
    session.flush()
    audit.record(session, ctx, "invoice.create", "invoice", invoice.id, new=invoice_values(invoice))
    return invoice


def post_invoice(
    session: Session, ctx: RequestContext, invoice_id: int, *, on: dt.date | None = None
) -> Invoice:
    """Post a draft: write its voucher and open it for payment."""
    ctx.require("finance.post")
    invoice = repo.get_invoice(session, ctx, invoice_id, for_update=True)
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvalidState(
            f"{invoice.number} is {invoice.status}; only a draft can be posted",
            details={"number": invoice.number, "status": invoice.status},
        )
    posting_date = on or invoice.issue_date
    if posting_date < invoice.issue_date:
        raise BusinessRuleViolation(
            "An invoice cannot be posted before its issue date",
            details={"issue_date": invoice.issue_date.isoformat(), "on": posting_date.isoformat()},
        )
    old = invoice_values(invoice)
    kind = InvoiceKind(invoice.kind)
    if kind == InvoiceKind.AR:
        party_role, tax_role = AccountRole.RECEIVABLE, AccountRole.TAX_OUTPUT
        fallback = AccountRole.REVENUE
    else:
        party_role, tax_role = AccountRole.PAYABLE, AccountRole.TAX_INPUT
        fallback = AccountRole.EXPENSE
    fallback_id = account_for_role(session, ctx.company_id, fallback).id
    posting = invoice_posting(
        kind,
        party_account_id=account_for_role(session, ctx.company_id, party_role).id,
        tax_account_id=account_for_role(session, ctx.company_id, tax_role).id,
        nets=net_by_account((ln.account_id or fallback_id, ln.net_amount) for ln in invoice.lines),
        tax=invoice.tax_total,
    )
    party_name = _party_name(session, ctx, invoice)
    voucher = post_journal(
        session,
        ctx,
        voucher_date=posting_date,
        memo=f"{'Invoice' if kind == InvoiceKind.AR else 'Bill'} {invoice.number}, {party_name}",
        lines=[
            JournalLineIn(
                account_id=p.account_id,
                debit=p.debit,
                credit=p.credit,
                description=invoice.number,
                customer_id=invoice.customer_id if p.is_party_line else None,
                supplier_id=invoice.supplier_id if p.is_party_line else None,
            )
            for p in posting
        ],
        source_type="invoice",
        source_id=invoice.id,
    )
    invoice.status = InvoiceStatus.POSTED.value
    invoice.journal_id = voucher.id
    session.flush()
    repo.add_sales_month(session, invoice, 1)
    audit.record(
        session, ctx, "invoice.post", "invoice", invoice.id, old=old, new=invoice_values(invoice)
    )
    return invoice


def void_invoice(
    session: Session, ctx: RequestContext, invoice_id: int, *, on: dt.date, reason: str
) -> Invoice:
    """Void a draft, or a posted document nothing was paid on (its voucher is reversed)."""
    # A caller who could void nothing learns nothing about which documents exist.
    _require_any(ctx, _ANY_DRAFT_PERMISSION)
    invoice = repo.get_invoice(session, ctx, invoice_id, for_update=True)
    reason = reason.strip()
    if not reason:
        raise BusinessRuleViolation("Say why the document is voided")
    if invoice.status == InvoiceStatus.DRAFT:
        _require_any(ctx, _DRAFT_PERMISSIONS[InvoiceKind(invoice.kind)])
    else:
        ctx.require("finance.post")
    if invoice.status == InvoiceStatus.VOID:
        raise InvalidState(f"{invoice.number} is already void", details={"number": invoice.number})
    if invoice.amount_paid > 0 or invoice.status not in VOIDABLE_STATUSES:
        raise InvalidState(
            f"{invoice.number} has payments allocated to it; void those payments first",
            details={
                "number": invoice.number,
                "status": invoice.status,
                "amount_paid": str(invoice.amount_paid),
            },
        )
    old = invoice_values(invoice)
    repo.add_sales_month(session, invoice, -1)  # a draft was never counted: no change
    if invoice.journal_id is not None:
        reverse_journal(
            session, ctx, invoice.journal_id, on=on, memo=f"Void {invoice.number}: {reason}"[:500]
        )
    invoice.status = InvoiceStatus.VOID.value
    session.flush()
    audit.record(
        session,
        ctx,
        "invoice.void",
        "invoice",
        invoice.id,
        old=old,
        new={**invoice_values(invoice), "reason": reason, "on": on},
    )
    return invoice


def refresh_payment_status(invoice: Invoice) -> None:
    """Set a posted document's status from its ``amount_paid`` (payments call this)."""
    if invoice.status not in ISSUED_STATUSES:
        raise InvalidState(
            f"{invoice.number} is {invoice.status}; payments apply only to posted documents",
            details={"number": invoice.number, "status": invoice.status},
        )
    invoice.status = payment_status(invoice.total, invoice.amount_paid).value


def invoice_values(invoice: Invoice) -> dict[str, Any]:
    """An invoice as the audit log records it."""
    return {
        "number": invoice.number,
        "kind": invoice.kind,
        "status": invoice.status,
        "customer_id": invoice.customer_id,
        "supplier_id": invoice.supplier_id,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "subtotal": invoice.subtotal,
        "tax_total": invoice.tax_total,
        "total": invoice.total,
        "amount_paid": invoice.amount_paid,
        "journal_id": invoice.journal_id,
    }


def _require_any(ctx: RequestContext, permissions: tuple[str, ...]) -> None:
    if any(ctx.can(p) for p in permissions):
        return
    roles = sorted({r for p in permissions for r in roles_granting(p)})
    raise PermissionDenied(
        f"This needs one of the permissions {', '.join(permissions)} (role {' or '.join(roles)})",
        details={"permissions": list(permissions), "roles": roles},
    )


def _check_orders(
    session: Session,
    ctx: RequestContext,
    kind: InvoiceKind,
    party_id: int,
    sales_order_id: int | None,
    purchase_order_id: int | None,
) -> None:
    """An invoice may cite its customer's sales order, a bill its supplier's purchase order."""
    if kind == InvoiceKind.AR and purchase_order_id is not None:
        raise BusinessRuleViolation("An AR invoice cannot refer to a purchase order")
    if kind == InvoiceKind.AP and sales_order_id is not None:
        raise BusinessRuleViolation("A bill cannot refer to a sales order")
    if sales_order_id is not None:
        order = repo.get_sales_order(session, ctx, sales_order_id)
        if order.customer_id != party_id:
            raise BusinessRuleViolation(
                f"Sales order {order.number} belongs to another customer",
                details={"sales_order_id": sales_order_id, "customer_id": order.customer_id},
            )
    if purchase_order_id is not None:
        po = repo.get_purchase_order(session, ctx, purchase_order_id)
        if po.supplier_id != party_id:
            raise BusinessRuleViolation(
                f"Purchase order {po.number} belongs to another supplier",
                details={"purchase_order_id": purchase_order_id, "supplier_id": po.supplier_id},
            )


def _party_name(session: Session, ctx: RequestContext, invoice: Invoice) -> str:
    if invoice.customer_id is not None:
        return repo.get_customer(session, ctx, invoice.customer_id).name
    if invoice.supplier_id is not None:
        return repo.get_supplier(session, ctx, invoice.supplier_id).name
    return ""
