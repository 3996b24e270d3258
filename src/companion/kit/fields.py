"""Bounded input types shared by every schema and route parameter.

An integer or string that reaches the database must fit its column: a value that does not
is refused where it enters (a 422 naming the field, bounds stated in the OpenAPI), never
left to overflow in the driver (a 500).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

# Ids and integer columns are SQLAlchemy ``Integer``: 32-bit on PostgreSQL (int4).
DB_INT_MIN = -2_147_483_648
DB_INT_MAX = 2_147_483_647

Id = Annotated[int, Field(ge=1, le=DB_INT_MAX)]
"""A record's id: a positive 32-bit integer, as the ``id`` columns store it."""

DbInt = Annotated[int, Field(ge=DB_INT_MIN, le=DB_INT_MAX)]
"""Any integer bound for an ``Integer`` column."""


def _text_ok(value: str) -> str:
    # A lone surrogate cannot be encoded as UTF-8 (the database, the log, the answer) and
    # PostgreSQL refuses NUL in text: both would fail later as a 500.
    if "\x00" in value:
        raise PydanticCustomError("string_nul", "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "string_unicode", "must be valid Unicode text (it has a lone surrogate)"
        ) from None
    return value


def check_text(value: Any) -> Any:
    """``value`` unchanged when it is a string fit to store; raises ``ValueError`` if not."""
    if isinstance(value, str):
        try:
            _text_ok(value)
        except PydanticCustomError as exc:
            raise ValueError(exc.message()) from None
    return value


def _iso_date(value: Any) -> Any:
    # Pydantic reads 0 or "1700000000" as a Unix time; the OpenAPI says "format: date".
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise PydanticCustomError("date_format", "must be a date as YYYY-MM-DD")
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError("date_type", "must be a date as YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
"""A calendar day given as ``YYYY-MM-DD`` (no Unix times, as the OpenAPI's ``date`` says)."""

Text = Annotated[str, AfterValidator(_text_ok)]
"""A string fit to store and send: no lone surrogates, no NUL."""
