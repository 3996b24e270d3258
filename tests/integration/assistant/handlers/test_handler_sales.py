"""create_sales_order and create_customer: gathering over turns, exact previews, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from handler_world import TODAY, World, handler, say
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from companion.erp.parties.models import Customer
from companion.erp.sales import repository as sales_repo
from companion.erp.sales.models import SalesOrder
from companion.errors import BusinessRuleViolation, Conflict, NotFound, PermissionDenied

SO = "create_sales_order"


def count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_two_lines_over_two_turns_then_an_exact_preview_and_execution(
    session: Session, acme: World
) -> None:
    h = handler(SO)
    params = say(
        session,
        acme.sales,
        SO,
        "create a sales order for Rahman Traders: 10 units of Steel Rod and 5 Copper Wire "
        "at 100 each",
    )
    assert params["customer_id"] == acme.customer.id
    lines = {ln["item_id"]: (ln["quantity"], ln["unit_price"]) for ln in params["lines"]}
    assert lines == {acme.rod.id: ("10", None), acme.wire.id: ("5", "100")}
    ask = h.missing(session, acme.sales, params)
    assert ask is not None and ask.slot == "warehouse"
    assert ask.choices == ["Chattogram Port Depot", "Dhaka Central Warehouse"]

    params = say(session, acme.sales, SO, "Dhaka Central Warehouse", params)
    assert params["warehouse_id"] == acme.dhaka.id
    assert h.missing(session, acme.sales, params) is None

    before = count(session, SalesOrder)
    proposal = h.propose(session, acme.sales, params)
    assert count(session, SalesOrder) == before  # the dry run left nothing behind
    doc = proposal.preview["documents"][0]
    # 10 x 450 + 10% tax = 4,950; 5 x 100 untaxed = 500.
    assert (doc["subtotal"], doc["tax_total"], doc["total"]) == ("5000.00", "450.00", "5450.00")
    assert doc["status"] == "confirmed"
    assert proposal.amount == Decimal("5450.00")
    assert "BDT 5,450.00" in proposal.summary and "Rahman Traders" in proposal.summary
    available = {b["what"]: (b["before"], b["after"]) for b in proposal.preview["balances"][1:]}
    assert available == {
        "SR-10 available in DHK": ("40.000", "30.000"),
        "CW-20 available in DHK": ("100.000", "95.000"),
    }

    outcome = h.execute(session, acme.sales.as_ai(), proposal.params)
    assert outcome.document_ref == doc["number"]
    order = sales_repo.get_order_by_number(session, acme.sales, doc["number"])
    assert (order.status, order.total, order.warehouse_id) == (
        "confirmed",
        Decimal("5450.00"),
        acme.dhaka.id,
    )
    assert [(ln.quantity, ln.unit_price) for ln in order.lines] == [
        (Decimal("10.000"), Decimal("450.00")),
        (Decimal("5.000"), Decimal("100.00")),
    ]


def test_corrections_overwrite_quantity_price_and_warehouse(session: Session, acme: World) -> None:
    h = handler(SO)
    params = say(
        session, acme.sales, SO, "sell 4 Steel Rod to Rahman Traders from Dhaka Central Warehouse"
    )
    params = say(session, acme.sales, SO, "make it 3 units", params)
    params = say(session, acme.sales, SO, "at 400 each", params)
    params = say(session, acme.sales, SO, "no, the other warehouse", params)
    assert params["warehouse_id"] == acme.ctg.id
    assert [(ln["quantity"], ln["unit_price"]) for ln in params["lines"]] == [("3", "400")]
    proposal = h.propose(session, acme.sales, params)
    assert proposal.preview["documents"][0]["total"] == "1320.00"  # 3 x 400 + 10%
    assert proposal.preview["balances"][1]["before"] == "5.000"


def test_a_product_without_quantity_is_asked_for(session: Session, acme: World) -> None:
    params = say(session, acme.sales, SO, "new sales order for Rahman Traders with Steel Rod")
    ask = handler(SO).missing(session, acme.sales, params)
    assert ask is not None and ask.question == "How many units of Steel Rod?"
    params = say(session, acme.sales, SO, "12", params)
    assert params["lines"][0]["quantity"] == "12"


def test_services_need_no_warehouse_and_take_the_list_price(session: Session, acme: World) -> None:
    h = handler(SO)
    params = say(
        session, acme.sales, SO, "sales order for Karim Stores: 2 Installation, 5% discount"
    )
    assert h.missing(session, acme.sales, params) is None
    doc = h.propose(session, acme.sales, params).preview["documents"][0]
    assert (doc["lines"][0]["unit_price"], doc["discount_total"], doc["total"]) == (
        "500.00",
        "50.00",
        "950.00",
    )
    assert doc["warehouse_id"] is None


def test_unknown_customer_and_product_are_asked_about_by_name(
    session: Session, acme: World
) -> None:
    h = handler(SO)
    params = say(session, acme.sales, SO, "create a sales order for Nobody Corp: 3 Steel Rod")
    ask = h.missing(session, acme.sales, params)
    assert ask is not None and "couldn't find a customer called 'Nobody Corp'" in ask.question
    params = say(session, acme.sales, SO, "sales order for Rahman Traders: 10 units of Unobtainium")
    ask = h.missing(session, acme.sales, params)
    assert ask is not None and "couldn't find a product called 'Unobtainium'" in ask.question


def test_not_enough_stock_is_refused_by_the_erp(session: Session, acme: World) -> None:
    params = say(
        session, acme.sales, SO, "sell 45 Steel Rod to Rahman Traders from Dhaka Central Warehouse"
    )
    with pytest.raises(BusinessRuleViolation, match=r"Not enough stock in DHK .*SR-10 \(need 45"):
        handler(SO).propose(session, acme.sales, params)
    assert count(session, SalesOrder) == 0


def test_the_credit_limit_is_refused_by_the_erp(session: Session, acme: World) -> None:
    acme.customer.credit_limit = Decimal("1000.00")
    session.flush()
    params = say(
        session, acme.sales, SO, "sell 3 Steel Rod to Rahman Traders from Dhaka Central Warehouse"
    )
    with pytest.raises(BusinessRuleViolation, match="Credit limit exceeded"):
        handler(SO).propose(session, acme.sales, params)


def test_another_companys_customer_or_product_is_not_found(
    session: Session, acme: World, globex: World
) -> None:
    h = handler(SO)
    params = say(
        session, acme.sales, SO, "sell 3 Steel Rod to Rahman Traders from Dhaka Central Warehouse"
    )
    with pytest.raises(NotFound):
        h.propose(session, acme.sales, {**params, "customer_id": globex.customer.id})
    stolen = [{**params["lines"][0], "item_id": globex.rod.id}]
    with pytest.raises(NotFound):
        h.propose(session, acme.sales, {**params, "lines": stolen})


def test_without_sales_write_the_erp_refuses_naming_the_role(session: Session, acme: World) -> None:
    h = handler(SO)
    assert h.permission == "sales.write"
    params = say(
        session, acme.sales, SO, "sell 3 Steel Rod to Rahman Traders from Dhaka Central Warehouse"
    )
    with pytest.raises(PermissionDenied, match="role sales"):
        h.propose(session, acme.viewer, params)


def test_draft_only_when_asked(session: Session, acme: World) -> None:
    params = say(
        session,
        acme.sales,
        SO,
        "draft sales order for Rahman Traders, 50 Steel Rod from Dhaka Central Warehouse",
    )
    proposal = handler(SO).propose(session, acme.sales, params)  # no stock check for a draft
    assert proposal.preview["documents"][0]["status"] == "draft"


CU = "create_customer"


def test_create_customer_with_its_details(session: Session, acme: World) -> None:
    h = handler(CU)
    params = say(
        session,
        acme.sales,
        CU,
        "add a new customer called Green Valley Agro with credit limit 5 lakh, "
        "email gva@example.com, 45 days terms",
    )
    assert params["name"] == "Green Valley Agro"
    assert h.missing(session, acme.sales, params) is None
    before = count(session, Customer)
    proposal = h.propose(session, acme.sales, params)
    assert count(session, Customer) == before
    doc = proposal.preview["documents"][0]
    assert (doc["credit_limit"], doc["payment_terms_days"], doc["email"]) == (
        "500000.00",
        45,
        "gva@example.com",
    )
    outcome = h.execute(session, acme.sales.as_ai(), proposal.params)
    assert outcome.document_ref == doc["code"]
    created = session.execute(select(Customer).where(Customer.code == doc["code"])).scalar_one()
    assert (created.name, created.credit_limit, created.company_id) == (
        "Green Valley Agro",
        Decimal("500000.00"),
        acme.company.id,
    )


def test_the_name_is_asked_for_and_a_duplicate_is_refused(session: Session, acme: World) -> None:
    h = handler(CU)
    params = say(session, acme.sales, CU, "create a customer")
    ask = h.missing(session, acme.sales, params)
    assert ask is not None and ask.slot == "name"
    params = say(session, acme.sales, CU, "Rahman Traders", params)
    with pytest.raises(Conflict, match="already exists"):
        h.propose(session, acme.sales, params)


def test_a_bad_email_is_a_clear_validation_error(session: Session, acme: World) -> None:
    from companion.errors import ValidationFailed

    params = {"name": "Someone New", "email": "not-an-email"}
    with pytest.raises(ValidationFailed, match="email"):
        handler(CU).propose(session, acme.sales, params)
    with pytest.raises(PermissionDenied, match="role sales"):
        handler(CU).propose(session, acme.storekeeper, {"name": "Someone New"})
    assert TODAY.year == 2026
