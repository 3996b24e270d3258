"""Document numbers: ``PO-2026-0001``, one gap-free sequence per company, type and year."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from companion.erp.numbering import repository as repo
from companion.erp.numbering.models import DocumentSequence


class DocType(StrEnum):
    PURCHASE_ORDER = "PO"
    SALES_ORDER = "SO"
    INVOICE = "INV"
    BILL = "BILL"
    RECEIPT = "RCPT"
    PAYMENT = "PAY"
    JOURNAL = "JV"
    STOCK_MOVE = "SM"


# Master-data codes (customers, suppliers) run in one sequence for the life of the company.
_NO_YEAR = 0


def next_number(session: Session, company_id: int, doc_type: DocType, on: dt.date) -> str:
    """Take the next number; the row lock holds until the caller's transaction ends."""
    prefix = doc_type.value
    return format_number(prefix, on.year, _bump(session, company_id, prefix, on.year))


def next_code(session: Session, company_id: int, prefix: str) -> str:
    """The next master-data code of a company (``CUST-0001``), never reset by year."""
    return f"{prefix}-{_bump(session, company_id, prefix, _NO_YEAR):04d}"


def next_codes(session: Session, company_id: int, prefix: str, count: int) -> list[str]:
    """The next ``count`` master-data codes at once (one sequence update: bulk imports)."""
    if count <= 0:
        return []
    last = _bump(session, company_id, prefix, _NO_YEAR, by=count)
    return [f"{prefix}-{n:04d}" for n in range(last - count + 1, last + 1)]


def _bump(session: Session, company_id: int, prefix: str, year: int, by: int = 1) -> int:
    for _ in range(2):
        bumped = repo.bump(session, company_id, prefix, year, by)
        if bumped is not None:
            return bumped
        try:
            with session.begin_nested():
                session.add(DocumentSequence(company_id=company_id, prefix=prefix, year=year))
        except IntegrityError:
            pass  # another transaction created the row first; bump it on the next pass
    raise RuntimeError(f"could not allocate a {prefix} number")  # pragma: no cover


def format_number(prefix: str, year: int, n: int) -> str:
    """``PO-2026-0042``; widens past 9999 rather than wrapping."""
    return f"{prefix}-{year}-{n:04d}"


def current_numbers(session: Session, company_id: int) -> dict[tuple[str, int], int]:
    """The last number issued per (prefix, year), for diagnostics and tests."""
    return repo.last_numbers(session, company_id)
