"""Every query on document sequences: one row per company, prefix and year."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from companion.erp.numbering.models import DocumentSequence


def bump(session: Session, company_id: int, prefix: str, year: int, by: int = 1) -> int | None:
    """Add ``by`` to the company's sequence and return it; None if the row does not exist yet.

    The UPDATE takes the row lock, which holds until the caller's transaction ends, so two
    transactions never get the same number.
    """
    bumped = session.execute(
        update(DocumentSequence)
        .where(
            DocumentSequence.company_id == company_id,
            DocumentSequence.prefix == prefix,
            DocumentSequence.year == year,
        )
        .values(last_number=DocumentSequence.last_number + by)
        .returning(DocumentSequence.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return None if bumped is None else int(bumped)


def last_numbers(session: Session, company_id: int) -> dict[tuple[str, int], int]:
    """The last number issued per (prefix, year) of a company."""
    rows = session.execute(
        select(DocumentSequence.prefix, DocumentSequence.year, DocumentSequence.last_number).where(
            DocumentSequence.company_id == company_id
        )
    ).all()
    return {(p, y): n for p, y, n in rows}
