import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.audit.models import AuditEntry
from companion.audit.service import verify
from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import InvoiceKind, InvoiceStatus
from companion.erp.ledger import repository as ledger_repo
from companion.erp.ledger.models import JournalVoucher
from companion.erp.parties.schemas import CustomerIn, CustomerUpdate
from companion.erp.parties.service import create_customer, update_customer
from companion.erp.sales import repository as repo
from companion.erp.sales.models import SalesOrder, SalesOrderStatus
from companion.erp.sales.service import (
    cancel_sales_order,
    confirm_sales_order,
    create_sales_order,
    deliver_sales_order,
    invoice_sales_order,
)
from companion.erp.stock import repository as stock_repo
from companion.erp.stock.models import StockMove
from companion.erp.stock.service import adjust_stock
from companion.errors import (
    BusinessRuleViolation,
    InvalidState,
    NotFound,
    PermissionDenied,
)
from operations_factories import DAY, Shop, make_shop

D = Decimal
LATER = DAY + dt.timedelta(days=3)


@pytest.fixture
def shop(session: Session) -> Shop:
    return make_shop(session, "acme", stock="20")


def _order(
    session: Session,
    shop: Shop,
    *,
    goods: str = "3",
    customer_id: int | None = None,
    warehouse_id: int | None = None,
    on: dt.date = DAY,
) -> SalesOrder:
    """``goods`` widgets at 100.00 + 10% tax, and one installation at 50.00."""
    return create_sales_order(
        session,
        shop.sales,
        customer_id=customer_id or shop.customer.id,
        order_date=on,
        warehouse_id=warehouse_id or shop.main.id,
        lines=[
            DocLineIn(item_id=shop.goods.id, quantity=D(goods)),
            DocLineIn(item_id=shop.service.id, quantity=D("1")),
        ],
        notes="  rush  ",
    )


def test_a_new_order_is_a_priced_draft(session: Session, shop: Shop) -> None:
    order = _order(session, shop)
    assert (order.number, order.status, order.currency) == ("SO-2026-0001", "draft", "USD")
    assert (order.subtotal, order.tax_total, order.total) == (D("350.00"), D("30.00"), D("380.00"))
    assert [(ln.line_no, ln.unit_price, ln.net_amount) for ln in order.lines] == [
        (1, D("100.00"), D("300.00")),
        (2, D("50.00"), D("50.00")),
    ]
    assert order.notes == "rush"
    assert order.created_by_id == shop.sales.user_id


def test_with_several_warehouses_a_stocked_order_must_name_one(
    session: Session, shop: Shop
) -> None:
    with pytest.raises(BusinessRuleViolation, match="Choose a warehouse"):
        create_sales_order(
            session,
            shop.sales,
            customer_id=shop.customer.id,
            order_date=DAY,
            lines=[DocLineIn(item_id=shop.goods.id, quantity=D("1"))],
        )
    services_only = create_sales_order(
        session,
        shop.sales,
        customer_id=shop.customer.id,
        order_date=DAY,
        lines=[DocLineIn(item_id=shop.service.id, quantity=D("2"))],
    )
    assert services_only.warehouse_id is None


def test_another_companys_customer_item_or_warehouse_is_not_found(
    session: Session, shop: Shop
) -> None:
    other = make_shop(session, "globex")
    with pytest.raises(NotFound):
        _order(session, shop, customer_id=other.customer.id)
    with pytest.raises(NotFound):
        _order(session, shop, warehouse_id=other.main.id)
    with pytest.raises(NotFound):
        create_sales_order(
            session,
            shop.sales,
            customer_id=shop.customer.id,
            order_date=DAY,
            warehouse_id=shop.main.id,
            lines=[DocLineIn(item_id=other.goods.id, quantity=D("1"))],
        )
    assert repo.list_orders(session, shop.sales) == ([], 0)


def test_creating_needs_sales_write_and_an_active_customer(session: Session, shop: Shop) -> None:
    with pytest.raises(PermissionDenied):
        create_sales_order(
            session,
            shop.viewer,
            customer_id=shop.customer.id,
            order_date=DAY,
            lines=[DocLineIn(item_id=shop.service.id, quantity=D("1"))],
        )
    update_customer(session, shop.sales, shop.customer.id, CustomerUpdate(is_active=False))
    with pytest.raises(BusinessRuleViolation, match="inactive"):
        _order(session, shop)


def test_the_full_flow_issues_stock_books_cost_and_posts_the_invoice(
    session: Session, shop: Shop
) -> None:
    order = _order(session, shop, goods="3")
    confirm_sales_order(session, shop.sales, order.id)
    assert order.status == SalesOrderStatus.CONFIRMED
    deliver_sales_order(session, shop.storekeeper, order.id, on=LATER)
    assert order.status == SalesOrderStatus.DELIVERED
    assert stock_repo.on_hand(session, shop.viewer, shop.goods.id, shop.main.id) == D("17.000")
    moves = stock_repo.moves_by_reference(session, shop.viewer, order.number)
    assert [(m.move_type, m.quantity, m.move_date) for m in moves] == [("issue", D("3.000"), LATER)]
    cogs = session.execute(
        select(JournalVoucher).where(
            JournalVoucher.source_type == "sales_order", JournalVoucher.source_id == order.id
        )
    ).scalar_one()
    sides = {
        (ln.account.code, ln.debit, ln.credit)
        for ln in ledger_repo.get_voucher(session, shop.finance, cogs.id).lines
    }
    assert sides == {("5000", D("180.00"), D("0.00")), ("1200", D("0.00"), D("180.00"))}

    invoice = invoice_sales_order(session, shop.finance, order.id, on=LATER)
    assert order.status == SalesOrderStatus.INVOICED
    assert (invoice.kind, invoice.status, invoice.sales_order_id) == (
        InvoiceKind.AR,
        InvoiceStatus.POSTED,
        order.id,
    )
    assert (invoice.customer_id, invoice.issue_date, invoice.total) == (
        shop.customer.id,
        LATER,
        order.total,
    )
    assert [(ln.item_id, ln.quantity, ln.net_amount) for ln in invoice.lines] == [
        (ln.item_id, ln.quantity, ln.net_amount) for ln in order.lines
    ]
    actions = session.execute(
        select(AuditEntry.action, AuditEntry.old_values, AuditEntry.new_values)
        .where(AuditEntry.entity_type == "sales_order", AuditEntry.entity_id == str(order.id))
        .order_by(AuditEntry.seq)
    ).all()
    assert [a for a, _, _ in actions] == [
        "sales_order.create",
        "sales_order.confirm",
        "sales_order.deliver",
        "sales_order.invoice",
    ]
    assert actions[3][1] == {"status": "delivered"}
    assert actions[3][2]["invoice"] == invoice.number
    assert verify(session).ok


def test_confirming_more_than_is_in_stock_is_refused(session: Session, shop: Shop) -> None:
    order = _order(session, shop, goods="21")
    with pytest.raises(BusinessRuleViolation) as err:
        confirm_sales_order(session, shop.sales, order.id)
    assert err.value.details["shortages"] == [
        {"item_id": shop.goods.id, "sku": "G1", "needed": "21.000", "available": "20.000"}
    ]
    assert order.status == SalesOrderStatus.DRAFT


def test_stock_promised_to_confirmed_orders_is_not_available_again(
    session: Session, shop: Shop
) -> None:
    first = _order(session, shop, goods="15")
    confirm_sales_order(session, shop.sales, first.id)
    second = _order(session, shop, goods="6")
    with pytest.raises(BusinessRuleViolation, match=r"need 6.000, 5.000 available"):
        confirm_sales_order(session, shop.sales, second.id)
    # Once the first is delivered its stock is gone from on-hand instead.
    deliver_sales_order(session, shop.sales, first.id, on=DAY)
    fits = _order(session, shop, goods="5")
    confirm_sales_order(session, shop.sales, fits.id)
    assert fits.status == SalesOrderStatus.CONFIRMED


def test_credit_limit_counts_open_receivables_and_this_order(session: Session, shop: Shop) -> None:
    customer = create_customer(
        session, shop.sales, CustomerIn(name="Careful Ltd", credit_limit=D("700.00"))
    )
    first = _order(session, shop, goods="3", customer_id=customer.id)  # 380.00
    confirm_sales_order(session, shop.sales, first.id)
    deliver_sales_order(session, shop.sales, first.id, on=DAY)
    invoice_sales_order(session, shop.finance, first.id, on=DAY)
    assert repo.open_receivables(session, shop.sales, customer.id) == D("380.00")

    too_much = _order(session, shop, goods="3", customer_id=customer.id)  # 380 + 380 > 700
    with pytest.raises(BusinessRuleViolation) as err:
        confirm_sales_order(session, shop.sales, too_much.id)
    assert err.value.details["exceeded_by"] == "60.00"
    assert too_much.status == SalesOrderStatus.DRAFT

    exactly = create_sales_order(
        session,
        shop.sales,
        customer_id=customer.id,
        order_date=DAY,
        lines=[DocLineIn(item_id=shop.service.id, quantity=D("1"), unit_price=D("320.00"))],
    )
    confirm_sales_order(session, shop.sales, exactly.id)
    assert exactly.status == SalesOrderStatus.CONFIRMED


def test_a_customer_without_a_limit_is_not_checked(session: Session, shop: Shop) -> None:
    order = create_sales_order(
        session,
        shop.sales,
        customer_id=shop.customer.id,
        order_date=DAY,
        lines=[DocLineIn(item_id=shop.service.id, quantity=D("1000"))],
    )
    confirm_sales_order(session, shop.sales, order.id)
    assert order.status == SalesOrderStatus.CONFIRMED


@pytest.mark.parametrize("step", ["deliver", "invoice"])
def test_steps_out_of_order_are_invalid_state(session: Session, shop: Shop, step: str) -> None:
    order = _order(session, shop)
    with pytest.raises(InvalidState) as err:
        if step == "deliver":
            deliver_sales_order(session, shop.sales, order.id, on=DAY)
        else:
            invoice_sales_order(session, shop.finance, order.id, on=DAY)
    assert err.value.status_code == 409
    assert order.status == SalesOrderStatus.DRAFT


def test_an_order_is_confirmed_delivered_and_invoiced_once(session: Session, shop: Shop) -> None:
    order = _order(session, shop)
    confirm_sales_order(session, shop.sales, order.id)
    with pytest.raises(InvalidState):
        confirm_sales_order(session, shop.sales, order.id)
    deliver_sales_order(session, shop.sales, order.id, on=DAY)
    with pytest.raises(InvalidState):
        deliver_sales_order(session, shop.sales, order.id, on=DAY)
    invoice_sales_order(session, shop.finance, order.id, on=DAY)
    with pytest.raises(InvalidState):
        invoice_sales_order(session, shop.finance, order.id, on=DAY)
    assert stock_repo.on_hand(session, shop.viewer, shop.goods.id, shop.main.id) == D("17.000")


def test_delivery_and_invoice_cannot_precede_the_order(session: Session, shop: Shop) -> None:
    order = _order(session, shop, on=LATER)
    confirm_sales_order(session, shop.sales, order.id)
    with pytest.raises(BusinessRuleViolation, match="before its order date"):
        deliver_sales_order(session, shop.sales, order.id, on=DAY)
    assert order.status == SalesOrderStatus.CONFIRMED


def test_delivery_short_of_stock_issues_nothing(session: Session, shop: Shop) -> None:
    order = _order(session, shop, goods="20")
    confirm_sales_order(session, shop.sales, order.id)
    adjust_stock(
        session,
        shop.storekeeper,
        item_id=shop.goods.id,
        warehouse_id=shop.main.id,
        quantity_delta=D("-1"),
        reason="breakage",
        on=DAY,
    )
    with pytest.raises(BusinessRuleViolation, match="Not enough stock"):
        deliver_sales_order(session, shop.sales, order.id, on=DAY)
    assert (
        session.execute(select(StockMove).where(StockMove.reference == order.number)).first()
        is None
    )
    assert stock_repo.on_hand(session, shop.viewer, shop.goods.id, shop.main.id) == D("19.000")


def test_invoicing_needs_finance_post(session: Session, shop: Shop) -> None:
    order = _order(session, shop)
    confirm_sales_order(session, shop.sales, order.id)
    deliver_sales_order(session, shop.sales, order.id, on=DAY)
    with pytest.raises(PermissionDenied, match="finance.post"):
        invoice_sales_order(session, shop.sales, order.id, on=DAY)
    assert order.status == SalesOrderStatus.DELIVERED


def test_only_sales_or_inventory_may_deliver(session: Session, shop: Shop) -> None:
    order = _order(session, shop)
    confirm_sales_order(session, shop.sales, order.id)
    with pytest.raises(PermissionDenied):
        deliver_sales_order(session, shop.finance, order.id, on=DAY)
    assert order.status == SalesOrderStatus.CONFIRMED


@pytest.mark.parametrize("confirm", [False, True])
def test_cancel_before_delivery_keeps_the_reason(
    session: Session, shop: Shop, confirm: bool
) -> None:
    order = _order(session, shop)
    if confirm:
        confirm_sales_order(session, shop.sales, order.id)
    cancel_sales_order(session, shop.sales, order.id, reason=" customer withdrew ")
    assert (order.status, order.cancel_reason) == ("cancelled", "customer withdrew")
    entry = session.execute(
        select(AuditEntry).where(AuditEntry.action == "sales_order.cancel")
    ).scalar_one()
    assert entry.old_values == {"status": "confirmed" if confirm else "draft"}


def test_cancel_after_delivery_or_without_reason_is_refused(session: Session, shop: Shop) -> None:
    order = _order(session, shop)
    with pytest.raises(BusinessRuleViolation, match="reason"):
        cancel_sales_order(session, shop.sales, order.id, reason="")
    confirm_sales_order(session, shop.sales, order.id)
    deliver_sales_order(session, shop.sales, order.id, on=DAY)
    with pytest.raises(InvalidState, match="delivered"):
        cancel_sales_order(session, shop.sales, order.id, reason="too late")
    assert order.status == SalesOrderStatus.DELIVERED


def test_cancelled_order_no_longer_holds_stock(session: Session, shop: Shop) -> None:
    held = _order(session, shop, goods="20")
    confirm_sales_order(session, shop.sales, held.id)
    cancel_sales_order(session, shop.sales, held.id, reason="changed mind")
    fresh = _order(session, shop, goods="20")
    confirm_sales_order(session, shop.sales, fresh.id)
    assert fresh.status == SalesOrderStatus.CONFIRMED


def test_another_companys_order_is_not_found_for_every_step(session: Session, shop: Shop) -> None:
    other = make_shop(session, "globex")
    theirs = _order(session, other)
    with pytest.raises(NotFound):
        confirm_sales_order(session, shop.sales, theirs.id)
    with pytest.raises(NotFound):
        cancel_sales_order(session, shop.sales, theirs.id, reason="x")
    with pytest.raises(NotFound):
        repo.get_order_by_number(session, shop.sales, theirs.number)
    assert theirs.status == SalesOrderStatus.DRAFT


def test_listing_filters_by_status_customer_and_dates(session: Session, shop: Shop) -> None:
    early = _order(session, shop, on=dt.date(2026, 1, 10))
    mid = _order(session, shop, on=dt.date(2026, 2, 10))
    late = _order(session, shop, on=dt.date(2026, 3, 10))
    confirm_sales_order(session, shop.sales, mid.id)
    rows, total = repo.list_orders(session, shop.viewer)
    assert [r.id for r in rows] == [late.id, mid.id, early.id] and total == 3
    rows, _ = repo.list_orders(session, shop.viewer, status="confirmed")
    assert [r.id for r in rows] == [mid.id]
    rows, _ = repo.list_orders(
        session, shop.viewer, date_from=dt.date(2026, 2, 10), date_to=dt.date(2026, 3, 9)
    )
    assert [r.id for r in rows] == [mid.id]
    rows, _ = repo.list_orders(session, shop.viewer, customer_id=shop.customer.id, limit=1)
    assert [r.id for r in rows] == [late.id]
    assert repo.get_order_by_number(session, shop.viewer, "so-2026-0002").id == mid.id
