"""Double-entry rules as pure functions: no database, no framework, tested in milliseconds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from companion.erp.ledger.models import AccountRole, AccountType
from companion.errors import BusinessRuleViolation
from companion.kit.money import ZERO, quantize

# Accounts whose balance grows with debits; the others grow with credits.
DEBIT_NORMAL = frozenset({AccountType.ASSET.value, AccountType.EXPENSE.value})

# Bank GL accounts sit in 1001..1099, below receivables (1100): 1010, 1020, ... first.
_BANK_CODES = [str(c) for c in range(1010, 1100, 10)] + [
    str(c) for c in range(1001, 1100) if c % 10
]


@dataclass(frozen=True)
class ChartEntry:
    """One account of the standard chart."""

    code: str
    name: str
    account_type: AccountType
    role: AccountRole | None = None


def check_amount(value: Decimal, what: str = "amount") -> Decimal:
    """``value`` as cents; more than two decimals is refused rather than silently rounded."""
    if not value.is_finite():
        raise BusinessRuleViolation(f"The {what} is not a number", details={what: str(value)})
    cents = quantize(value)
    if cents != value:
        raise BusinessRuleViolation(
            f"The {what} {value} has more than two decimals", details={what: str(value)}
        )
    return cents


def check_journal_lines(lines: Sequence[tuple[Decimal, Decimal]]) -> Decimal:
    """Validate (debit, credit) pairs of one voucher and return its total.

    Every line is one-sided and positive, and the debits equal the credits.
    """
    if not lines:
        raise BusinessRuleViolation("A journal voucher needs at least one line")
    total_debit = total_credit = ZERO
    for n, (raw_debit, raw_credit) in enumerate(lines, start=1):
        debit = check_amount(Decimal(raw_debit), f"debit of line {n}")
        credit = check_amount(Decimal(raw_credit), f"credit of line {n}")
        if debit < 0 or credit < 0:
            raise BusinessRuleViolation(
                f"Line {n} has a negative amount", details={"line": n, "debit": str(debit)}
            )
        if debit > 0 and credit > 0:
            raise BusinessRuleViolation(
                f"Line {n} has both a debit and a credit; use two lines",
                details={"line": n, "debit": str(debit), "credit": str(credit)},
            )
        if debit == 0 and credit == 0:
            raise BusinessRuleViolation(f"Line {n} has no amount", details={"line": n})
        total_debit += debit
        total_credit += credit
    if total_debit != total_credit:
        raise BusinessRuleViolation(
            f"The voucher does not balance: debits {total_debit} != credits {total_credit}",
            details={
                "debit": str(total_debit),
                "credit": str(total_credit),
                "difference": str(total_debit - total_credit),
            },
        )
    return total_debit


def mirror(lines: Iterable[tuple[Decimal, Decimal]]) -> list[tuple[Decimal, Decimal]]:
    """The (debit, credit) pairs of a reversal: every side swapped."""
    return [(credit, debit) for debit, credit in lines]


def natural_balance(account_type: str, debit: Decimal, credit: Decimal) -> Decimal:
    """The balance with the account's normal sign (assets and expenses debit-positive)."""
    return debit - credit if account_type in DEBIT_NORMAL else credit - debit


def trial_balance_sides(debit: Decimal, credit: Decimal) -> tuple[Decimal, Decimal]:
    """One account's net movement in the debit or the credit column of a trial balance."""
    net = debit - credit
    return (net, ZERO) if net >= 0 else (ZERO, -net)


def next_bank_code(used_codes: Iterable[str]) -> str:
    """The first free bank GL code: 1010, 1020, ... 1090, then the codes in between."""
    used = set(used_codes)
    for code in _BANK_CODES:
        if code not in used:
            return code
    raise BusinessRuleViolation("No free account code is left for another bank account")
