"""Scans on both databases: alerts found, kept once per condition, cleared, seen by role."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from companion.alerts import repository as repo
from companion.alerts import service as alerts
from companion.alerts.models import Alert
from companion.config import AlertSettings
from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import InvoiceKind
from companion.erp.invoicing.service import create_invoice, post_invoice
from companion.erp.ledger.service import setup_company_ledger
from companion.erp.purchasing.schemas import ApprovalLevelIn
from companion.erp.purchasing.service import (
    create_purchase_order,
    set_approval_levels,
    submit_purchase_order,
)
from companion.erp.stock.service import adjust_stock, receive_stock
from companion.errors import Conflict, NotFound
from operations_factories import DAY, Shop, make_shop

D = Decimal
TODAY = DAY + dt.timedelta(days=10)
NOW = dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def shop(session: Session) -> Shop:
    shop = make_shop(session, "acme", stock="3")  # below the reorder level of 5
    setup_company_ledger(session, shop.company.id)
    set_approval_levels(
        session,
        shop.company.id,
        [ApprovalLevelIn(level=1, name="Buyer", min_amount=D("0"), role="procurement")],
    )
    # An order placed a week ago (for the other warehouse): the widget's usual supplier,
    # and an approval waiting.
    order = create_purchase_order(
        session,
        shop.buyer,
        supplier_id=shop.supplier.id,
        order_date=DAY,
        lines=[DocLineIn(item_id=shop.goods.id, quantity=D("10"), unit_price=D("60"))],
        warehouse_id=shop.second.id,
    )
    submit_purchase_order(session, shop.buyer, order.id)
    return shop


def _scan(session: Session, shop: Shop, **settings: object) -> alerts.ScanResult:
    return alerts.scan_company(
        session, shop.company.id, TODAY, AlertSettings.model_validate(settings), now=NOW
    )


def _of(session: Session, shop: Shop, kind: str) -> list[Alert]:
    return [a for a in repo.alerts_of_company(session, shop.company.id) if a.type == kind]


def test_low_stock_suggests_the_reorder_quantity_from_the_usual_supplier(
    session: Session, shop: Shop
) -> None:
    result = _scan(session, shop)
    assert result.by_type.get("low_stock") == 1
    (alert,) = _of(session, shop, "low_stock")
    assert alert.permission == "inventory.read" and alert.module == "inventory"
    assert "has 3 units in MAIN" in alert.message and "reorder level of 5" in alert.message
    assert "order 20 units from" in alert.message
    action = alert.suggested_action
    assert action is not None and action["action"] == "create_purchase_order"
    assert action["params"]["supplier_id"] == shop.supplier.id
    assert action["params"]["warehouse_id"] == shop.main.id
    assert action["params"]["lines"] == [
        {"item_id": shop.goods.id, "name": "Widget", "quantity": "20"}
    ]


def test_a_rescan_creates_no_duplicate_until_the_condition_changes(
    session: Session, shop: Shop
) -> None:
    first = _scan(session, shop)
    assert first.created == first.found > 0
    again = _scan(session, shop)
    assert again.created == 0 and again.found == first.found
    assert len(_of(session, shop, "low_stock")) == 1
    # Replenished: the alert clears; short again later: a new alert.
    receive_stock(
        session,
        shop.admin,
        item_id=shop.goods.id,
        warehouse_id=shop.main.id,
        quantity=D("10"),
        on=TODAY,
    )
    cleared = _scan(session, shop)
    assert cleared.cleared == 1
    (old,) = _of(session, shop, "low_stock")
    assert old.cleared_at is not None and old.condition_key.endswith(f"~{old.id}")
    adjust_stock(
        session,
        shop.admin,
        item_id=shop.goods.id,
        warehouse_id=shop.main.id,
        quantity_delta=D("-12"),
        reason="damaged",
        on=TODAY,
    )
    back = _scan(session, shop)
    assert back.created == 1
    assert len(_of(session, shop, "low_stock")) == 2


def test_stock_already_on_order_is_said_and_enough_of_it_clears_the_alert(
    session: Session, shop: Shop
) -> None:
    def order(qty: str, *, submit: bool) -> None:
        po = create_purchase_order(
            session,
            shop.buyer,
            supplier_id=shop.supplier.id,
            order_date=TODAY,
            lines=[DocLineIn(item_id=shop.goods.id, quantity=D(qty), unit_price=D("60"))],
            warehouse_id=shop.main.id,
        )
        if submit:
            submit_purchase_order(session, shop.buyer, po.id)

    order("9", submit=False)  # a draft is not on order
    order("1", submit=True)
    _scan(session, shop)
    (alert,) = _of(session, shop, "low_stock")
    assert "1 unit already on order" in alert.message and alert.details["on_order"] == "1"
    order("5", submit=True)  # 3 on hand + 6 on order reach the level of 5
    result = _scan(session, shop)
    assert result.by_type["low_stock"] == 1 and result.cleared == 1 and result.created == 1
    covered = [a for a in _of(session, shop, "low_stock") if a.cleared_at is None]
    assert [(a.severity, a.suggested_action) for a in covered] == [("info", None)]
    assert "6 units already on order, enough to reach it" in covered[0].message


def test_upsert_is_idempotent_for_the_same_condition(session: Session, shop: Shop) -> None:
    row = {
        "type": "low_stock",
        "severity": "warning",
        "title": "t",
        "message": "m",
        "module": "inventory",
        "permission": "inventory.read",
        "on_date": TODAY,
        "details": {},
        "status": "unread",
        "condition_key": "low_stock:test",
        "created_at": NOW,
        "updated_at": NOW,
    }
    assert len(repo.upsert(session, shop.company.id, [row])) == 1
    assert repo.upsert(session, shop.company.id, [row, row]) == []
    assert repo.upsert(session, shop.company.id, []) == []


def test_overdue_receivables_alert_at_the_highest_threshold_crossed(
    session: Session, shop: Shop
) -> None:
    invoice = create_invoice(
        session,
        shop.finance,
        kind=InvoiceKind.AR,
        party_id=shop.customer.id,
        issue_date=DAY - dt.timedelta(days=60),
        due_date=DAY - dt.timedelta(days=30),
        lines=[DocLineIn(item_id=shop.service.id, quantity=D("1"), unit_price=D("600"))],
    )
    post_invoice(session, shop.finance, invoice.id)
    _scan(session, shop, overdue_thresholds={"*": ["100", "500", "1000"]})
    (alert,) = _of(session, shop, "overdue_receivables")
    assert alert.permission == "finance.read" and alert.severity == "warning"
    assert alert.observed == D("600.00") and alert.expected == D("500.00")
    assert alert.condition_key == f"overdue_receivables:{shop.customer.id}:500"
    assert "40 days late" in alert.message
    # Under every threshold: nothing.
    none = _scan(session, shop, overdue_thresholds={"*": ["5000"]})
    assert none.by_type.get("overdue_receivables") is None and none.cleared >= 1


def test_an_approval_waiting_too_long_reminds_its_approver(session: Session, shop: Shop) -> None:
    _scan(session, shop, approval_wait_days=5)
    (alert,) = _of(session, shop, "approval_waiting")
    assert alert.record_ref and alert.record_ref.startswith("PO-")
    assert alert.suggested_action == {
        "action": "approve_purchase_order",
        "label": f"Approve {alert.record_ref}",
        "params": {"document_ref": alert.record_ref},
    }
    assert "has waited 10 days" in alert.message
    # Within the allowed wait: no reminder (and the first one clears).
    assert _scan(session, shop, approval_wait_days=30).by_type.get("approval_waiting") is None


def test_payables_due_against_cash(session: Session, shop: Shop) -> None:
    bill = create_invoice(
        session,
        shop.finance,
        kind=InvoiceKind.AP,
        party_id=shop.supplier.id,
        issue_date=DAY,
        due_date=TODAY + dt.timedelta(days=3),
        lines=[DocLineIn(item_id=shop.service.id, quantity=D("1"), unit_price=D("900"))],
    )
    post_invoice(session, shop.finance, bill.id)
    result = _scan(session, shop)
    (alert,) = _of(session, shop, "payables_due")
    assert alert.severity == "critical" and "short" in alert.message  # no cash at all
    assert result.by_type["cash_runway"] == 1
    (runway,) = _of(session, shop, "cash_runway")
    assert runway.message.startswith("Forecast")
    assert runway.details["forecast"] is True


def test_each_role_sees_only_its_alerts_and_no_other_company(session: Session, shop: Shop) -> None:
    other = make_shop(session, "globex", stock="1")
    alerts.scan_company(session, other.company.id, TODAY, now=NOW)
    _scan(session, shop, approval_wait_days=1)
    store = {a.type for a in repo.open_alerts(session, shop.storekeeper)}
    assert store == {"low_stock"}
    buyer = {a.type for a in repo.open_alerts(session, shop.buyer)}
    assert buyer == {"low_stock", "approval_waiting"}
    assert {a.type for a in repo.open_alerts(session, shop.sales)} == {"low_stock"}
    mine = {a.company_id for a in repo.open_alerts(session, shop.admin)}
    assert mine == {shop.company.id}
    assert {a.company_id for a in repo.open_alerts(session, other.admin)} == {other.company.id}
    foreign = repo.alerts_of_company(session, other.company.id)[0]
    with pytest.raises(NotFound):
        repo.get_alert(session, shop.admin, foreign.id)
    assert repo.unread_count(session, shop.storekeeper) == 1


def test_read_dismiss_and_act_move_the_status_once(session: Session, shop: Shop) -> None:
    _scan(session, shop)
    (alert,) = _of(session, shop, "low_stock")
    ctx = shop.storekeeper
    assert alerts.mark_read(session, ctx, alert.id, NOW).status == "read"
    assert repo.unread_count(session, ctx) == 0
    assert alerts.claim_for_action(session, shop.buyer, alert.id, NOW, "tok-1") is True
    assert alerts.claim_for_action(session, shop.buyer, alert.id, NOW, "tok-2") is False
    with pytest.raises(Conflict):
        alerts.dismiss(session, ctx, alert.id, NOW)
    session.refresh(alert)
    assert alert.status == "acted" and alert.action_token == "tok-1"


def test_a_sales_spike_is_explained_against_the_usual_weekday(session: Session, shop: Shop) -> None:
    start = TODAY - dt.timedelta(weeks=12)
    day = start
    while day < TODAY:
        if day.weekday() < 5:
            count = 8 if day == TODAY - dt.timedelta(days=7) else 2
            for _ in range(count):
                invoice = create_invoice(
                    session,
                    shop.finance,
                    kind=InvoiceKind.AR,
                    party_id=shop.customer.id,
                    issue_date=day,
                    lines=[
                        DocLineIn(item_id=shop.service.id, quantity=D("1"), unit_price=D("100"))
                    ],
                )
                post_invoice(session, shop.finance, invoice.id)
        day += dt.timedelta(days=1)
    _scan(session, shop, major_customers=0, major_items=0)
    (alert,) = _of(session, shop, "sales_anomaly")
    spike = TODAY - dt.timedelta(days=7)
    assert alert.on_date == spike and alert.permission == "sales.read"
    assert alert.observed == D("800.00") and alert.expected == D("200.00")
    assert alert.details["direction"] == "spike" and alert.details["ratio"] == 4.0
    assert "4.0× the usual" in alert.message and "USD 800.00" in alert.message
    # An event alert does not clear: the day happened.
    assert _scan(session, shop, major_customers=0, major_items=0).created == 0
    assert _of(session, shop, "sales_anomaly")[0].cleared_at is None
