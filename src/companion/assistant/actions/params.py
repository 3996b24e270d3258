"""The shape every action's parameters must have before a handler reads them.

Parameters arrive as free JSON (``POST /api/v1/ai/actions``) or from the conversation, and
handlers pass ids straight to queries: an id past the column's range overflowed in the
driver (a 500), and a NUL or lone surrogate in a name failed when stored. Both are refused
here, once for every handler, as a 422 naming the parameter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from companion.errors import ValidationFailed
from companion.kit.fields import DB_INT_MAX, check_text

_ID_KEY = re.compile(r"(?:^|_)id$")
_DIGITS = re.compile(r"\s*[+-]?\d+\s*")
MAX_PROBLEMS_SHOWN = 20


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` unchanged when every id fits its column and every string can be stored."""
    problems = list(_problems(params, ("params",)))
    if problems:
        first = problems[0]
        raise ValidationFailed(
            f"Invalid parameters: {'.'.join(map(str, first['loc'][1:]))} {first['msg']}",
            details={"errors": problems[:MAX_PROBLEMS_SHOWN], "count": len(problems)},
        )
    return params


def _problems(value: Any, loc: tuple[str | int, ...]) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _text_problem(key, (*loc, str(key)))
            if isinstance(key, str) and _ID_KEY.search(key) and sub is not None:
                yield from _id_problem(sub, (*loc, key))
            else:
                yield from _problems(sub, (*loc, str(key)))
    elif isinstance(value, list):
        for n, sub in enumerate(value):
            yield from _problems(sub, (*loc, n))
    elif isinstance(value, float) and not math.isfinite(value):
        yield _problem(loc, "must be a finite number", "finite_number")
    else:
        yield from _text_problem(value, loc)


def _text_problem(value: Any, loc: tuple[str | int, ...]) -> Iterator[dict[str, Any]]:
    try:
        check_text(value)
    except ValueError as exc:
        yield _problem(loc, str(exc), "string_unicode")


def _id_problem(value: Any, loc: tuple[str | int, ...]) -> Iterator[dict[str, Any]]:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        # int() refuses strings past 4,300 digits; anything past 20 is out of range anyway.
        number = int(value) if len(value) <= 20 else DB_INT_MAX + 1
    if number is None:
        yield _problem(loc, "must be a record's id (a whole number)", "int_type")
    elif not 1 <= number <= DB_INT_MAX:
        yield _problem(loc, f"must be a record's id, from 1 to {DB_INT_MAX}", "id_range")


def _problem(loc: tuple[str | int, ...], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": kind}
