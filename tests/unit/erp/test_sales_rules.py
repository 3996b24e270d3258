from decimal import Decimal

import pytest

from companion.erp.sales.models import SalesOrderStatus as S
from companion.erp.sales.rules import (
    TRANSITIONS,
    Shortage,
    can_transition,
    check_credit_limit,
    check_transition,
    shortages,
    total_by_item,
)
from companion.errors import BusinessRuleViolation, InvalidState

D = Decimal

ALLOWED = {
    (S.DRAFT, S.CONFIRMED),
    (S.DRAFT, S.CANCELLED),
    (S.CONFIRMED, S.DELIVERED),
    (S.CONFIRMED, S.CANCELLED),
    (S.DELIVERED, S.INVOICED),
}


def test_every_status_has_a_row_in_the_table() -> None:
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_transition_table_is_exactly_the_documented_flow(current: S, target: S) -> None:
    assert can_transition(current.value, target) is ((current, target) in ALLOWED)


def test_forbidden_transition_names_where_the_target_can_be_reached_from() -> None:
    with pytest.raises(InvalidState) as err:
        check_transition("delivered", S.CANCELLED, "SO-2026-0001")
    assert "SO-2026-0001 is delivered" in err.value.message
    assert err.value.details["from"] == ["confirmed", "draft"]
    assert err.value.status_code == 409


def test_allowed_transition_passes_silently() -> None:
    check_transition("confirmed", S.DELIVERED, "SO-2026-0001")


def test_terminal_statuses_go_nowhere() -> None:
    for status in (S.INVOICED, S.CANCELLED):
        assert not any(can_transition(status.value, t) for t in S)


def test_shortages_lists_only_items_short_and_treats_missing_as_zero() -> None:
    needed = {2: D("5"), 1: D("3"), 3: D("1")}
    available = {1: D("3"), 2: D("4.5")}
    assert shortages(needed, available) == [
        Shortage(2, D("5"), D("4.5")),
        Shortage(3, D("1"), D("0")),
    ]


def test_total_by_item_sums_repeated_items() -> None:
    assert total_by_item([(1, D("2")), (2, D("1")), (1, D("0.5"))]) == {1: D("2.5"), 2: D("1")}


def test_zero_credit_limit_means_no_limit() -> None:
    check_credit_limit(D("0"), D("1000000"), D("5"))


def test_credit_limit_allows_reaching_the_limit_exactly() -> None:
    check_credit_limit(D("1000.00"), D("600.00"), D("400.00"))


def test_credit_limit_refuses_exposure_above_it_with_the_figures() -> None:
    with pytest.raises(BusinessRuleViolation) as err:
        check_credit_limit(D("1000.00"), D("600.00"), D("400.01"))
    assert err.value.details == {
        "credit_limit": "1000.00",
        "open_receivables": "600.00",
        "order_total": "400.01",
        "exceeded_by": "0.01",
    }
    assert err.value.status_code == 422
