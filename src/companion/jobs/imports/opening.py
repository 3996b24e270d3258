"""Opening balances: one row per account, posted as one balanced journal voucher.

A row names an account of the company's chart by its code and gives its balance on the
opening date as a debit or a credit (one of them, never both or neither). The file must
balance by itself, debits equal to credits, the difference usually on the opening-balance
equity account (the chart's equity account, 3000 in the standard chart): the ledger never
invents a balancing line. The commit posts every row as one voucher through
``ledger.post_journal`` (its balance check, numbering and audit), so the ledger's invariants
hold and the whole file is posted or none of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from companion.erp.ledger import service as ledger
from companion.erp.ledger.schemas import JournalLineIn
from companion.kit.money import ZERO, quantize
from companion.tenancy.context import RequestContext

SOURCE_TYPE = "data_import"
Amount = Annotated[Decimal | None, Field(default=None, ge=0, max_digits=18, decimal_places=2)]


def _code(value: str) -> str:
    value = value.strip().upper()
    if not value:
        raise ValueError("account_code must not be blank")
    return value


class OpeningBalanceIn(BaseModel):
    """One account's opening balance: a debit or a credit on the opening date."""

    model_config = ConfigDict(extra="forbid")

    account_code: Annotated[str, Field(max_length=16), AfterValidator(_code)]
    debit: Amount = None
    credit: Amount = None
    date: dt.date
    description: str | None = Field(default=None, max_length=300)

    @model_validator(mode="after")
    def _one_side(self) -> OpeningBalanceIn:
        debit, credit = self.debit or ZERO, self.credit or ZERO
        if debit > 0 and credit > 0:
            raise PydanticCustomError("debit_and_credit", "Give a debit or a credit, not both")
        if debit == 0 and credit == 0:
            raise PydanticCustomError(
                "no_amount", "Give a debit or a credit (a positive amount in one of them)"
            )
        return self

    @property
    def amounts(self) -> tuple[Decimal, Decimal]:
        """(debit, credit) as cents, the empty side zero."""
        return quantize(self.debit or ZERO), quantize(self.credit or ZERO)


@dataclass(frozen=True)
class Problem:
    """A row or file error found by the kind's own rules (line 0: the whole file)."""

    line: int
    column: str | None
    message: str
    value: Any = None


def row_problems(model: BaseModel, accounts: Mapping[str, int]) -> list[Problem]:
    """An account code the company's chart does not have (line filled in by the caller)."""
    assert isinstance(model, OpeningBalanceIn)
    if model.account_code not in accounts:
        return [Problem(0, "account_code", "No account with this code", model.account_code)]
    return []


def file_problems(rows: Sequence[tuple[int, BaseModel]]) -> list[Problem]:
    """What is wrong with the valid rows together: more than one date, totals that differ."""
    problems: list[Problem] = []
    models = [(line, m) for line, m in rows if isinstance(m, OpeningBalanceIn)]
    if not models:
        return problems
    first_line, first = models[0]
    for line, model in models[1:]:
        if model.date != first.date:
            problems.append(
                Problem(
                    line,
                    "date",
                    f"Every row needs the same opening date ({first.date.isoformat()} on "
                    f"line {first_line})",
                    model.date.isoformat(),
                )
            )
    debits = sum((m.amounts[0] for _, m in models), ZERO)
    credits = sum((m.amounts[1] for _, m in models), ZERO)
    if debits != credits:
        problems.append(
            Problem(
                0,
                None,
                f"The opening balances do not balance: debits {debits} and credits {credits} "
                f"differ by {abs(debits - credits)}; add a row for the opening-balance equity "
                "account or correct the amounts",
                str(debits - credits),
            )
        )
    return problems


def post(
    session: Session,
    ctx: RequestContext,
    rows: Sequence[tuple[int, BaseModel]],
    accounts: Mapping[str, int],
    *,
    import_id: int,
    filename: str,
) -> object:
    """Post the rows as one balanced voucher (the ledger checks and audits it)."""
    models = [m for _, m in rows if isinstance(m, OpeningBalanceIn)]
    lines = [
        JournalLineIn(
            account_id=accounts[m.account_code],
            debit=m.amounts[0],
            credit=m.amounts[1],
            description=m.description or "Opening balance",
        )
        for m in models
    ]
    return ledger.post_journal(
        session,
        ctx,
        voucher_date=models[0].date,
        memo=f"Opening balances imported from {filename}"[:500],
        lines=lines,
        source_type=SOURCE_TYPE,
        source_id=import_id,
    )
