from dataclasses import dataclass
from decimal import Decimal

import pytest

from companion.erp.purchasing.models import POStatus as S
from companion.erp.purchasing.rules import (
    BILLABLE,
    RECEIVABLE,
    TRANSITIONS,
    applicable_levels,
    can_transition,
    check_transition,
    may_act,
    receipt_status,
)
from companion.errors import InvalidState

D = Decimal

ALLOWED = {
    (S.DRAFT, S.PENDING_APPROVAL),
    (S.DRAFT, S.APPROVED),
    (S.DRAFT, S.CANCELLED),
    (S.PENDING_APPROVAL, S.APPROVED),
    (S.PENDING_APPROVAL, S.REJECTED),
    (S.PENDING_APPROVAL, S.CANCELLED),
    (S.APPROVED, S.PARTIALLY_RECEIVED),
    (S.APPROVED, S.RECEIVED),
    (S.APPROVED, S.CANCELLED),
    (S.PARTIALLY_RECEIVED, S.PARTIALLY_RECEIVED),
    (S.PARTIALLY_RECEIVED, S.RECEIVED),
    (S.RECEIVED, S.CLOSED),
}


@dataclass(frozen=True)
class Level:
    level: int
    min_amount: Decimal


LEVELS = [Level(3, D("50000")), Level(1, D("0")), Level(2, D("5000"))]


def test_every_status_has_a_row_in_the_table() -> None:
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_transition_table_is_exactly_the_documented_flow(current: S, target: S) -> None:
    assert can_transition(current.value, target) is ((current, target) in ALLOWED)


def test_nothing_leaves_rejected_closed_or_cancelled() -> None:
    for status in (S.REJECTED, S.CLOSED, S.CANCELLED):
        assert not any(can_transition(status.value, t) for t in S)
        with pytest.raises(InvalidState):
            check_transition(status.value, S.APPROVED, "PO-2026-0001")


def test_receipts_and_bills_only_after_approval() -> None:
    assert RECEIVABLE == {S.APPROVED, S.PARTIALLY_RECEIVED}
    assert BILLABLE == {S.PARTIALLY_RECEIVED, S.RECEIVED}


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (D("0.00"), [1]),
        (D("4999.99"), [1]),
        (D("5000.00"), [1, 2]),
        (D("49999.99"), [1, 2]),
        (D("50000.00"), [1, 2, 3]),
        (D("1000000"), [1, 2, 3]),
    ],
)
def test_levels_apply_from_their_minimum_inclusive_lowest_first(
    amount: Decimal, expected: list[int]
) -> None:
    assert [lv.level for lv in applicable_levels(LEVELS, amount)] == expected


def test_no_level_applies_below_every_minimum() -> None:
    assert applicable_levels([Level(1, D("100"))], D("99.99")) == []


def test_a_named_user_decides_alone() -> None:
    kwargs = {"assigned_role": "procurement", "assigned_user_id": 7}
    assert may_act(**kwargs, user_id=7, roles=["viewer"])
    assert not may_act(**kwargs, user_id=8, roles=["procurement"])


def test_without_a_named_user_the_role_decides() -> None:
    assert may_act(assigned_role="executive", assigned_user_id=None, user_id=1, roles=["executive"])
    assert not may_act(
        assigned_role="executive", assigned_user_id=None, user_id=1, roles=["procurement"]
    )


def test_receipt_status_is_received_only_when_every_line_is_complete() -> None:
    assert receipt_status([(D("5"), D("5")), (D("2"), D("2"))]) == S.RECEIVED
    assert receipt_status([(D("5"), D("5")), (D("2"), D("1"))]) == S.PARTIALLY_RECEIVED
    assert receipt_status([(D("5"), D("0"))]) == S.PARTIALLY_RECEIVED
