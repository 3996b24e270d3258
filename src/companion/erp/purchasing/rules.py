"""Purchase order rules as pure functions: the status table, approval levels, receipts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Protocol, TypeVar

from companion.erp.purchasing.models import BILLABLE_STATUSES, OPEN_STATUSES
from companion.erp.purchasing.models import POStatus as S
from companion.errors import InvalidState

TRANSITIONS: Mapping[S, frozenset[S]] = MappingProxyType(
    {
        S.DRAFT: frozenset({S.PENDING_APPROVAL, S.APPROVED, S.CANCELLED}),
        S.PENDING_APPROVAL: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
        S.APPROVED: frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED, S.CANCELLED}),
        S.PARTIALLY_RECEIVED: frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED}),
        S.RECEIVED: frozenset({S.CLOSED}),
        S.REJECTED: frozenset(),
        S.CLOSED: frozenset(),
        S.CANCELLED: frozenset(),
    }
)

# Goods may arrive against an open order, and be billed once some have arrived.
RECEIVABLE = frozenset(S(status) for status in OPEN_STATUSES)
BILLABLE = frozenset(S(status) for status in BILLABLE_STATUSES)


def can_transition(current: str, target: S) -> bool:
    """Whether a purchase order in ``current`` may move to ``target``."""
    return target in TRANSITIONS.get(S(current), frozenset())


def check_transition(current: str, target: S, number: str) -> None:
    """Raise InvalidState naming the statuses from which ``target`` can be reached."""
    if can_transition(current, target):
        return
    allowed = sorted(s.value for s, nexts in TRANSITIONS.items() if target in nexts)
    raise InvalidState(
        f"Purchase order {number} is {current}; it can become {target.value} only from "
        f"{' or '.join(allowed)}",
        details={"number": number, "status": current, "target": target.value, "from": allowed},
    )


class LevelLike(Protocol):
    @property
    def level(self) -> int: ...

    @property
    def min_amount(self) -> Decimal: ...


L = TypeVar("L", bound=LevelLike)


def applicable_levels(levels: Iterable[L], amount: Decimal) -> list[L]:
    """The levels an order of ``amount`` must pass, lowest first: those whose minimum it reaches."""
    return sorted((lv for lv in levels if lv.min_amount <= amount), key=lambda lv: lv.level)


def may_act(
    *,
    assigned_role: str,
    assigned_user_id: int | None,
    user_id: int,
    roles: Sequence[str],
) -> bool:
    """Whether a user may decide a task: the named user when there is one, else the role."""
    if assigned_user_id is not None:
        return assigned_user_id == user_id
    return assigned_role in roles


def receipt_status(lines: Iterable[tuple[Decimal, Decimal]]) -> S:
    """RECEIVED when every (ordered, received) line is complete, else PARTIALLY_RECEIVED."""
    return (
        S.RECEIVED
        if all(received >= ordered for ordered, received in lines)
        else (S.PARTIALLY_RECEIVED)
    )
