"""Two companies with a small but complete trading history, built through the ERP services.

Company A (BDT, Indian-style grouping) and company B (USD) have the same shape of data
(bank accounts, a transfer, journals, customers and suppliers, tracked and untracked items
in two warehouses, invoices in every status and aging bucket, receipts and payments with
money on account and a voided one, sales orders, purchase orders in every status across
three approval levels) but different names, prices and amounts, so a figure or a name of
one showing up in the other's answer is visible.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import Invoice, InvoiceKind
from companion.erp.invoicing.service import create_invoice, post_invoice, void_invoice
from companion.erp.items.models import Item, Warehouse
from companion.erp.items.schemas import ItemIn
from companion.erp.items.service import create_item, create_warehouse
from companion.erp.ledger.models import AccountRole, BankAccount
from companion.erp.ledger.repository import list_accounts
from companion.erp.ledger.schemas import JournalLineIn
from companion.erp.ledger.service import (
    account_for_role,
    create_bank_account,
    post_journal,
    setup_company_ledger,
)
from companion.erp.parties.models import Customer, Supplier
from companion.erp.parties.schemas import CustomerIn, CustomerUpdate, SupplierIn
from companion.erp.parties.service import create_customer, create_supplier, update_customer
from companion.erp.payments.models import Payment, PaymentKind
from companion.erp.payments.schemas import AllocationIn
from companion.erp.payments.service import record_payment, void_payment
from companion.erp.purchasing.models import PurchaseOrder
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
from companion.erp.sales.models import SalesOrder
from companion.erp.sales.service import (
    cancel_sales_order,
    confirm_sales_order,
    create_sales_order,
    deliver_sales_order,
    invoice_sales_order,
)
from companion.erp.stock.service import issue_stock, receive_stock
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from factories import make_company, make_context

D = Decimal
TODAY = dt.date(2026, 6, 15)
ROLES = ("admin", "finance", "sales", "procurement", "inventory", "viewer", "executive")


def day(month: int, dom: int, year: int = 2026) -> dt.date:
    return dt.date(year, month, dom)


@dataclass(frozen=True)
class Names:
    """Every name and amount that differs between the two companies."""

    slug: str
    currency: str
    locale: str
    scale: Decimal  # multiplies every price, so the figures differ too
    banks: tuple[str, str]
    customers: tuple[str, str, str, str]  # the last one is made inactive
    suppliers: tuple[str, str, str]
    items: tuple[str, str, str, str, str]  # four tracked goods, then a service
    warehouses: tuple[str, str]


A_NAMES = Names(
    slug="qa-acme",
    currency="BDT",
    locale="en_IN",
    scale=D("100"),
    banks=("City Bank Current", "BRAC Savings"),
    customers=("Rahman Traders", "Dhaka Textiles", "Chittagong Foods", "Sylhet Tea Estates"),
    suppliers=("Bengal Paper Mills", "Padma Logistics", "Meghna Cement"),
    items=("Jute Bag", "Cotton Yarn", "Tea Chest", "Steel Rod", "Consulting Hour"),
    warehouses=("Dhaka Central", "Chattogram Port"),
)
B_NAMES = Names(
    slug="qa-globex",
    currency="USD",
    locale="en",
    scale=D("1.5"),
    banks=("First National Checking", "Harbor Savings"),
    customers=("Springfield Power", "Shelbyville Steel", "Ogdenville Oils", "Capital City Cafe"),
    suppliers=("Anvil Works Inc", "North Haverbrook Rail", "Brockway Chemicals"),
    items=("Widget", "Gadget", "Sprocket", "Flange", "Support Plan"),
    warehouses=("Springfield Depot", "Shelbyville Yard"),
)


@dataclass
class World:
    """One company's data and a context for each role."""

    names: Names
    company: Company
    ctx: dict[str, RequestContext]
    banks: list[BankAccount] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    suppliers: list[Supplier] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    warehouses: list[Warehouse] = field(default_factory=list)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    orders: dict[str, PurchaseOrder] = field(default_factory=dict)
    sales_orders: dict[str, SalesOrder] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.company.id

    def all_names(self) -> set[str]:
        """Every master-data name of the company (to look for leaks in the other's answers)."""
        n = self.names
        return {*n.banks, *n.customers, *n.suppliers, *n.items, *n.warehouses}


def _contexts(session: Session, company: Company, names: Names) -> dict[str, RequestContext]:
    out: dict[str, RequestContext] = {}
    for role in ROLES:
        ctx = make_context(session, company, [role], username=f"{names.slug}-{role}")
        out[role] = dataclasses.replace(ctx, locale=names.locale)
    ceo2 = make_context(session, company, ["executive"], username=f"{names.slug}-board")
    out["board"] = dataclasses.replace(ceo2, locale=names.locale)
    return out


def build_world(session: Session, names: Names) -> World:
    """The whole history of one company, through the services."""
    company = make_company(session, names.slug, names.currency)
    company.locale = names.locale
    setup_company_ledger(session, company.id)
    w = World(names=names, company=company, ctx=_contexts(session, company, names))
    admin = w.ctx["admin"]
    s = names.scale

    def amt(value: str) -> Decimal:
        return (D(value) * s).quantize(D("0.01"))

    # Bank accounts: the second is opened later than the first.
    w.banks = [
        create_bank_account(
            session,
            admin,
            name=names.banks[0],
            bank_name=names.banks[0].split()[0],
            account_number="001",
            currency=names.currency,
            opening_balance=amt("8000"),
            opening_date=day(12, 31, 2025),
        ),
        create_bank_account(
            session,
            admin,
            name=names.banks[1],
            bank_name=names.banks[1].split()[0],
            account_number="002",
            currency=names.currency,
            opening_balance=amt("2500"),
            opening_date=day(3, 1),
        ),
    ]
    w.customers = [
        create_customer(
            session, admin, CustomerIn(name=n, payment_terms_days=30, credit_limit=D("0"))
        )
        for n in names.customers
    ]
    w.suppliers = [
        create_supplier(session, admin, SupplierIn(name=n, payment_terms_days=30))
        for n in names.suppliers
    ]
    w.warehouses = [
        create_warehouse(session, admin, code=f"WH{i}", name=n)
        for i, n in enumerate(names.warehouses, start=1)
    ]
    specs = [  # price, cost, tax, reorder level, reorder qty, tracked
        ("1.20", "0.80", "5", "100", "500", True),
        ("4.50", "3.01", "0", "50", "200", True),
        ("9.00", "6.10", "0", "20", "40", True),
        ("0.75", "0.53", "0", "0", "0", True),
        ("15.00", "0", "0", "0", "0", False),
    ]
    w.items = [
        create_item(
            session,
            admin,
            ItemIn(
                sku=f"SKU-{i}",
                name=n,
                unit_price=amt(price),
                unit_cost=amt(cost),
                tax_rate=D(tax),
                reorder_level=D(level),
                reorder_qty=D(qty),
                is_tracked=tracked,
            ),
        )
        for i, (n, (price, cost, tax, level, qty, tracked)) in enumerate(
            zip(names.items, specs, strict=True), start=1
        )
    ]
    _stock(session, w)
    _receivables(session, w)
    _payables(session, w)
    _journals(session, w)
    _purchase_orders(session, w)
    session.flush()
    return w


def _stock(session: Session, w: World) -> None:
    admin = w.ctx["admin"]
    jute, yarn, chest, rod, _ = w.items
    main, port = w.warehouses
    for item, warehouse, qty in [
        (jute, main, "300"),
        (jute, port, "40"),  # below its reorder level of 100
        (yarn, main, "30"),  # below 50
        (yarn, port, "80"),
        (chest, main, "25"),
        (chest, port, "5"),
        (rod, main, "1000"),
    ]:
        receive_stock(
            session,
            admin,
            item_id=item.id,
            warehouse_id=warehouse.id,
            quantity=D(qty),
            on=day(1, 5),
        )
    # Chest runs out at the port: a zero level, below reorder and out of stock.
    issue_stock(
        session, admin, item_id=chest.id, warehouse_id=port.id, quantity=D("5"), on=day(2, 1)
    )


def _ar(
    session: Session,
    w: World,
    customer: Customer,
    issued: dt.date,
    due: dt.date,
    lines: list[tuple[Item, str, str | None]],
    *,
    post: bool = True,
) -> Invoice:
    invoice = create_invoice(
        session,
        w.ctx["admin"],
        kind=InvoiceKind.AR,
        party_id=customer.id,
        issue_date=issued,
        due_date=due,
        lines=[
            DocLineIn(item_id=i.id, quantity=D(q), unit_price=D(p) if p else None)
            for i, q, p in lines
        ],
    )
    return post_invoice(session, w.ctx["admin"], invoice.id) if post else invoice


def _receivables(session: Session, w: World) -> None:
    admin = w.ctx["admin"]
    rahman, dhaka, ctg, sylhet = w.customers
    jute, yarn, chest, _, consult = w.items
    inv = w.invoices
    inv["current"] = _ar(session, w, rahman, day(6, 10), day(7, 10), [(consult, "10", None)])
    inv["d1_30"] = _ar(session, w, rahman, day(5, 1), day(5, 31), [(consult, "4", None)])
    inv["d31_60"] = _ar(session, w, dhaka, day(3, 20), day(4, 19), [(consult, "7", None)])
    inv["d90p"] = _ar(session, w, dhaka, day(2, 10), day(3, 12), [(consult, "3", None)])
    inv["d61_90"] = _ar(session, w, ctg, day(3, 1), day(3, 31), [(consult, "6", None)])
    inv["due_today"] = _ar(session, w, ctg, day(6, 1), day(6, 15), [(consult, "2", None)])
    inv["old_paid"] = _ar(
        session, w, rahman, day(9, 15, 2025), day(10, 15, 2025), [(consult, "5", None)]
    )
    inv["ancient"] = _ar(
        session, w, rahman, day(5, 10, 2025), day(6, 9, 2025), [(consult, "9", None)]
    )
    inv["sylhet"] = _ar(session, w, sylhet, day(1, 15), day(2, 14), [(consult, "1", None)])
    inv["draft"] = _ar(session, w, ctg, day(6, 12), day(7, 12), [(consult, "50", None)], post=False)
    inv["void"] = _ar(session, w, dhaka, day(6, 5), day(7, 5), [(consult, "20", None)])
    void_invoice(session, admin, inv["void"].id, on=day(6, 6), reason="Raised in error")
    # Goods through a sales order: confirm, deliver, invoice (a taxed line and a discount).
    so = create_sales_order(
        session,
        admin,
        customer_id=rahman.id,
        order_date=day(6, 3),
        warehouse_id=w.warehouses[0].id,
        lines=[
            DocLineIn(item_id=jute.id, quantity=D("50")),
            DocLineIn(item_id=yarn.id, quantity=D("10"), discount_pct=D("10")),
        ],
    )
    confirm_sales_order(session, admin, so.id)
    deliver_sales_order(session, admin, so.id, on=day(6, 4))
    inv["from_so"] = invoice_sales_order(session, admin, so.id, on=day(6, 4))
    w.sales_orders["invoiced"] = so
    w.sales_orders["draft"] = create_sales_order(
        session,
        admin,
        customer_id=dhaka.id,
        order_date=day(6, 14),
        warehouse_id=w.warehouses[0].id,
        lines=[DocLineIn(item_id=chest.id, quantity=D("2"))],
    )
    cancelled = create_sales_order(
        session,
        admin,
        customer_id=ctg.id,
        order_date=day(6, 1),
        warehouse_id=w.warehouses[0].id,
        lines=[DocLineIn(item_id=jute.id, quantity=D("5"))],
    )
    w.sales_orders["cancelled"] = cancel_sales_order(
        session, admin, cancelled.id, reason="Customer changed their mind"
    )
    bank = w.banks[0].id
    receipt = PaymentKind.RECEIPT

    def pay(
        customer: Customer, amount: Decimal, on: dt.date, allocs: list[tuple[Invoice, Decimal]]
    ) -> Payment:
        return record_payment(
            session,
            admin,
            kind=receipt,
            party_id=customer.id,
            bank_account_id=bank,
            amount=amount,
            payment_date=on,
            allocations=[AllocationIn(invoice_id=i.id, amount=a) for i, a in allocs],
        )

    half = (inv["d1_30"].total / 2).quantize(D("0.01"))
    pay(rahman, half, day(6, 1), [(inv["d1_30"], half)])
    for key in ("old_paid", "ancient"):
        pay(rahman, inv[key].total, inv[key].due_date, [(inv[key], inv[key].total)])
    pay(sylhet, inv["sylhet"].total, day(2, 10), [(inv["sylhet"], inv["sylhet"].total)])
    # Chittagong pays a part of its oldest invoice plus some money on account.
    part = (inv["d61_90"].total / 3).quantize(D("0.01"))
    pay(ctg, part + D("100.00"), day(6, 8), [(inv["d61_90"], part)])
    # A receipt recorded then voided leaves no trace on the figures.
    wrong = pay(dhaka, inv["d31_60"].total, day(6, 9), [(inv["d31_60"], inv["d31_60"].total)])
    void_payment(session, admin, wrong.id, on=day(6, 9), reason="Bounced cheque")
    update_customer(session, admin, sylhet.id, CustomerUpdate(is_active=False))


def _payables(session: Session, w: World) -> None:
    admin = w.ctx["admin"]
    bengal, padma, meghna = w.suppliers
    consult = w.items[4]
    inv = w.invoices

    def bill(supplier: Supplier, issued: dt.date, due: dt.date, qty: str, price: str) -> Invoice:
        doc = create_invoice(
            session,
            admin,
            kind=InvoiceKind.AP,
            party_id=supplier.id,
            issue_date=issued,
            due_date=due,
            lines=[DocLineIn(item_id=consult.id, quantity=D(qty), unit_price=D(price))],
        )
        return post_invoice(session, admin, doc.id)

    price = str(w.items[4].unit_price)
    inv["bill_current"] = bill(bengal, day(5, 20), day(6, 30), "3", price)
    inv["bill_due_soon"] = bill(bengal, day(6, 1), day(6, 20), "2", price)
    inv["bill_31_60"] = bill(padma, day(4, 1), day(5, 1), "4", price)
    inv["bill_90p"] = bill(meghna, day(1, 10), day(2, 9), "6", price)
    part = (inv["bill_31_60"].total / 4).quantize(D("0.01"))
    record_payment(
        session,
        admin,
        kind=PaymentKind.PAYMENT,
        party_id=padma.id,
        bank_account_id=w.banks[0].id,
        amount=part + D("50.00"),  # 50.00 stays on account
        payment_date=day(6, 2),
        allocations=[AllocationIn(invoice_id=inv["bill_31_60"].id, amount=part)],
    )


def _journals(session: Session, w: World) -> None:
    admin = w.ctx["admin"]
    company = w.company.id
    city, brac = (b.gl_account_id for b in w.banks)
    by_code = {a.code: a for a in list_accounts(session, admin)}
    rent, other, salaries = by_code["6200"], by_code["4100"], by_code["6300"]
    scale = w.names.scale

    def jv(on: dt.date, debit: int, credit: int, amount: str, memo: str) -> None:
        value = (D(amount) * scale).quantize(D("0.01"))
        post_journal(
            session,
            admin,
            voucher_date=on,
            memo=memo,
            lines=[
                JournalLineIn(account_id=debit, debit=value),
                JournalLineIn(account_id=credit, credit=value),
            ],
        )

    jv(day(6, 1), rent.id, city, "450", "June rent")
    jv(day(5, 1), rent.id, city, "450", "May rent")
    jv(day(5, 31), salaries.id, brac, "1200", "May salaries")
    jv(day(5, 15), brac, other.id, "12", "Interest")
    jv(day(6, 2), brac, city, "1000", "Transfer to savings")
    jv(day(12, 20, 2025), city, other.id, "30", "Refund received")
    # receivable role exists on every chart; a sanity check that the chart is the standard one
    assert account_for_role(session, company, AccountRole.RECEIVABLE).code == "1100"


def _purchase_orders(session: Session, w: World) -> None:
    ctx = w.ctx
    admin, buyer, ceo = ctx["admin"], ctx["procurement"], ctx["executive"]
    scale = w.names.scale
    set_approval_levels(
        session,
        w.id,
        [
            ApprovalLevelIn(level=1, name="Buyer", min_amount=D("0"), role="procurement"),
            ApprovalLevelIn(
                level=2, name="Director", min_amount=D("500") * scale, role="executive"
            ),
            ApprovalLevelIn(
                level=3,
                name="Board",
                min_amount=D("2000") * scale,
                role="executive",
                user_id=ctx["board"].user_id,
            ),
        ],
    )
    supplier_ids = [s.id for s in w.suppliers]
    jute, yarn, chest, rod, _ = w.items
    main, port = w.warehouses

    def po(n: int, item: Item, qty: str, on: dt.date, warehouse: Warehouse = main) -> PurchaseOrder:
        return create_purchase_order(
            session,
            admin,
            supplier_id=supplier_ids[n % 3],
            order_date=on,
            warehouse_id=warehouse.id,
            lines=[DocLineIn(item_id=item.id, quantity=D(qty))],
        )

    o = w.orders
    o["draft"] = po(0, rod, "10", day(6, 12))
    o["pending_l1"] = po(1, jute, "100", day(6, 10), port)
    submit_purchase_order(session, admin, o["pending_l1"].id)
    o["pending_l2"] = po(2, chest, "100", day(6, 5))  # 610 x scale: reaches level 2
    submit_purchase_order(session, admin, o["pending_l2"].id)
    approve_purchase_order(session, buyer, o["pending_l2"].id)
    o["pending_l3"] = po(0, chest, "400", day(6, 1))  # 2440 x scale: reaches level 3
    submit_purchase_order(session, admin, o["pending_l3"].id)
    approve_purchase_order(session, buyer, o["pending_l3"].id)
    approve_purchase_order(session, ceo, o["pending_l3"].id)
    o["approved"] = po(1, rod, "20", day(5, 20))
    submit_purchase_order(session, admin, o["approved"].id)
    approve_purchase_order(session, buyer, o["approved"].id)
    o["rejected"] = po(2, yarn, "15", day(5, 18))
    submit_purchase_order(session, admin, o["rejected"].id)
    reject_purchase_order(session, buyer, o["rejected"].id, comment="Too dear")
    o["partial"] = po(0, yarn, "40", day(5, 10), port)
    submit_purchase_order(session, admin, o["partial"].id)
    approve_purchase_order(session, buyer, o["partial"].id)
    line = o["partial"].lines[0]
    receive_purchase_order(
        session, admin, o["partial"].id, on=day(5, 25), quantities={line.id: D("15")}
    )
    o["closed"] = po(1, jute, "60", day(4, 2))
    submit_purchase_order(session, admin, o["closed"].id)
    approve_purchase_order(session, buyer, o["closed"].id)
    receive_purchase_order(session, admin, o["closed"].id, on=day(4, 10))
    w.invoices["bill_from_po"] = bill_purchase_order(session, admin, o["closed"].id, on=day(4, 12))
    o["cancelled"] = po(2, rod, "5", day(3, 3))
    cancel_purchase_order(session, admin, o["cancelled"].id, reason="Duplicate")
