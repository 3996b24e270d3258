import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from companion.erp.documents import DocLineIn
from companion.erp.numbering.service import (
    DocType,
    current_numbers,
    format_number,
    next_code,
    next_number,
)
from companion.erp.purchasing.service import create_purchase_order
from companion.erp.sales.service import create_sales_order
from factories import make_company
from operations_factories import DAY, Shop, make_shop

D = Decimal


def test_numbers_run_in_sequence_per_company_type_and_year(session: Session) -> None:
    company = make_company(session, "acme")
    on = dt.date(2026, 5, 1)
    assert [next_number(session, company.id, DocType.SALES_ORDER, on) for _ in range(3)] == [
        "SO-2026-0001",
        "SO-2026-0002",
        "SO-2026-0003",
    ]
    assert next_number(session, company.id, DocType.PURCHASE_ORDER, on) == "PO-2026-0001"
    assert next_number(session, company.id, DocType.SALES_ORDER, dt.date(2027, 1, 1)) == (
        "SO-2027-0001"
    )
    assert next_number(session, company.id, DocType.SALES_ORDER, on) == "SO-2026-0004"
    assert current_numbers(session, company.id) == {
        ("SO", 2026): 4,
        ("PO", 2026): 1,
        ("SO", 2027): 1,
    }


def test_companies_have_independent_sequences(session: Session) -> None:
    acme, globex = make_company(session, "acme"), make_company(session, "globex")
    on = dt.date(2026, 5, 1)
    next_number(session, acme.id, DocType.SALES_ORDER, on)
    next_number(session, acme.id, DocType.SALES_ORDER, on)
    assert next_number(session, globex.id, DocType.SALES_ORDER, on) == "SO-2026-0001"
    assert next_number(session, acme.id, DocType.SALES_ORDER, on) == "SO-2026-0003"


def test_master_data_codes_never_restart(session: Session) -> None:
    acme, globex = make_company(session, "acme"), make_company(session, "globex")
    assert [next_code(session, acme.id, "CUST") for _ in range(2)] == ["CUST-0001", "CUST-0002"]
    assert next_code(session, acme.id, "SUPP") == "SUPP-0001"
    assert next_code(session, globex.id, "CUST") == "CUST-0001"


def test_numbers_widen_rather_than_wrap() -> None:
    assert format_number("INV", 2026, 9999) == "INV-2026-9999"
    assert format_number("INV", 2026, 10000) == "INV-2026-10000"


def test_orders_take_numbers_by_their_own_date(session: Session) -> None:
    acme, globex = make_shop(session, "acme"), make_shop(session, "globex")

    def so(shop: Shop, on: dt.date) -> str:
        order = create_sales_order(
            session,
            shop.sales,
            customer_id=shop.customer.id,
            order_date=on,
            lines=[DocLineIn(item_id=shop.service.id, quantity=D("1"))],
        )
        return order.number

    assert so(acme, DAY) == "SO-2026-0001"
    assert so(acme, dt.date(2025, 12, 31)) == "SO-2025-0001"
    assert so(acme, DAY) == "SO-2026-0002"
    assert so(globex, DAY) == "SO-2026-0001"
    po = create_purchase_order(
        session,
        acme.buyer,
        supplier_id=acme.supplier.id,
        order_date=DAY,
        lines=[DocLineIn(item_id=acme.service.id, quantity=D("1"))],
    )
    assert po.number == "PO-2026-0001"
