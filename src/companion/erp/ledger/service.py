"""Ledger rules: the chart of accounts, balanced vouchers, reversals and bank accounts.

Services flush and never commit. Every posting goes through ``post_journal``, so the
balance check, numbering and audit happen in one place.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.erp.ledger import repository as repo
from companion.erp.ledger.models import (
    Account,
    AccountRole,
    AccountType,
    BankAccount,
    JournalLine,
    JournalVoucher,
)
from companion.erp.ledger.rules import (
    ChartEntry,
    check_amount,
    check_journal_lines,
    mirror,
    next_bank_code,
)
from companion.erp.ledger.schemas import JournalLineIn as JournalLineIn
from companion.erp.numbering.service import DocType, next_number
from companion.errors import BusinessRuleViolation, Conflict, InvalidState, NotFound
from companion.kit.money import ZERO
from companion.tenancy.context import RequestContext

STANDARD_CHART: tuple[ChartEntry, ...] = (
    ChartEntry("1100", "Accounts Receivable", AccountType.ASSET, AccountRole.RECEIVABLE),
    ChartEntry("1200", "Inventory", AccountType.ASSET, AccountRole.INVENTORY),
    ChartEntry("1300", "Input tax", AccountType.ASSET, AccountRole.TAX_INPUT),
    ChartEntry("1400", "Prepaid expenses", AccountType.ASSET),
    ChartEntry("2000", "Accounts Payable", AccountType.LIABILITY, AccountRole.PAYABLE),
    ChartEntry("2100", "Output tax payable", AccountType.LIABILITY, AccountRole.TAX_OUTPUT),
    ChartEntry("2200", "Accrued expenses", AccountType.LIABILITY),
    ChartEntry("3000", "Owner's equity", AccountType.EQUITY, AccountRole.EQUITY),
    ChartEntry("3100", "Retained earnings", AccountType.EQUITY),
    ChartEntry("4000", "Sales revenue", AccountType.INCOME, AccountRole.REVENUE),
    ChartEntry("4100", "Other income", AccountType.INCOME),
    ChartEntry("5000", "Cost of goods sold", AccountType.EXPENSE, AccountRole.COGS),
    ChartEntry("6000", "Operating expenses", AccountType.EXPENSE, AccountRole.EXPENSE),
    ChartEntry("6100", "Stock adjustments", AccountType.EXPENSE, AccountRole.STOCK_ADJUSTMENT),
    ChartEntry("6200", "Rent", AccountType.EXPENSE),
    ChartEntry("6300", "Salaries and wages", AccountType.EXPENSE),
    ChartEntry("6400", "Utilities", AccountType.EXPENSE),
    ChartEntry("6500", "Bank charges", AccountType.EXPENSE),
)


def setup_company_ledger(session: Session, company_id: int) -> None:
    """Give the company the standard chart; accounts it already has are left alone."""
    codes, roles = repo.chart_keys(session, company_id)
    added = []
    for entry in STANDARD_CHART:
        if entry.code in codes or (entry.role is not None and entry.role.value in roles):
            continue
        session.add(
            Account(
                company_id=company_id,
                code=entry.code,
                name=entry.name,
                account_type=entry.account_type.value,
                role=entry.role.value if entry.role else None,
                is_bank=False,
            )
        )
        added.append(entry.code)
    if added:
        session.flush()
        audit.record(
            session,
            None,
            "ledger.setup",
            "company",
            company_id,
            new={"accounts": added},
            company_id=company_id,
        )


def account_for_role(session: Session, company_id: int, role: AccountRole) -> Account:
    """The account the services post ``role`` to; a company without a chart gets one first."""
    return accounts_for_roles(session, company_id, role)[role]


def accounts_for_roles(
    session: Session, company_id: int, *roles: AccountRole
) -> dict[AccountRole, Account]:
    """``account_for_role`` for several roles in one read (NotFound names the first missing)."""
    found = repo.accounts_by_roles(session, company_id, [role.value for role in roles])
    if any(role.value not in found for role in roles):
        setup_company_ledger(session, company_id)
        found = repo.accounts_by_roles(session, company_id, [role.value for role in roles])
    for role in roles:
        if role.value not in found:
            raise NotFound(
                f"The chart of accounts has no '{role.value}' account",
                details={"role": role.value},
            )
    return {role: found[role.value] for role in roles}


def post_journal(
    session: Session,
    ctx: RequestContext,
    *,
    voucher_date: dt.date,
    memo: str,
    lines: list[JournalLineIn],
    source_type: str | None = None,
    source_id: int | None = None,
) -> JournalVoucher:
    """Post a balanced voucher (JV-YYYY-NNNN) over the caller's accounts."""
    ctx.require("finance.post")
    return _post(
        session,
        ctx,
        voucher_date=voucher_date,
        memo=memo,
        lines=lines,
        source_type=source_type,
        source_id=source_id,
        reverses_id=None,
    )


def reverse_journal(
    session: Session, ctx: RequestContext, voucher_id: int, *, on: dt.date, memo: str
) -> JournalVoucher:
    """Post the mirror image of a voucher; each voucher is reversed at most once."""
    ctx.require("finance.post")
    original = repo.get_voucher(session, ctx, voucher_id)
    if original.reverses_id is not None:
        raise InvalidState(
            f"{original.number} is itself a reversal and cannot be reversed",
            details={"voucher": original.number, "reverses_id": original.reverses_id},
        )
    existing = repo.reversal_of(session, ctx, original.id)
    if existing is not None:
        raise InvalidState(
            f"{original.number} was already reversed by {existing.number}",
            details={"voucher": original.number, "reversed_by": existing.number},
        )
    if on < original.voucher_date:
        raise BusinessRuleViolation(
            f"A reversal cannot be dated before the voucher it reverses ({original.voucher_date})",
            details={"voucher_date": original.voucher_date.isoformat(), "on": on.isoformat()},
        )
    sides = mirror((line.debit, line.credit) for line in original.lines)
    lines = [
        JournalLineIn(
            account_id=line.account_id,
            debit=debit,
            credit=credit,
            description=line.description,
            customer_id=line.customer_id,
            supplier_id=line.supplier_id,
        )
        for line, (debit, credit) in zip(original.lines, sides, strict=True)
    ]
    return _post(
        session,
        ctx,
        voucher_date=on,
        memo=memo,
        lines=lines,
        source_type=original.source_type,
        source_id=original.source_id,
        reverses_id=original.id,
    )


def create_bank_account(
    session: Session,
    ctx: RequestContext,
    *,
    name: str,
    bank_name: str,
    account_number: str,
    currency: str,
    opening_balance: Decimal,
    opening_date: dt.date,
) -> BankAccount:
    """A bank account with its own GL account, opened against equity when not zero."""
    ctx.require("finance.post")
    name, bank_name, account_number = name.strip(), bank_name.strip(), account_number.strip()
    if not name or not bank_name or not account_number:
        raise BusinessRuleViolation("A bank account needs a name, a bank and an account number")
    currency = currency.strip().upper()
    if currency != ctx.currency:
        raise BusinessRuleViolation(
            f"Bank accounts must be in the company's currency ({ctx.currency})",
            details={"currency": currency, "company_currency": ctx.currency},
        )
    opening = check_amount(opening_balance, "opening balance")
    if repo.bank_account_named(session, ctx, name) is not None:
        raise Conflict(f"A bank account named '{name}' already exists", details={"name": name})
    equity = account_for_role(session, ctx.company_id, AccountRole.EQUITY)
    codes, _ = repo.chart_keys(session, ctx.company_id)
    gl = Account(
        company_id=ctx.company_id,
        code=next_bank_code(codes),
        name=f"Bank: {name}"[:200],
        account_type=AccountType.ASSET.value,
        role=None,
        is_bank=True,
    )
    session.add(gl)
    session.flush()
    bank = BankAccount(
        company_id=ctx.company_id,
        name=name,
        bank_name=bank_name,
        account_number=account_number,
        currency=currency,
        gl_account_id=gl.id,
        is_active=True,
    )
    session.add(bank)
    session.flush()
    if opening != ZERO:
        # An overdrawn account opens the other way round.
        bank_side, equity_side = (opening, ZERO) if opening > 0 else (ZERO, -opening)
        post_journal(
            session,
            ctx,
            voucher_date=opening_date,
            memo=f"Opening balance of {name}",
            lines=[
                JournalLineIn(account_id=gl.id, debit=bank_side, credit=equity_side),
                JournalLineIn(account_id=equity.id, debit=equity_side, credit=bank_side),
            ],
            source_type="bank_account",
            source_id=bank.id,
        )
    audit.record(
        session,
        ctx,
        "bank_account.create",
        "bank_account",
        bank.id,
        new={
            "name": name,
            "bank_name": bank_name,
            "account_number": account_number,
            "currency": currency,
            "gl_account": gl.code,
            "opening_balance": opening,
            "opening_date": opening_date,
        },
    )
    return bank


def voucher_values(voucher: JournalVoucher) -> dict[str, Any]:
    """A voucher as the audit log records it."""
    return {
        "number": voucher.number,
        "voucher_date": voucher.voucher_date,
        "memo": voucher.memo,
        "source_type": voucher.source_type,
        "source_id": voucher.source_id,
        "reverses_id": voucher.reverses_id,
        "lines": [
            {
                "account_id": line.account_id,
                "debit": line.debit,
                "credit": line.credit,
                "customer_id": line.customer_id,
                "supplier_id": line.supplier_id,
            }
            for line in voucher.lines
        ],
    }


def _post(
    session: Session,
    ctx: RequestContext,
    *,
    voucher_date: dt.date,
    memo: str,
    lines: list[JournalLineIn],
    source_type: str | None,
    source_id: int | None,
    reverses_id: int | None,
) -> JournalVoucher:
    memo = memo.strip()
    if not memo:
        raise BusinessRuleViolation("A journal voucher needs a memo")
    if len(memo) > 500:
        raise BusinessRuleViolation("The memo is longer than 500 characters")
    check_journal_lines([(line.debit, line.credit) for line in lines])
    _check_references(session, ctx, lines)
    voucher = JournalVoucher(
        company_id=ctx.company_id,
        number=next_number(session, ctx.company_id, DocType.JOURNAL, voucher_date),
        voucher_date=voucher_date,
        memo=memo,
        source_type=source_type,
        source_id=source_id,
        reverses_id=reverses_id,
        created_by_id=ctx.user_id,
        lines=[
            JournalLine(
                company_id=ctx.company_id,
                line_no=n,
                account_id=line.account_id,
                debit=line.debit,
                credit=line.credit,
                description=line.description,
                customer_id=line.customer_id,
                supplier_id=line.supplier_id,
            )
            for n, line in enumerate(lines, start=1)
        ],
    )
    session.add(voucher)
    session.flush()
    repo.add_account_days(session, voucher)
    audit.record(
        session,
        ctx,
        "journal.reverse" if reverses_id else "journal.post",
        "journal_voucher",
        voucher.id,
        new=voucher_values(voucher),
    )
    return voucher


def _check_references(session: Session, ctx: RequestContext, lines: list[JournalLineIn]) -> None:
    """Accounts and parties of another company answer exactly like missing ones."""
    account_ids = {line.account_id for line in lines}
    missing = sorted(account_ids - set(repo.accounts_by_ids(session, ctx, account_ids)))
    if missing:
        raise NotFound(f"Account {missing[0]} not found", details={"account_ids": missing})
    customer_ids = {line.customer_id for line in lines if line.customer_id is not None}
    missing = sorted(customer_ids - repo.existing_customer_ids(session, ctx, customer_ids))
    if missing:
        raise NotFound(f"Customer {missing[0]} not found", details={"customer_ids": missing})
    supplier_ids = {line.supplier_id for line in lines if line.supplier_id is not None}
    missing = sorted(supplier_ids - repo.existing_supplier_ids(session, ctx, supplier_ids))
    if missing:
        raise NotFound(f"Supplier {missing[0]} not found", details={"supplier_ids": missing})
