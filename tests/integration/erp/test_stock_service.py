import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from companion.audit.models import AuditEntry
from companion.erp.ledger import repository as ledger_repo
from companion.erp.ledger.models import JournalVoucher
from companion.erp.ledger.service import setup_company_ledger
from companion.erp.stock import repository as repo
from companion.erp.stock.models import MoveType, StockLevel, StockMove
from companion.erp.stock.service import adjust_stock, issue_stock, receive_stock, transfer_stock
from companion.errors import BusinessRuleViolation, NotFound, PermissionDenied
from operations_factories import DAY, Shop, make_shop
from statements import account_reads, statements_sent

D = Decimal


@pytest.fixture
def shop(session: Session) -> Shop:
    return make_shop(session, "acme", stock="20")


def _on_hand(session: Session, shop: Shop, warehouse_id: int | None = None) -> Decimal:
    return repo.on_hand(session, shop.viewer, shop.goods.id, warehouse_id or shop.main.id)


def test_receipt_adds_to_the_level_at_the_given_cost(session: Session, shop: Shop) -> None:
    move = receive_stock(
        session,
        shop.storekeeper,
        item_id=shop.goods.id,
        warehouse_id=shop.main.id,
        quantity=D("5.5"),
        unit_cost=D("58.00"),
        on=DAY,
        reference="GRN-7",
    )
    assert (move.move_type, move.to_warehouse_id, move.from_warehouse_id) == (
        MoveType.RECEIPT,
        shop.main.id,
        None,
    )
    assert (move.quantity, move.unit_cost, move.reference) == (D("5.500"), D("58.00"), "GRN-7")
    assert _on_hand(session, shop) == D("25.500")


def test_issue_takes_from_the_level(session: Session, shop: Shop) -> None:
    move = issue_stock(
        session,
        shop.storekeeper,
        item_id=shop.goods.id,
        warehouse_id=shop.main.id,
        quantity=D("20"),
        on=DAY,
    )
    assert move.unit_cost == D("60.00")
    assert _on_hand(session, shop) == D("0.000")


def test_issuing_more_than_on_hand_is_refused_and_changes_nothing(
    session: Session, shop: Shop
) -> None:
    with pytest.raises(BusinessRuleViolation) as err:
        issue_stock(
            session,
            shop.storekeeper,
            item_id=shop.goods.id,
            warehouse_id=shop.main.id,
            quantity=D("20.001"),
            on=DAY,
        )
    assert err.value.details["on_hand"] == "20.000"
    assert err.value.details["requested"] == "20.001"
    assert _on_hand(session, shop) == D("20.000")
    assert (
        session.execute(select(StockMove).where(StockMove.move_type == MoveType.ISSUE)).first()
        is None
    )


def test_issuing_from_a_warehouse_that_never_held_the_item_is_refused(
    session: Session, shop: Shop
) -> None:
    with pytest.raises(BusinessRuleViolation, match="WEST"):
        issue_stock(
            session,
            shop.admin,
            item_id=shop.goods.id,
            warehouse_id=shop.second.id,
            quantity=D("1"),
            on=DAY,
        )
    assert (
        session.execute(select(StockLevel).where(StockLevel.warehouse_id == shop.second.id)).first()
        is None
    )


def test_direct_receipts_and_issues_need_inventory_adjust_unless_a_flow_vouches(
    session: Session, shop: Shop
) -> None:
    with pytest.raises(PermissionDenied):
        receive_stock(
            session,
            shop.sales,
            item_id=shop.goods.id,
            warehouse_id=shop.main.id,
            quantity=D("1"),
            on=DAY,
        )
    issue_stock(
        session,
        shop.sales,
        item_id=shop.goods.id,
        warehouse_id=shop.main.id,
        quantity=D("1"),
        on=DAY,
        permission="sales.write",
    )
    with pytest.raises(PermissionDenied):
        issue_stock(
            session,
            shop.viewer,
            item_id=shop.goods.id,
            warehouse_id=shop.main.id,
            quantity=D("1"),
            on=DAY,
            permission="sales.write",
        )
    assert _on_hand(session, shop) == D("19.000")


def test_untracked_items_move_without_levels(session: Session, shop: Shop) -> None:
    move = receive_stock(
        session,
        shop.admin,
        item_id=shop.service.id,
        warehouse_id=shop.main.id,
        quantity=D("3"),
        on=DAY,
    )
    issue_stock(
        session,
        shop.admin,
        item_id=shop.service.id,
        warehouse_id=shop.main.id,
        quantity=D("10"),
        on=DAY,
    )
    assert move.id is not None
    assert (
        session.execute(select(StockLevel).where(StockLevel.item_id == shop.service.id)).first()
        is None
    )
    with pytest.raises(BusinessRuleViolation, match="not tracked"):
        adjust_stock(
            session,
            shop.admin,
            item_id=shop.service.id,
            warehouse_id=shop.main.id,
            quantity_delta=D("1"),
            reason="count",
            on=DAY,
        )


def test_adjustment_needs_a_reason_and_inventory_adjust(session: Session, shop: Shop) -> None:
    with pytest.raises(BusinessRuleViolation, match="reason"):
        adjust_stock(
            session,
            shop.storekeeper,
            item_id=shop.goods.id,
            warehouse_id=shop.main.id,
            quantity_delta=D("-1"),
            reason="  ",
            on=DAY,
        )
    for ctx in (shop.sales, shop.finance, shop.buyer):
        with pytest.raises(PermissionDenied):
            adjust_stock(
                session,
                ctx,
                item_id=shop.goods.id,
                warehouse_id=shop.main.id,
                quantity_delta=D("-1"),
                reason="count",
                on=DAY,
            )
    assert _on_hand(session, shop) == D("20.000")


def test_adjustment_below_zero_is_refused(session: Session, shop: Shop) -> None:
    with pytest.raises(BusinessRuleViolation, match="Not enough G1"):
        adjust_stock(
            session,
            shop.storekeeper,
            item_id=shop.goods.id,
            warehouse_id=shop.main.id,
            quantity_delta=D("-21"),
            reason="stocktake",
            on=DAY,
        )
    assert _on_hand(session, shop) == D("20.000")


def _voucher_sides(session: Session, shop: Shop, move_id: int) -> set[tuple[str, Decimal, Decimal]]:
    voucher = session.execute(
        select(JournalVoucher).where(
            JournalVoucher.source_type == "stock_move", JournalVoucher.source_id == move_id
        )
    ).scalar_one()
    full = ledger_repo.get_voucher(session, shop.finance, voucher.id)
    return {(line.account.code, line.debit, line.credit) for line in full.lines}


def test_a_storekeepers_loss_posts_adjustments_against_inventory_at_cost(
    session: Session, shop: Shop
) -> None:
    move = adjust_stock(
        session,
        shop.storekeeper,
        item_id=shop.goods.id,
        warehouse_id=shop.main.id,
        quantity_delta=D("-2.5"),
        reason="water damage",
        on=DAY,
    )
    assert (move.from_warehouse_id, move.to_warehouse_id, move.quantity) == (
        shop.main.id,
        None,
        D("2.500"),
    )
    assert move.reason == "water damage"
    assert _on_hand(session, shop) == D("17.500")
    # 2.5 x 60.00: Dr 6100 Stock adjustments / Cr 1200 Inventory.
    assert _voucher_sides(session, shop, move.id) == {
        ("6100", D("150.00"), D("0.00")),
        ("1200", D("0.00"), D("150.00")),
    }


def test_an_adjustment_reads_its_two_accounts_once(session: Session, shop: Shop) -> None:
    setup_company_ledger(session, shop.company.id)  # a chart to read (posting sets one up)
    with statements_sent(session, account_reads) as reads:
        move = adjust_stock(
            session,
            shop.storekeeper,
            item_id=shop.goods.id,
            warehouse_id=shop.main.id,
            quantity_delta=D("1"),
            reason="found in count",
            on=DAY,
        )
    # One read of both roles; posting finds them in the session.
    assert len(reads) == 1
    assert _voucher_sides(session, shop, move.id) == {
        ("1200", D("60.00"), D("0.00")),
        ("6100", D("0.00"), D("60.00")),
    }


def test_a_found_surplus_posts_inventory_against_adjustments(session: Session, shop: Shop) -> None:
    move = adjust_stock(
        session,
        shop.storekeeper,
        item_id=shop.goods.id,
        warehouse_id=shop.second.id,
        quantity_delta=D("3"),
        reason="found in count",
        on=DAY,
    )
    assert move.to_warehouse_id == shop.second.id
    assert _on_hand(session, shop, shop.second.id) == D("3.000")
    assert _voucher_sides(session, shop, move.id) == {
        ("1200", D("180.00"), D("0.00")),
        ("6100", D("0.00"), D("180.00")),
    }


def test_transfer_moves_stock_between_warehouses(session: Session, shop: Shop) -> None:
    move = transfer_stock(
        session,
        shop.storekeeper,
        item_id=shop.goods.id,
        from_warehouse_id=shop.main.id,
        to_warehouse_id=shop.second.id,
        quantity=D("8"),
        on=DAY,
    )
    assert (move.from_warehouse_id, move.to_warehouse_id) == (shop.main.id, shop.second.id)
    assert _on_hand(session, shop) == D("12.000")
    assert _on_hand(session, shop, shop.second.id) == D("8.000")
    transfer_stock(
        session,
        shop.storekeeper,
        item_id=shop.goods.id,
        from_warehouse_id=shop.second.id,
        to_warehouse_id=shop.main.id,
        quantity=D("8"),
        on=DAY,
    )
    assert _on_hand(session, shop, shop.second.id) == D("0.000")


def test_transferring_more_than_on_hand_is_refused_and_changes_neither_side(
    session: Session, shop: Shop
) -> None:
    with pytest.raises(BusinessRuleViolation) as err:
        transfer_stock(
            session,
            shop.storekeeper,
            item_id=shop.goods.id,
            from_warehouse_id=shop.main.id,
            to_warehouse_id=shop.second.id,
            quantity=D("25"),
            on=DAY,
        )
    assert err.value.details["warehouse_id"] == shop.main.id
    assert _on_hand(session, shop) == D("20.000")
    assert _on_hand(session, shop, shop.second.id) == D("0.000")


def test_transfer_within_one_warehouse_or_without_permission_is_refused(
    session: Session, shop: Shop
) -> None:
    with pytest.raises(BusinessRuleViolation, match="two different"):
        transfer_stock(
            session,
            shop.storekeeper,
            item_id=shop.goods.id,
            from_warehouse_id=shop.main.id,
            to_warehouse_id=shop.main.id,
            quantity=D("1"),
            on=DAY,
        )
    with pytest.raises(PermissionDenied):
        transfer_stock(
            session,
            shop.sales,
            item_id=shop.goods.id,
            from_warehouse_id=shop.main.id,
            to_warehouse_id=shop.second.id,
            quantity=D("1"),
            on=DAY,
        )


def test_another_companys_item_or_warehouse_is_not_found(session: Session, shop: Shop) -> None:
    other = make_shop(session, "globex", stock="5")
    with pytest.raises(NotFound):
        receive_stock(
            session,
            shop.admin,
            item_id=other.goods.id,
            warehouse_id=shop.main.id,
            quantity=D("1"),
            on=DAY,
        )
    with pytest.raises(NotFound):
        transfer_stock(
            session,
            shop.admin,
            item_id=shop.goods.id,
            from_warehouse_id=shop.main.id,
            to_warehouse_id=other.main.id,
            quantity=D("1"),
            on=DAY,
        )
    with pytest.raises(NotFound):
        issue_stock(
            session,
            shop.admin,
            item_id=shop.goods.id,
            warehouse_id=other.main.id,
            quantity=D("1"),
            on=DAY,
        )
    assert repo.on_hand(session, other.viewer, other.goods.id, other.main.id) == D("5.000")


@pytest.mark.parametrize("quantity", [D("0"), D("-3"), D("1.0001")])
def test_bad_quantities_are_refused(session: Session, shop: Shop, quantity: Decimal) -> None:
    with pytest.raises(BusinessRuleViolation):
        receive_stock(
            session,
            shop.admin,
            item_id=shop.goods.id,
            warehouse_id=shop.main.id,
            quantity=quantity,
            on=DAY,
        )


def test_the_database_itself_refuses_a_negative_level(session: Session, shop: Shop) -> None:
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.execute(
                update(StockLevel)
                .where(StockLevel.item_id == shop.goods.id)
                .values(quantity=D("-1"))
            )
    assert _on_hand(session, shop) == D("20.000")


def test_every_move_is_audited_with_the_level_before_and_after(
    session: Session, shop: Shop
) -> None:
    move = issue_stock(
        session,
        shop.storekeeper,
        item_id=shop.goods.id,
        warehouse_id=shop.main.id,
        quantity=D("4"),
        on=dt.date(2026, 3, 5),
        reference="SO-2026-0009",
    )
    entry = session.execute(
        select(AuditEntry).where(
            AuditEntry.entity_type == "stock_move", AuditEntry.entity_id == str(move.id)
        )
    ).scalar_one()
    assert entry.action == "stock.issue"
    assert entry.old_values == {"on_hand": "20.000"}
    assert entry.new_values is not None
    assert entry.new_values["on_hand"] == "16.000"
    assert entry.new_values["reference"] == "SO-2026-0009"
    assert entry.new_values["move_date"] == "2026-03-05"


def test_levels_reorder_report_and_valuation(session: Session, shop: Shop) -> None:
    transfer_stock(
        session,
        shop.storekeeper,
        item_id=shop.goods.id,
        from_warehouse_id=shop.main.id,
        to_warehouse_id=shop.second.id,
        quantity=D("17"),
        on=DAY,
    )
    other = make_shop(session, "globex", stock="1")
    rows, total = repo.list_levels(session, shop.viewer)
    assert total == 2
    assert [(r.warehouse_code, r.quantity) for r in rows] == [
        ("MAIN", D("3.000")),
        ("WEST", D("17.000")),
    ]
    rows, total = repo.list_levels(session, shop.viewer, warehouse_id=shop.second.id)
    assert total == 1 and rows[0].sku == "G1"
    short = repo.below_reorder(session, shop.viewer)
    assert [(r.warehouse_code, r.quantity, r.shortfall, r.reorder_qty) for r in short] == [
        ("MAIN", D("3.000"), D("2.000"), D("20.000"))
    ]
    assert repo.below_reorder(session, shop.viewer, warehouse_id=shop.second.id) == []
    valuation, value = repo.valuation(session, shop.viewer)
    assert [(r.warehouse_code, r.value) for r in valuation] == [
        ("MAIN", D("180.00")),
        ("WEST", D("1020.00")),
    ]
    assert value == D("1200.00")
    assert repo.valuation(session, other.viewer)[1] == D("60.00")
