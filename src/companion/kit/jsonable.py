"""Values made JSON-safe without losing precision (audit records, action payloads)."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

# Returned as they are; looked up by exact type first, as a chat turn's answer table holds
# thousands of them (a subclass, an enum of str included, takes the checks below).
_PLAIN: frozenset[type] = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """Values as JSON keeps them exactly: Decimals and dates as strings."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is Decimal:
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value
