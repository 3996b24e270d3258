import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.audit.models import AuditEntry
from companion.audit.service import verify
from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import InvoiceKind, InvoiceStatus
from companion.erp.purchasing import repository as repo
from companion.erp.purchasing.approvals import pending_approval_numbers
from companion.erp.purchasing.models import POStatus, PurchaseOrder, TaskStatus
from companion.erp.purchasing.schemas import ApprovalLevelIn
from companion.erp.purchasing.service import (
    approve_purchase_order,
    bill_purchase_order,
    cancel_purchase_order,
    create_purchase_order,
    pending_approvals_for,
    receive_purchase_order,
    reject_purchase_order,
    set_approval_levels,
    submit_purchase_order,
)
from companion.erp.stock import repository as stock_repo
from companion.errors import BusinessRuleViolation, InvalidState, NotFound, PermissionDenied
from companion.tenancy.context import RequestContext
from factories import make_company, make_context
from operations_factories import DAY, Shop, make_shop

D = Decimal
LATER = DAY + dt.timedelta(days=7)


def _levels(user_id: int | None = None) -> list[ApprovalLevelIn]:
    """Buyer from 0, a second procurement approver from 1,000, the executive from 10,000."""
    return [
        ApprovalLevelIn(level=1, name="Buyer", min_amount=D("0"), role="procurement"),
        ApprovalLevelIn(
            level=2, name="Senior buyer", min_amount=D("1000"), role="procurement", user_id=user_id
        ),
        ApprovalLevelIn(level=3, name="Executive", min_amount=D("10000"), role="executive"),
    ]


@pytest.fixture
def shop(session: Session) -> Shop:
    shop = make_shop(session, "acme", stock=None)
    set_approval_levels(session, shop.company.id, _levels())
    return shop


def _po(session: Session, shop: Shop, qty: str = "10", price: str | None = None) -> PurchaseOrder:
    """``qty`` widgets at cost 60.00 (or ``price``) + 10% tax into the main warehouse."""
    return create_purchase_order(
        session,
        shop.buyer,
        supplier_id=shop.supplier.id,
        order_date=DAY,
        warehouse_id=shop.main.id,
        expected_date=LATER,
        lines=[
            DocLineIn(
                item_id=shop.goods.id,
                quantity=D(qty),
                unit_price=D(price) if price is not None else None,
            )
        ],
    )


def _submitted(session: Session, shop: Shop, total_price: str) -> PurchaseOrder:
    """A submitted order of one untaxed service line of ``total_price``."""
    order = create_purchase_order(
        session,
        shop.buyer,
        supplier_id=shop.supplier.id,
        order_date=DAY,
        lines=[DocLineIn(item_id=shop.service.id, quantity=D("1"), unit_price=D(total_price))],
    )
    return submit_purchase_order(session, shop.buyer, order.id)


def _tasks(order: PurchaseOrder) -> list[tuple[int, str]]:
    return [(t.level, t.status) for t in order.tasks]


# --- levels ---------------------------------------------------------------------------


def test_levels_are_replaced_as_a_whole_and_audited(session: Session, shop: Shop) -> None:
    set_approval_levels(
        session,
        shop.company.id,
        [ApprovalLevelIn(level=1, name="Only", min_amount=D("500"), role="executive")],
    )
    assert [(lv.level, lv.name) for lv in repo.levels_of(session, shop.company.id)] == [(1, "Only")]
    entry = session.execute(
        select(AuditEntry)
        .where(AuditEntry.action == "approval_levels.set")
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).scalar_one()
    assert entry.old_values is not None and len(entry.old_values["levels"]) == 3
    assert entry.new_values == {
        "levels": [
            {
                "level": 1,
                "name": "Only",
                "min_amount": "500.00",
                "role": "executive",
                "user_id": None,
            }
        ]
    }


@pytest.mark.parametrize(
    ("level", "message"),
    [
        (ApprovalLevelIn(level=1, name="X", min_amount=D("0"), role="sales"), "cannot approve"),
        (ApprovalLevelIn(level=1, name="X", min_amount=D("0"), role="boss"), "unknown role"),
    ],
)
def test_a_level_nobody_could_approve_is_refused(
    session: Session, shop: Shop, level: ApprovalLevelIn, message: str
) -> None:
    with pytest.raises(BusinessRuleViolation, match=message):
        set_approval_levels(session, shop.company.id, [level])
    assert len(repo.levels_of(session, shop.company.id)) == 3


def test_duplicate_levels_and_foreign_users_are_refused(session: Session, shop: Shop) -> None:
    twice = [
        ApprovalLevelIn(level=1, name="A", min_amount=D("0"), role="procurement"),
        ApprovalLevelIn(level=1, name="B", min_amount=D("5"), role="executive"),
    ]
    with pytest.raises(BusinessRuleViolation, match="unique"):
        set_approval_levels(session, shop.company.id, twice)
    outsider = make_context(session, make_company(session, "globex"), ["procurement"])
    with pytest.raises(BusinessRuleViolation, match="not a member"):
        set_approval_levels(session, shop.company.id, _levels(user_id=outsider.user_id))
    with pytest.raises(BusinessRuleViolation, match="cannot approve"):
        set_approval_levels(session, shop.company.id, _levels(user_id=shop.sales.user_id))


# --- creating and submitting ------------------------------------------------------------


def test_a_new_order_is_a_draft_priced_at_cost(session: Session, shop: Shop) -> None:
    order = _po(session, shop)
    assert (order.number, order.status, order.expected_date) == ("PO-2026-0001", "draft", LATER)
    assert (order.subtotal, order.tax_total, order.total) == (D("600.00"), D("60.00"), D("660.00"))
    assert order.lines[0].unit_price == D("60.00")
    assert order.tasks == []


def test_creating_needs_procurement_write_and_sane_dates(session: Session, shop: Shop) -> None:
    with pytest.raises(PermissionDenied):
        create_purchase_order(
            session,
            shop.storekeeper,
            supplier_id=shop.supplier.id,
            order_date=DAY,
            lines=[DocLineIn(item_id=shop.service.id, quantity=D("1"))],
        )
    with pytest.raises(BusinessRuleViolation, match="expected date"):
        create_purchase_order(
            session,
            shop.buyer,
            supplier_id=shop.supplier.id,
            order_date=DAY,
            expected_date=DAY - dt.timedelta(days=1),
            lines=[DocLineIn(item_id=shop.service.id, quantity=D("1"))],
        )
    assert repo.list_orders(session, shop.buyer) == ([], 0)


def test_another_companys_supplier_or_item_is_not_found(session: Session, shop: Shop) -> None:
    other = make_shop(session, "globex", stock=None)
    with pytest.raises(NotFound):
        create_purchase_order(
            session,
            shop.buyer,
            supplier_id=other.supplier.id,
            order_date=DAY,
            lines=[DocLineIn(item_id=shop.service.id, quantity=D("1"))],
        )
    with pytest.raises(NotFound):
        create_purchase_order(
            session,
            shop.buyer,
            supplier_id=shop.supplier.id,
            order_date=DAY,
            lines=[DocLineIn(item_id=other.service.id, quantity=D("1"))],
        )


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("999.99", [(1, "pending")]),
        ("1000.00", [(1, "pending"), (2, "waiting")]),
        ("25000.00", [(1, "pending"), (2, "waiting"), (3, "waiting")]),
    ],
)
def test_submitting_opens_one_task_per_level_the_total_reaches(
    session: Session, shop: Shop, amount: str, expected: list[tuple[int, str]]
) -> None:
    order = _submitted(session, shop, amount)
    assert order.status == POStatus.PENDING_APPROVAL
    assert _tasks(order) == expected
    assert order.tasks[-1].assigned_role == ("executive" if len(expected) == 3 else "procurement")


def test_an_order_below_every_level_is_approved_at_once(session: Session, shop: Shop) -> None:
    set_approval_levels(
        session,
        shop.company.id,
        [ApprovalLevelIn(level=1, name="Big", min_amount=D("5000"), role="procurement")],
    )
    order = _submitted(session, shop, "4999.99")
    assert (order.status, order.tasks) == (POStatus.APPROVED, [])


def test_submitting_twice_is_invalid_state(session: Session, shop: Shop) -> None:
    order = _submitted(session, shop, "10")
    with pytest.raises(InvalidState):
        submit_purchase_order(session, shop.buyer, order.id)


# --- approving ------------------------------------------------------------------------


def test_levels_are_approved_in_order_by_different_people(session: Session, shop: Shop) -> None:
    senior = shop.ctx(["procurement"], "acme-senior-buyer")
    order = _submitted(session, shop, "20000")
    approve_purchase_order(session, shop.buyer, order.id, comment=" ok ")
    assert _tasks(order) == [(1, "approved"), (2, "pending"), (3, "waiting")]
    assert (order.tasks[0].decided_by_id, order.tasks[0].comment) == (shop.buyer.user_id, "ok")
    assert order.tasks[0].decided_at is not None
    approve_purchase_order(session, senior, order.id)
    assert order.status == POStatus.PENDING_APPROVAL
    approve_purchase_order(session, shop.executive, order.id)
    assert order.status == POStatus.APPROVED
    assert _tasks(order) == [(1, "approved"), (2, "approved"), (3, "approved")]
    assert verify(session).ok


def test_the_same_user_may_not_approve_two_levels(session: Session, shop: Shop) -> None:
    order = _submitted(session, shop, "2000")
    approve_purchase_order(session, shop.buyer, order.id)
    with pytest.raises(PermissionDenied) as err:
        approve_purchase_order(session, shop.buyer, order.id)
    assert "already approved level 1" in err.value.message
    assert _tasks(order) == [(1, "approved"), (2, "pending")]


def test_approving_at_the_wrong_level_names_who_must_act(session: Session, shop: Shop) -> None:
    order = _submitted(session, shop, "20000")
    approve_purchase_order(session, shop.buyer, order.id)
    approve_purchase_order(session, shop.ctx(["procurement"], "acme-senior"), order.id)
    # Level 3 belongs to the executive role; another procurement user cannot take it.
    with pytest.raises(PermissionDenied) as err:
        approve_purchase_order(session, shop.ctx(["procurement"], "acme-third"), order.id)
    assert "level 3 (Executive)" in err.value.message
    assert "role executive" in err.value.message
    assert err.value.details["level"] == 3 and err.value.details["role"] == "executive"
    assert order.status == POStatus.PENDING_APPROVAL


def test_no_level_can_be_skipped(session: Session, shop: Shop) -> None:
    order = _submitted(session, shop, "20000")
    with pytest.raises(PermissionDenied, match="level 1"):
        approve_purchase_order(session, shop.executive, order.id)
    assert _tasks(order) == [(1, "pending"), (2, "waiting"), (3, "waiting")]


def test_approving_needs_procurement_approve(session: Session, shop: Shop) -> None:
    order = _submitted(session, shop, "10")
    with pytest.raises(PermissionDenied, match="procurement.approve"):
        approve_purchase_order(session, shop.sales, order.id)
    with pytest.raises(PermissionDenied):
        reject_purchase_order(session, shop.storekeeper, order.id)


def test_a_level_named_for_a_user_is_theirs_alone(session: Session, shop: Shop) -> None:
    senior = shop.ctx(["procurement"], "acme-senior")
    set_approval_levels(session, shop.company.id, _levels(user_id=senior.user_id))
    order = _submitted(session, shop, "5000")
    approve_purchase_order(session, shop.buyer, order.id)
    with pytest.raises(PermissionDenied, match="user acme-senior"):
        approve_purchase_order(session, shop.ctx(["procurement"], "acme-other"), order.id)
    assert [t.id for t in pending_approvals_for(session, senior)] == [order.tasks[1].id]
    approve_purchase_order(session, senior, order.id)
    assert order.status == POStatus.APPROVED


def test_approving_a_draft_or_approved_order_is_invalid_state(session: Session, shop: Shop) -> None:
    draft = _po(session, shop)
    with pytest.raises(InvalidState, match="draft"):
        approve_purchase_order(session, shop.buyer, draft.id)
    order = _submitted(session, shop, "10")
    approve_purchase_order(session, shop.buyer, order.id)
    with pytest.raises(InvalidState, match="approved"):
        approve_purchase_order(session, shop.ctx(["procurement"], "acme-late"), order.id)


# --- rejecting ------------------------------------------------------------------------


def test_rejecting_stops_the_order_and_skips_later_levels(session: Session, shop: Shop) -> None:
    order = _submitted(session, shop, "20000")
    approve_purchase_order(session, shop.buyer, order.id)
    reject_purchase_order(
        session, shop.ctx(["procurement"], "acme-senior"), order.id, comment="too dear"
    )
    assert order.status == POStatus.REJECTED
    assert _tasks(order) == [(1, "approved"), (2, "rejected"), (3, "skipped")]
    assert order.tasks[1].comment == "too dear"
    entry = session.execute(
        select(AuditEntry).where(AuditEntry.action == "purchase_order.reject")
    ).scalar_one()
    assert entry.old_values is not None and entry.old_values["status"] == "pending_approval"
    assert entry.new_values is not None and entry.new_values["status"] == "rejected"


def test_a_rejected_order_cannot_be_approved_or_received(session: Session, shop: Shop) -> None:
    order = _submitted(session, shop, "20000")
    reject_purchase_order(session, shop.buyer, order.id)
    with pytest.raises(InvalidState, match="rejected"):
        approve_purchase_order(session, shop.ctx(["procurement"], "acme-senior"), order.id)
    with pytest.raises(InvalidState):
        receive_purchase_order(session, shop.buyer, order.id, on=DAY)
    with pytest.raises(InvalidState):
        cancel_purchase_order(session, shop.buyer, order.id, reason="x")


def test_rejecting_at_the_wrong_level_is_refused(session: Session, shop: Shop) -> None:
    order = _submitted(session, shop, "20000")
    with pytest.raises(PermissionDenied, match="must reject"):
        reject_purchase_order(session, shop.executive, order.id)
    assert order.status == POStatus.PENDING_APPROVAL


# --- pending approvals ----------------------------------------------------------------


def test_pending_approvals_are_what_the_caller_can_decide_now(session: Session, shop: Shop) -> None:
    small = _submitted(session, shop, "10")
    big = _submitted(session, shop, "20000")
    other = make_shop(session, "globex", stock=None)
    set_approval_levels(session, other.company.id, _levels())
    _submitted(session, other, "10")

    def pending(ctx: RequestContext) -> list[tuple[str, int]]:
        return [(t.order.number, t.level) for t in pending_approvals_for(session, ctx)]

    assert pending(shop.buyer) == [(small.number, 1), (big.number, 1)]
    assert pending(shop.executive) == []
    assert pending(shop.sales) == []
    approve_purchase_order(session, shop.buyer, big.id)
    # The buyer approved level 1 of the big order, so its level 2 is someone else's.
    assert pending(shop.buyer) == [(small.number, 1)]
    assert pending(shop.ctx(["procurement"], "acme-senior")) == [
        (small.number, 1),
        (big.number, 2),
    ]
    approve_purchase_order(session, shop.ctx(["procurement"], "acme-senior"), big.id)
    assert pending(shop.executive) == [(big.number, 3)]


def test_pending_approval_numbers_are_the_first_pending_approvals(
    session: Session, shop: Shop
) -> None:
    """What a chat turn's context names: ``pending_approvals_for``'s orders, read as rows."""
    senior = shop.ctx(["procurement"], "acme-senior")
    set_approval_levels(session, shop.company.id, _levels(user_id=senior.user_id))
    small = _submitted(session, shop, "10")
    big = _submitted(session, shop, "20000")
    other = make_shop(session, "globex", stock=None)
    set_approval_levels(session, other.company.id, _levels())
    _submitted(session, other, "10")
    callers = [shop.buyer, senior, shop.executive, shop.sales, other.buyer]

    def agree() -> None:
        for ctx in callers:
            every = [t.order.number for t in pending_approvals_for(session, ctx)]
            for limit in (0, 1, 3):
                assert pending_approval_numbers(session, ctx, limit) == every[:limit]

    agree()
    assert pending_approval_numbers(session, shop.buyer, 3) == [small.number, big.number]
    approve_purchase_order(session, shop.buyer, big.id)  # level 2 is the named senior's
    agree()
    assert pending_approval_numbers(session, shop.buyer, 3) == [small.number]
    assert pending_approval_numbers(session, senior, 3) == [small.number, big.number]
    approve_purchase_order(session, senior, big.id)
    agree()
    assert pending_approval_numbers(session, shop.executive, 3) == [big.number]


# --- receiving and billing ------------------------------------------------------------


def _approved(session: Session, shop: Shop, qty: str = "10") -> PurchaseOrder:
    order = _po(session, shop, qty)
    submit_purchase_order(session, shop.buyer, order.id)
    approve_purchase_order(session, shop.buyer, order.id)
    assert order.status == POStatus.APPROVED
    return order


def test_partial_then_full_receipt_puts_stock_in_the_warehouse(
    session: Session, shop: Shop
) -> None:
    order = _approved(session, shop, "10")
    line = order.lines[0]
    receive_purchase_order(
        session, shop.storekeeper, order.id, on=DAY, quantities={line.id: D("4")}
    )
    assert (order.status, line.received_quantity) == (POStatus.PARTIALLY_RECEIVED, D("4.000"))
    assert stock_repo.on_hand(session, shop.viewer, shop.goods.id, shop.main.id) == D("4.000")
    receive_purchase_order(session, shop.buyer, order.id, on=LATER)
    assert (order.status, line.received_quantity) == (POStatus.RECEIVED, D("10.000"))
    moves = stock_repo.moves_by_reference(session, shop.viewer, order.number)
    assert [(m.quantity, m.unit_cost, m.move_date) for m in moves] == [
        (D("4.000"), D("60.00"), DAY),
        (D("6.000"), D("60.00"), LATER),
    ]


def test_receipts_are_costed_net_of_the_line_discount(session: Session, shop: Shop) -> None:
    order = create_purchase_order(
        session,
        shop.buyer,
        supplier_id=shop.supplier.id,
        order_date=DAY,
        warehouse_id=shop.second.id,
        lines=[DocLineIn(item_id=shop.goods.id, quantity=D("2"), discount_pct=D("12.5"))],
    )
    submit_purchase_order(session, shop.buyer, order.id)
    approve_purchase_order(session, shop.buyer, order.id)
    receive_purchase_order(session, shop.buyer, order.id, on=DAY)
    (move,) = stock_repo.moves_by_reference(session, shop.viewer, order.number)
    assert (move.to_warehouse_id, move.unit_cost) == (shop.second.id, D("52.50"))


def test_receiving_more_than_outstanding_or_a_foreign_line_is_refused(
    session: Session, shop: Shop
) -> None:
    order = _approved(session, shop, "10")
    line = order.lines[0]
    receive_purchase_order(session, shop.buyer, order.id, on=DAY, quantities={line.id: D("8")})
    with pytest.raises(BusinessRuleViolation, match="more than the 2.000 outstanding"):
        receive_purchase_order(
            session, shop.buyer, order.id, on=DAY, quantities={line.id: D("2.001")}
        )
    with pytest.raises(BusinessRuleViolation, match="not on"):
        receive_purchase_order(session, shop.buyer, order.id, on=DAY, quantities={99999: D("1")})
    with pytest.raises(BusinessRuleViolation, match="Nothing to receive"):
        receive_purchase_order(session, shop.buyer, order.id, on=DAY, quantities={line.id: D("0")})
    assert line.received_quantity == D("8.000")
    assert stock_repo.on_hand(session, shop.viewer, shop.goods.id, shop.main.id) == D("8.000")


def test_goods_arrive_only_on_approved_orders_and_for_permitted_users(
    session: Session, shop: Shop
) -> None:
    order = _po(session, shop)
    with pytest.raises(InvalidState, match="approved"):
        receive_purchase_order(session, shop.buyer, order.id, on=DAY)
    submit_purchase_order(session, shop.buyer, order.id)
    approve_purchase_order(session, shop.buyer, order.id)
    with pytest.raises(PermissionDenied):
        receive_purchase_order(session, shop.sales, order.id, on=DAY)
    with pytest.raises(BusinessRuleViolation, match="before the order date"):
        receive_purchase_order(session, shop.buyer, order.id, on=DAY - dt.timedelta(days=1))
    assert order.status == POStatus.APPROVED


def test_billing_what_arrived_then_the_rest_closes_the_order(session: Session, shop: Shop) -> None:
    order = _approved(session, shop, "10")
    line = order.lines[0]
    with pytest.raises(InvalidState, match="only received goods"):
        bill_purchase_order(session, shop.finance, order.id, on=DAY)
    receive_purchase_order(session, shop.buyer, order.id, on=DAY, quantities={line.id: D("4")})
    first = bill_purchase_order(session, shop.finance, order.id, on=DAY)
    assert (first.kind, first.status, first.purchase_order_id) == (
        InvoiceKind.AP,
        InvoiceStatus.POSTED,
        order.id,
    )
    assert (first.supplier_id, first.total, first.number) == (
        shop.supplier.id,
        D("264.00"),
        "BILL-2026-0001",
    )
    assert order.status == POStatus.PARTIALLY_RECEIVED
    with pytest.raises(InvalidState, match="already billed"):
        bill_purchase_order(session, shop.finance, order.id, on=DAY)
    receive_purchase_order(session, shop.buyer, order.id, on=LATER)
    assert order.status == POStatus.RECEIVED
    second = bill_purchase_order(session, shop.finance, order.id, on=LATER)
    assert second.total == D("396.00")
    assert (order.status, line.billed_quantity) == (POStatus.CLOSED, D("10.000"))
    assert first.total + second.total == order.total
    with pytest.raises(InvalidState):
        bill_purchase_order(session, shop.finance, order.id, on=LATER)
    assert verify(session).ok


def test_billing_needs_finance_post(session: Session, shop: Shop) -> None:
    order = _approved(session, shop, "1")
    receive_purchase_order(session, shop.buyer, order.id, on=DAY)
    with pytest.raises(PermissionDenied, match="finance.post"):
        bill_purchase_order(session, shop.buyer, order.id, on=DAY)
    assert order.lines[0].billed_quantity == D("0.000")


# --- cancelling -----------------------------------------------------------------------


def test_cancelling_a_pending_order_skips_its_open_tasks(session: Session, shop: Shop) -> None:
    order = _submitted(session, shop, "20000")
    approve_purchase_order(session, shop.buyer, order.id)
    cancel_purchase_order(session, shop.buyer, order.id, reason="budget cut")
    assert (order.status, order.cancel_reason) == (POStatus.CANCELLED, "budget cut")
    assert _tasks(order) == [(1, "approved"), (2, "skipped"), (3, "skipped")]
    assert pending_approvals_for(session, shop.executive) == []


def test_cancelling_after_goods_arrived_or_without_reason_is_refused(
    session: Session, shop: Shop
) -> None:
    order = _approved(session, shop, "10")
    with pytest.raises(BusinessRuleViolation, match="reason"):
        cancel_purchase_order(session, shop.buyer, order.id, reason=" ")
    receive_purchase_order(
        session, shop.buyer, order.id, on=DAY, quantities={order.lines[0].id: D("1")}
    )
    with pytest.raises(InvalidState, match="partially_received"):
        cancel_purchase_order(session, shop.buyer, order.id, reason="late")


def test_another_companys_order_is_not_found_for_every_step(session: Session, shop: Shop) -> None:
    other = make_shop(session, "globex", stock=None)
    set_approval_levels(session, other.company.id, _levels())
    theirs = _submitted(session, other, "10")
    for step in (
        lambda: approve_purchase_order(session, shop.buyer, theirs.id),
        lambda: reject_purchase_order(session, shop.buyer, theirs.id),
        lambda: submit_purchase_order(session, shop.buyer, theirs.id),
        lambda: receive_purchase_order(session, shop.buyer, theirs.id, on=DAY),
        lambda: bill_purchase_order(session, shop.admin, theirs.id, on=DAY),
        lambda: cancel_purchase_order(session, shop.buyer, theirs.id, reason="x"),
        lambda: repo.get_order_by_number(session, shop.buyer, theirs.number),
    ):
        with pytest.raises(NotFound):
            step()
    assert _tasks(theirs) == [(1, "pending")]


def test_listing_filters_by_status_supplier_and_dates(session: Session, shop: Shop) -> None:
    draft = _po(session, shop)
    pending = _submitted(session, shop, "10")
    rows, total = repo.list_orders(session, shop.viewer)
    assert total == 2 and {r.id for r in rows} == {draft.id, pending.id}
    rows, _ = repo.list_orders(session, shop.viewer, status="pending_approval")
    assert [r.id for r in rows] == [pending.id]
    rows, _ = repo.list_orders(session, shop.viewer, supplier_id=shop.supplier.id, date_to=DAY)
    assert len(rows) == 2
    assert repo.list_orders(session, shop.viewer, date_from=LATER) == ([], 0)
    assert repo.get_order_by_number(session, shop.viewer, pending.number).id == pending.id
    assert {t.status for t in pending.tasks} == {TaskStatus.PENDING}
