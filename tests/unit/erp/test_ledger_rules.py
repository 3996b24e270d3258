from decimal import Decimal

import pytest

from companion.erp.ledger.rules import (
    check_amount,
    check_journal_lines,
    mirror,
    natural_balance,
    next_bank_code,
    trial_balance_sides,
)
from companion.errors import BusinessRuleViolation

D = Decimal
Z = D("0")


def test_a_balanced_voucher_returns_its_total() -> None:
    lines = [(D("100.00"), Z), (Z, D("60.00")), (Z, D("40.00"))]
    assert check_journal_lines(lines) == D("100.00")


def test_an_unbalanced_voucher_is_refused_with_the_difference() -> None:
    with pytest.raises(BusinessRuleViolation) as err:
        check_journal_lines([(D("100.00"), Z), (Z, D("99.99"))])
    assert err.value.details == {"debit": "100.00", "credit": "99.99", "difference": "0.01"}


def test_an_empty_voucher_is_refused() -> None:
    with pytest.raises(BusinessRuleViolation, match="at least one line"):
        check_journal_lines([])


@pytest.mark.parametrize(
    ("debit", "credit", "message"),
    [
        (D("10"), D("10"), "both a debit and a credit"),
        (Z, Z, "no amount"),
        (D("-5"), Z, "negative"),
        (D("1.005"), Z, "more than two decimals"),
    ],
)
def test_a_bad_line_is_refused_and_named(debit: Decimal, credit: Decimal, message: str) -> None:
    lines = [(D("1.00"), Z), (debit, credit)]
    with pytest.raises(BusinessRuleViolation, match=message) as err:
        check_journal_lines(lines)
    assert "line 2" in err.value.message.lower()


def test_mirror_swaps_every_side() -> None:
    assert mirror([(D("5"), Z), (Z, D("5"))]) == [(Z, D("5")), (D("5"), Z)]


def test_natural_balance_follows_the_account_type() -> None:
    assert natural_balance("asset", D("100"), D("30")) == D("70")
    assert natural_balance("expense", D("100"), D("30")) == D("70")
    assert natural_balance("liability", D("30"), D("100")) == D("70")
    assert natural_balance("income", D("0"), D("80")) == D("80")
    assert natural_balance("equity", D("10"), D("0")) == D("-10")


def test_trial_balance_puts_the_net_in_one_column() -> None:
    assert trial_balance_sides(D("100"), D("30")) == (D("70"), Z)
    assert trial_balance_sides(D("30"), D("100")) == (Z, D("70"))
    assert trial_balance_sides(D("5"), D("5")) == (Z, Z)


def test_bank_codes_run_1010_1020_then_fill_the_gaps() -> None:
    assert next_bank_code({"1100", "2000"}) == "1010"
    assert next_bank_code({"1010", "1020"}) == "1030"
    tens = {str(c) for c in range(1010, 1100, 10)}
    assert next_bank_code(tens) == "1001"


def test_bank_codes_can_run_out() -> None:
    with pytest.raises(BusinessRuleViolation, match="No free account code"):
        next_bank_code({str(c) for c in range(1001, 1100)})


def test_check_amount_keeps_cents_and_refuses_fractions_of_a_cent() -> None:
    assert check_amount(D("12.5")) == D("12.50")
    assert str(check_amount(D("12.5"))) == "12.50"
    with pytest.raises(BusinessRuleViolation, match="more than two decimals"):
        check_amount(D("0.001"))
    with pytest.raises(BusinessRuleViolation, match="not a number"):
        check_amount(D("NaN"))
