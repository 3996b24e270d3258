"""Sales order rules as pure functions: the status table, stock shortages, the credit limit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from companion.erp.sales.models import SalesOrderStatus as S
from companion.errors import BusinessRuleViolation, InvalidState

TRANSITIONS: Mapping[S, frozenset[S]] = MappingProxyType(
    {
        S.DRAFT: frozenset({S.CONFIRMED, S.CANCELLED}),
        S.CONFIRMED: frozenset({S.DELIVERED, S.CANCELLED}),
        S.DELIVERED: frozenset({S.INVOICED}),
        S.INVOICED: frozenset(),
        S.CANCELLED: frozenset(),
    }
)


def can_transition(current: str, target: S) -> bool:
    """Whether an order in ``current`` may move to ``target``."""
    return target in TRANSITIONS.get(S(current), frozenset())


def check_transition(current: str, target: S, number: str) -> None:
    """Raise InvalidState naming the statuses from which ``target`` can be reached."""
    if can_transition(current, target):
        return
    allowed = sorted(s.value for s, nexts in TRANSITIONS.items() if target in nexts)
    raise InvalidState(
        f"Sales order {number} is {current}; it can become {target.value} only from "
        f"{' or '.join(allowed)}",
        details={"number": number, "status": current, "target": target.value, "from": allowed},
    )


@dataclass(frozen=True)
class Shortage:
    item_id: int
    needed: Decimal
    available: Decimal


def shortages(needed: Mapping[int, Decimal], available: Mapping[int, Decimal]) -> list[Shortage]:
    """Items whose needed quantity exceeds what is available (missing means none), by item."""
    return [
        Shortage(item_id, qty, available.get(item_id, Decimal("0")))
        for item_id, qty in sorted(needed.items())
        if qty > available.get(item_id, Decimal("0"))
    ]


def total_by_item(lines: Iterable[tuple[int, Decimal]]) -> dict[int, Decimal]:
    """Quantities of (item_id, quantity) pairs summed per item."""
    totals: dict[int, Decimal] = {}
    for item_id, qty in lines:
        totals[item_id] = totals.get(item_id, Decimal("0")) + qty
    return totals


def check_credit_limit(limit: Decimal, open_receivables: Decimal, order_total: Decimal) -> None:
    """A limit above zero caps open receivables plus this order; zero means no limit."""
    if limit <= 0:
        return
    exposure = open_receivables + order_total
    if exposure > limit:
        raise BusinessRuleViolation(
            f"Credit limit exceeded: open receivables {open_receivables} + this order "
            f"{order_total} = {exposure}, above the limit of {limit}",
            details={
                "credit_limit": str(limit),
                "open_receivables": str(open_receivables),
                "order_total": str(order_total),
                "exceeded_by": str(exposure - limit),
            },
        )
