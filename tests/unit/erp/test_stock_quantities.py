from decimal import Decimal

import pytest

from companion.erp.stock.accounting import stock_value
from companion.erp.stock.service import check_quantity
from companion.errors import BusinessRuleViolation


def test_quantities_up_to_three_decimals_pass_as_decimals() -> None:
    assert check_quantity(Decimal("1.125")) == Decimal("1.125")
    assert check_quantity(3) == Decimal("3")
    assert check_quantity("0.5") == Decimal("0.5")


@pytest.mark.parametrize("value", [Decimal("0"), Decimal("-1"), Decimal("0.0001"), Decimal("NaN")])
def test_zero_negative_too_precise_or_not_a_number_is_refused(value: Decimal) -> None:
    with pytest.raises(BusinessRuleViolation):
        check_quantity(value)


def test_floats_are_refused_outright() -> None:
    with pytest.raises(TypeError):
        check_quantity(1.5)  # type: ignore[arg-type]


def test_stock_value_rounds_half_up_to_cents() -> None:
    assert stock_value(Decimal("3"), Decimal("0.335")) == Decimal("1.01")
    assert stock_value(Decimal("1.5"), Decimal("60.00")) == Decimal("90.00")
