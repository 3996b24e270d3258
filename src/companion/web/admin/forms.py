"""Reading the filter fields of the command center's forms (empty fields mean "any")."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from companion.errors import ValidationFailed

PAGE_SIZE = 50


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", details={"field": field})


def optional_date(value: str | None, field: str) -> dt.date | None:
    """``YYYY-MM-DD`` or empty (a browser sends empty fields as ``""``)."""
    if not value or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise _invalid(field, "must be a date as YYYY-MM-DD") from None


def day_start(day: dt.date | None) -> dt.datetime | None:
    """Midnight UTC at the start of ``day``."""
    return None if day is None else dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def day_after(day: dt.date | None) -> dt.datetime | None:
    """Midnight UTC after ``day`` (an inclusive "to" date as an exclusive bound)."""
    return None if day is None else day_start(day + dt.timedelta(days=1))


def optional_amount(value: str | None, field: str) -> Decimal | None:
    """A non-negative amount with at most 2 decimals, or empty for none."""
    if not value or not value.strip():
        return None
    try:
        amount = Decimal(value.strip().replace(",", ""))
    except InvalidOperation:
        raise _invalid(field, "must be a number") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e13"):
        raise _invalid(field, "must be a number from 0 to 9,999,999,999,999")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise _invalid(field, "has at most 2 decimals")
    return amount


def choice(value: str | None, field: str, allowed: frozenset[str] | set[str]) -> str | None:
    """One of ``allowed``, or empty for none."""
    if not value:
        return None
    if value not in allowed:
        raise _invalid(field, f"must be one of {', '.join(sorted(allowed))}")
    return value


@dataclass(frozen=True)
class Paging:
    """Which page of a list is shown."""

    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))
