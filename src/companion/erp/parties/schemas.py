"""Customer and supplier shapes: what callers send in and what the API returns."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from companion.kit.money import quantize

# Light on purpose: catches typos (missing @, spaces, no domain dot), not every RFC 5322 case.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def normalize_name(value: str) -> str:
    """A display name with surrounding and repeated inner whitespace removed."""
    return " ".join(value.split())


def _name(value: str) -> str:
    value = normalize_name(value)
    if not value:
        raise ValueError("name must not be blank")
    return value


def _code(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    if not value:
        raise ValueError("code must not be blank")
    if any(ch.isspace() for ch in value):
        raise ValueError("code must not contain spaces")
    return value


def _email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value


def _phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return value.strip()


Name = Annotated[str, Field(max_length=200), AfterValidator(_name)]
Code = Annotated[str | None, Field(max_length=32), AfterValidator(_code)]
Email = Annotated[str | None, Field(max_length=200), AfterValidator(_email)]
Phone = Annotated[str | None, Field(max_length=50), AfterValidator(_phone)]
TermsDays = Annotated[int, Field(ge=0, le=365)]
CreditLimit = Annotated[
    Decimal, Field(ge=0, max_digits=18, decimal_places=2), AfterValidator(quantize)
]


class SupplierIn(BaseModel):
    """A new supplier; the code is assigned (``SUPP-0001``) when omitted."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    code: Code = None
    email: Email = None
    phone: Phone = None
    payment_terms_days: TermsDays = 30
    is_active: bool = True


class CustomerIn(SupplierIn):
    """A new customer; the code is assigned (``CUST-0001``) when omitted."""

    credit_limit: CreditLimit = Decimal("0.00")


# Fields that may be left out of an update but never cleared.
_REQUIRED_ON_UPDATE = ("name", "code", "payment_terms_days", "is_active", "credit_limit")


class SupplierUpdate(BaseModel):
    """The fields to change; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    code: Code = None
    email: Email = None
    phone: Phone = None
    payment_terms_days: TermsDays | None = None
    is_active: bool | None = None

    @model_validator(mode="after")
    def _no_clearing_required(self) -> Any:
        cleared = [
            f
            for f in _REQUIRED_ON_UPDATE
            if f in self.model_fields_set and getattr(self, f) is None
        ]
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be cleared")
        return self

    def changes(self) -> dict[str, Any]:
        """Only the fields the caller sent."""
        return self.model_dump(exclude_unset=True)


class CustomerUpdate(SupplierUpdate):
    """The fields of a customer to change; fields left out keep their value."""

    credit_limit: CreditLimit | None = None


class SupplierOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    email: str | None
    phone: str | None
    payment_terms_days: int
    is_active: bool
    created_at: dt.datetime


class CustomerOut(SupplierOut):
    credit_limit: Decimal
