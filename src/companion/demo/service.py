"""``build_demo``: replay the deterministic plan through the ERP services.

Nothing here writes a ledger-affecting row itself: invoices, payments, stock moves,
journals and approvals all go through their domain services, so every voucher balances,
every number is sequential and every change is audited. Only the company rows and the
demo's own ground truth (``demo_anomalies``) are inserted directly. The caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.auth.models import User
from companion.auth.passwords import PasswordHasher
from companion.auth.service import create_user, set_membership
from companion.demo import repository as repo
from companion.demo.documents import policy_documents, read_document
from companion.demo.plan import (
    AdjustmentEvent,
    BankTransferEvent,
    BillPurchaseEvent,
    CancelPurchaseEvent,
    CompanyPlan,
    DecisionEvent,
    Event,
    ExpenseEvent,
    PlanLine,
    PurchaseEvent,
    ReceiptEvent,
    ReceivePurchaseEvent,
    SaleEvent,
    ServiceInvoiceEvent,
    SupplierPaymentEvent,
    TransferEvent,
    VoidInvoiceEvent,
)
from companion.demo.planner import plan_demo
from companion.demo.profiles import PASSWORD, USERS
from companion.demo.schemas import CompanySummary, DemoSummary, DemoUser
from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import InvoiceKind
from companion.erp.invoicing.service import create_invoice, post_invoice, void_invoice
from companion.erp.items.schemas import ItemIn
from companion.erp.items.service import create_item, create_warehouse
from companion.erp.ledger.models import AccountRole
from companion.erp.ledger.service import (
    JournalLineIn,
    account_for_role,
    create_bank_account,
    post_journal,
    setup_company_ledger,
)
from companion.erp.parties.schemas import CustomerIn, SupplierIn
from companion.erp.parties.service import create_customer, create_supplier
from companion.erp.payments.models import PaymentKind
from companion.erp.payments.schemas import AllocationIn
from companion.erp.payments.service import record_payment
from companion.erp.purchasing.schemas import ApprovalLevelIn
from companion.erp.purchasing.service import (
    approve_purchase_order,
    bill_purchase_order,
    cancel_purchase_order,
    create_purchase_order,
    receive_purchase_order,
    reject_purchase_order,
    set_approval_levels,
    submit_purchase_order,
)
from companion.erp.sales.service import (
    cancel_sales_order,
    confirm_sales_order,
    create_sales_order,
    deliver_sales_order,
    invoice_sales_order,
)
from companion.erp.stock.service import adjust_stock, receive_stock, transfer_stock
from companion.errors import Conflict
from companion.kit.money import ZERO, money
from companion.knowledge.schemas import EntryMeta
from companion.knowledge.service import ingest_trusted, sync_global_corpus
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from companion.tenancy.permissions import permissions_for

ProgressFn = Callable[[str, float], None]
DEMO_ACTOR = "demo"


class PlanMismatch(RuntimeError):
    """A service computed a different amount than the plan: the plan is out of date."""


def build_demo(
    session: Session,
    hasher: PasswordHasher,
    *,
    today: dt.date,
    months: int = 13,
    scale: float = 1.0,
    progress: ProgressFn | None = None,
) -> DemoSummary:
    """Build the two demo companies with ``months`` of history ending on ``today``.

    ``scale`` shrinks or grows the volume (customers, items, orders); ``progress`` is
    called with a message and the fraction done; ``hasher`` hashes the demo users'
    password. Flushes only: the caller commits.
    """
    (progress or _quiet)("Planning", 0.0)
    plans = plan_demo(today, months=months, scale=scale)
    return build_planned(session, hasher, plans, progress=progress)


def build_planned(
    session: Session,
    hasher: PasswordHasher,
    plans: Sequence[CompanyPlan],
    *,
    progress: ProgressFn | None = None,
) -> DemoSummary:
    """Build the demo from ``plans`` (made by ``plan_demo``). Flushes only: the caller commits."""
    if repo.companies_exist(session):
        raise Conflict("The database already holds companies; reset it to rebuild the demo")
    report = progress or _quiet
    report("Creating users", 0.01)
    users = {
        spec.username: create_user(
            session,
            hasher,
            username=spec.username,
            password=PASSWORD,
            full_name=spec.full_name,
            email=spec.email,
            is_system_admin=spec.is_system_admin,
            actor=DEMO_ACTOR,
        )
        for spec in USERS
    }
    total = sum(len(p.events) for p in plans) or 1
    done = 0
    summaries = []
    for plan in plans:
        builder = _CompanyBuilder(session, plan, users)

        def step(message: str, count: int, _base: int = done) -> None:
            report(message, 0.02 + 0.97 * (_base + count) / total)

        summaries.append(builder.build(step))
        done += len(plan.events)
    report("Knowledge base", 0.995)
    _load_documents(session)
    report("Done", 1.0)
    return DemoSummary(
        today=plans[0].today,
        start=plans[0].start,
        password=PASSWORD,
        users=tuple(
            DemoUser(s.username, s.full_name, s.memberships, s.is_system_admin) for s in USERS
        ),
        companies=tuple(summaries),
        documents=tuple(policy_documents()),
        counts=repo.record_counts(session),
    )


def _load_documents(session: Session) -> None:
    """Each company's policy documents and the product's help, as knowledge documents.

    Only the database rows: the retrieval index is derived from them (``companion demo``
    rebuilds it).
    """
    for document in policy_documents():
        company = repo.company_by_slug(session, document.company)
        assert company is not None, document.company
        ingest_trusted(
            session,
            company.id,
            read_document(document).encode(),
            actor=DEMO_ACTOR,
            filename=document.resource,
            meta=EntryMeta(
                title=document.title, type="POLICY", tags=[document.kind], topic=document.kind
            ),
        )
    sync_global_corpus(session)


def _quiet(message: str, fraction: float) -> None:
    """The default progress callback: say nothing."""


class _CompanyBuilder:
    """Builds one company: setup, master data, opening balances, then the events."""

    def __init__(self, session: Session, plan: CompanyPlan, users: dict[str, User]) -> None:
        self.session = session
        self.plan = plan
        self.profile = plan.profile
        self.users = users
        self.contexts: dict[str, RequestContext] = {}
        self.customers: dict[int, int] = {}
        self.suppliers: dict[int, int] = {}
        self.items: dict[str, int] = {}
        self.warehouses: dict[str, int] = {}
        self.banks: list[tuple[int, int]] = []  # (bank account id, its GL account id)
        self.sales: dict[str, int] = {}
        self.invoices: dict[str, int] = {}
        self.orders: dict[str, int] = {}
        self.order_lines: dict[str, dict[str, int]] = {}
        self.bills: dict[str, int] = {}
        self.approvers: dict[int, str] = {}
        self.handlers: dict[type[Event], Callable[[Any], None]] = {
            SaleEvent: self.sale,
            ServiceInvoiceEvent: self.service_invoice,
            VoidInvoiceEvent: self.void,
            ReceiptEvent: self.receipt,
            PurchaseEvent: self.purchase,
            DecisionEvent: self.decision,
            CancelPurchaseEvent: self.cancel_purchase,
            ReceivePurchaseEvent: self.receive,
            BillPurchaseEvent: self.bill,
            SupplierPaymentEvent: self.supplier_payment,
            AdjustmentEvent: self.adjust,
            TransferEvent: self.transfer,
            BankTransferEvent: self.bank_transfer,
            ExpenseEvent: self.expense,
        }

    def build(self, step: Callable[[str, int], None]) -> CompanySummary:
        name = self.profile.name
        step(f"{name}: chart of accounts, users, master data", 0)
        company = self.setup()
        self.master_data()
        self.opening_balances()
        repo.add_anomalies(self.session, company.id, self.plan.anomalies)
        events = self.plan.sorted_events()
        for n, event in enumerate(events, start=1):
            self.handlers[type(event)](event)
            if n % 100 == 0 or n == len(events):
                step(f"{name}: {event.day:%b %Y}", n)
        return CompanySummary(
            slug=company.slug,
            name=company.name,
            currency=company.base_currency,
            customers=len(self.customers),
            suppliers=len(self.suppliers),
            items=len(self.items),
            sales_orders=len(self.sales),
            ar_invoices=len(self.invoices),
            purchase_orders=len(self.orders),
            anomalies=len(self.plan.anomalies),
        )

    # -- setup -----------------------------------------------------------------------

    def setup(self) -> Company:
        profile, session = self.profile, self.session
        company = repo.add_company(session, profile)
        audit.record(
            session,
            None,
            "company.create",
            "company",
            company.id,
            new={"slug": company.slug, "name": company.name, "currency": profile.currency},
            actor=DEMO_ACTOR,
        )
        for spec in USERS:
            for slug, roles in spec.memberships:
                if slug != profile.slug:
                    continue
                user = self.users[spec.username]
                set_membership(session, user.id, company.id, list(roles), actor=DEMO_ACTOR)
                self.contexts[spec.username] = RequestContext(
                    user_id=user.id,
                    username=user.username,
                    company_id=company.id,
                    company_slug=company.slug,
                    currency=company.base_currency,
                    roles=roles,
                    permissions=permissions_for(roles),
                    locale=company.locale,
                    fiscal_year_start_month=company.fiscal_year_start_month,
                )
        setup_company_ledger(session, company.id)
        for level in profile.levels:
            self.approvers[level.level] = level.username or next(
                s.username
                for s in USERS
                if any(slug == profile.slug and level.role in r for slug, r in s.memberships)
            )
        set_approval_levels(
            session,
            company.id,
            [
                ApprovalLevelIn(
                    level=lv.level,
                    name=lv.name,
                    min_amount=lv.min_amount,
                    role=lv.role,
                    user_id=self.users[lv.username].id if lv.username else None,
                )
                for lv in profile.levels
            ],
        )
        return company

    def ctx(self, role: str) -> RequestContext:
        """The context of the user who does ``role``'s work in this company."""
        username = {
            "sales": self.profile.sales_user,
            "finance": self.profile.finance_user,
            "buyer": self.profile.buyer_user,
            "store": self.profile.store_user,
        }[role]
        return self.contexts[username]

    def master_data(self) -> None:
        session = self.session
        for wh in self.profile.warehouses:
            warehouse = create_warehouse(session, self.ctx("store"), code=wh.code, name=wh.name)
            self.warehouses[wh.code] = warehouse.id
        for bank in self.profile.banks:
            account = create_bank_account(
                session,
                self.ctx("finance"),
                name=bank.name,
                bank_name=bank.bank_name,
                account_number=bank.account_number,
                currency=self.profile.currency,
                opening_balance=bank.opening_balance,
                opening_date=self.plan.opening_date,
            )
            self.banks.append((account.id, account.gl_account_id))
        for c in self.plan.customers:
            customer = create_customer(
                session,
                self.ctx("sales"),
                CustomerIn(
                    name=c.name,
                    email=c.email,
                    phone=c.phone,
                    payment_terms_days=c.terms,
                    credit_limit=c.credit_limit,
                ),
            )
            self.customers[c.index] = customer.id
        for s in self.plan.suppliers:
            supplier = create_supplier(
                session,
                self.ctx("buyer"),
                SupplierIn(name=s.name, email=s.email, phone=s.phone, payment_terms_days=s.terms),
            )
            self.suppliers[s.index] = supplier.id
        for i in self.plan.items:
            spec = i.spec
            item = create_item(
                session,
                self.ctx("store"),
                ItemIn(
                    sku=spec.sku,
                    name=spec.name,
                    uom=spec.uom,
                    unit_price=spec.price,
                    unit_cost=spec.cost,
                    is_tracked=spec.is_tracked,
                    reorder_level=i.reorder_level,
                    reorder_qty=i.reorder_qty,
                    tax_rate=spec.tax_rate,
                ),
            )
            self.items[spec.sku] = item.id

    def opening_balances(self) -> None:
        """Opening stock, received at cost and booked against equity in one voucher."""
        value = ZERO
        for sku, code, qty in self.plan.opening_stock:
            move = receive_stock(
                self.session,
                self.ctx("store"),
                item_id=self.items[sku],
                warehouse_id=self.warehouses[code],
                quantity=qty,
                on=self.plan.opening_date,
                reference="OPENING",
            )
            value += money(move.quantity * move.unit_cost)
        if value == ZERO:
            return
        company_id = self.ctx("finance").company_id
        inventory = account_for_role(self.session, company_id, AccountRole.INVENTORY)
        equity = account_for_role(self.session, company_id, AccountRole.EQUITY)
        post_journal(
            self.session,
            self.ctx("finance"),
            voucher_date=self.plan.opening_date,
            memo="Opening stock at cost",
            lines=[
                JournalLineIn(account_id=inventory.id, debit=value),
                JournalLineIn(account_id=equity.id, credit=value),
            ],
            source_type="opening_stock",
        )

    # -- events ----------------------------------------------------------------------

    def doc_lines(self, lines: tuple[PlanLine, ...]) -> list[DocLineIn]:
        return [
            DocLineIn(
                item_id=self.items[line.sku],
                quantity=line.quantity,
                discount_pct=line.discount_pct,
            )
            for line in lines
        ]

    def sale(self, e: SaleEvent) -> None:
        session, ctx = self.session, self.ctx("sales")
        order = create_sales_order(
            session,
            ctx,
            customer_id=self.customers[e.customer],
            order_date=e.day,
            lines=self.doc_lines(e.lines),
            warehouse_id=self.warehouses[e.warehouse],
        )
        _check(order.total, e.total, order.number)
        self.sales[e.key] = order.id
        if e.outcome == "cancelled":
            cancel_sales_order(session, ctx, order.id, reason=e.reason or "Cancelled")
            return
        if e.outcome == "draft":
            return
        confirm_sales_order(session, ctx, order.id)
        if e.outcome == "confirmed":
            return
        deliver_sales_order(session, ctx, order.id, on=e.day)
        if e.outcome == "delivered":
            return
        invoice = invoice_sales_order(session, self.ctx("finance"), order.id, on=e.day)
        self.invoices[e.key] = invoice.id

    def service_invoice(self, e: ServiceInvoiceEvent) -> None:
        ctx = self.ctx("finance")
        draft = create_invoice(
            self.session,
            ctx,
            kind=InvoiceKind.AR,
            party_id=self.customers[e.customer],
            issue_date=e.day,
            lines=self.doc_lines(e.lines),
        )
        invoice = post_invoice(self.session, ctx, draft.id, on=e.day)
        _check(invoice.total, e.total, invoice.number)
        self.invoices[e.key] = invoice.id

    def void(self, e: VoidInvoiceEvent) -> None:
        void_invoice(
            self.session, self.ctx("finance"), self.invoices[e.key], on=e.day, reason=e.reason
        )

    def receipt(self, e: ReceiptEvent) -> None:
        amount = sum((a for _, a in e.allocations), ZERO)
        record_payment(
            self.session,
            self.ctx("finance"),
            kind=PaymentKind.RECEIPT,
            party_id=self.customers[e.customer],
            bank_account_id=self.banks[e.bank][0],
            amount=amount,
            payment_date=e.day,
            allocations=[
                AllocationIn(invoice_id=self.invoices[key], amount=a) for key, a in e.allocations
            ],
            reference=f"{'EFT' if e.customer % 3 else 'CHQ'}-{e.day:%y%m%d}-{e.customer + 1:03d}",
        )

    def purchase(self, e: PurchaseEvent) -> None:
        session, ctx = self.session, self.ctx("buyer")
        order = create_purchase_order(
            session,
            ctx,
            supplier_id=self.suppliers[e.supplier],
            order_date=e.day,
            lines=self.doc_lines(e.lines),
            warehouse_id=self.warehouses[e.warehouse],
            expected_date=e.expected,
        )
        _check(order.total, e.total, order.number)
        self.orders[e.key] = order.id
        by_item = {item_id: sku for sku, item_id in self.items.items()}
        self.order_lines[e.key] = {by_item[line.item_id]: line.id for line in order.lines}
        if e.submit:
            submit_purchase_order(session, ctx, order.id)

    def decision(self, e: DecisionEvent) -> None:
        ctx = self.contexts[self.approvers[e.level]]
        if e.approve:
            approve_purchase_order(self.session, ctx, self.orders[e.key], comment=e.comment)
        else:
            reject_purchase_order(self.session, ctx, self.orders[e.key], comment=e.comment)

    def cancel_purchase(self, e: CancelPurchaseEvent) -> None:
        cancel_purchase_order(self.session, self.ctx("buyer"), self.orders[e.key], reason=e.reason)

    def receive(self, e: ReceivePurchaseEvent) -> None:
        quantities: dict[int, Decimal] | None = None
        if e.lines is not None:
            lines = self.order_lines[e.key]
            quantities = {lines[line.sku]: line.quantity for line in e.lines}
        receive_purchase_order(
            self.session, self.ctx("store"), self.orders[e.key], on=e.day, quantities=quantities
        )

    def bill(self, e: BillPurchaseEvent) -> None:
        bill = bill_purchase_order(self.session, self.ctx("finance"), self.orders[e.key], on=e.day)
        _check(bill.total, e.total, bill.number)
        self.bills[e.key] = bill.id

    def supplier_payment(self, e: SupplierPaymentEvent) -> None:
        record_payment(
            self.session,
            self.ctx("finance"),
            kind=PaymentKind.PAYMENT,
            party_id=self.suppliers[e.supplier],
            bank_account_id=self.banks[e.bank][0],
            amount=sum((a for _, a in e.allocations), ZERO),
            payment_date=e.day,
            allocations=[
                AllocationIn(invoice_id=self.bills[key], amount=a) for key, a in e.allocations
            ],
            reference=f"TT-{e.day:%y%m%d}-{e.supplier + 1:03d}",
        )

    def adjust(self, e: AdjustmentEvent) -> None:
        adjust_stock(
            self.session,
            self.ctx("store"),
            item_id=self.items[e.sku],
            warehouse_id=self.warehouses[e.warehouse],
            quantity_delta=e.delta,
            reason=e.reason,
            on=e.day,
        )

    def transfer(self, e: TransferEvent) -> None:
        transfer_stock(
            self.session,
            self.ctx("store"),
            item_id=self.items[e.sku],
            from_warehouse_id=self.warehouses[e.source],
            to_warehouse_id=self.warehouses[e.target],
            quantity=e.quantity,
            on=e.day,
        )

    def bank_transfer(self, e: BankTransferEvent) -> None:
        post_journal(
            self.session,
            self.ctx("finance"),
            voucher_date=e.day,
            memo=e.memo,
            lines=[
                JournalLineIn(account_id=self.banks[e.target][1], debit=e.amount),
                JournalLineIn(account_id=self.banks[e.source][1], credit=e.amount),
            ],
            source_type="bank_transfer",
        )

    def expense(self, e: ExpenseEvent) -> None:
        company_id = self.ctx("finance").company_id
        account = repo.expense_account(self.session, company_id, e.account_hint)
        post_journal(
            self.session,
            self.ctx("finance"),
            voucher_date=e.day,
            memo=e.memo,
            lines=[
                JournalLineIn(account_id=account.id, debit=e.amount, description=e.memo),
                JournalLineIn(account_id=self.banks[e.bank][1], credit=e.amount),
            ],
            source_type="expense",
        )


def _check(actual: Decimal, planned: Decimal, number: str) -> None:
    if actual != planned:
        raise PlanMismatch(f"{number}: the service computed {actual}, the plan {planned}")
