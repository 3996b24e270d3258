"""All SQL of the ledger: accounts, bank accounts, vouchers, balances and the trial balance.

Reads take the caller's ``RequestContext`` and go through ``scoped``; the few that take a
bare ``company_id`` serve setup code that runs before anyone is acting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, selectinload

from companion.erp.ledger.models import (
    Account,
    AccountDay,
    BankAccount,
    JournalLine,
    JournalVoucher,
)
from companion.erp.ledger.rules import natural_balance, trial_balance_sides
from companion.erp.parties.models import Customer, Supplier
from companion.errors import NotFound
from companion.kit.db import add_to_totals
from companion.kit.money import ZERO
from companion.tenancy.context import RequestContext, scoped


@dataclass(frozen=True)
class AccountBalance:
    """Sums of one account's journal lines up to a date, and the balance in its normal sign."""

    account_id: int
    code: str
    name: str
    account_type: str
    role: str | None
    is_bank: bool
    debit: Decimal
    credit: Decimal
    balance: Decimal


@dataclass(frozen=True)
class BankBalance:
    """A bank account and the balance of its GL account."""

    bank_account: BankAccount
    gl_account_code: str
    balance: Decimal


@dataclass(frozen=True)
class TrialBalanceRow:
    account_id: int
    code: str
    name: str
    account_type: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True)
class TrialBalance:
    """Every account with movements, net in one column; the columns always agree."""

    as_of: dt.date | None
    rows: list[TrialBalanceRow]
    total_debit: Decimal
    total_credit: Decimal

    @property
    def balanced(self) -> bool:
        return self.total_debit == self.total_credit


# --- accounts -------------------------------------------------------------------------


def accounts_by_roles(
    session: Session, company_id: int, roles: Iterable[str]
) -> dict[str, Account]:
    """The company's accounts holding ``roles``, by role, in one read (a role the chart
    lacks is absent)."""
    rows = session.execute(
        select(Account).where(Account.company_id == company_id, Account.role.in_(set(roles)))
    )
    return {a.role: a for a in rows.scalars() if a.role is not None}


def chart_keys(session: Session, company_id: int) -> tuple[set[str], set[str]]:
    """The codes and the roles already in the company's chart."""
    rows = session.execute(
        select(Account.code, Account.role).where(Account.company_id == company_id)
    ).all()
    return {code for code, _ in rows}, {role for _, role in rows if role is not None}


def get_account(session: Session, ctx: RequestContext, account_id: int) -> Account:
    """One account of the caller's company (NotFound otherwise)."""
    account = session.execute(
        scoped(select(Account), Account, ctx).where(Account.id == account_id)
    ).scalar_one_or_none()
    if account is None:
        raise NotFound(f"Account {account_id} not found", details={"account_id": account_id})
    return account


def accounts_by_ids(
    session: Session, ctx: RequestContext, ids: Iterable[int]
) -> dict[int, Account]:
    """The caller's accounts among ``ids`` (another company's are simply absent).

    Accounts this session already holds, loaded and not expired, are answered from it
    (a posting's accounts were usually just read by role): accounts are never deleted and
    never change company, so such an object says what the read would.
    """
    found: dict[int, Account] = {}
    unknown: set[int] = set()
    for account_id in set(ids):
        held = session.identity_map.get(session.identity_key(Account, account_id))
        if isinstance(held, Account) and _loaded_company(held) is not None:
            if held.company_id == ctx.company_id:
                found[account_id] = held
        else:
            unknown.add(account_id)
    if unknown:
        stmt = scoped(select(Account), Account, ctx).where(Account.id.in_(unknown))
        found.update((a.id, a) for a in session.execute(stmt).scalars())
    return found


def _loaded_company(account: Account) -> int | None:
    """The account's company as loaded, or None where reading it would refresh the row."""
    state = inspect(account)
    if not state.persistent or state.expired or "company_id" in state.unloaded:
        return None
    return account.company_id


def list_accounts(session: Session, ctx: RequestContext) -> list[Account]:
    """The caller's chart of accounts, by code."""
    stmt = scoped(select(Account), Account, ctx).order_by(Account.code)
    return list(session.execute(stmt).scalars())


def existing_customer_ids(session: Session, ctx: RequestContext, ids: Iterable[int]) -> set[int]:
    """Which of ``ids`` are customers of the caller's company."""
    wanted = set(ids)
    if not wanted:
        return set()
    stmt = scoped(select(Customer.id), Customer, ctx).where(Customer.id.in_(wanted))
    return set(session.execute(stmt).scalars())


def existing_supplier_ids(session: Session, ctx: RequestContext, ids: Iterable[int]) -> set[int]:
    """Which of ``ids`` are suppliers of the caller's company."""
    wanted = set(ids)
    if not wanted:
        return set()
    stmt = scoped(select(Supplier.id), Supplier, ctx).where(Supplier.id.in_(wanted))
    return set(session.execute(stmt).scalars())


# --- bank accounts --------------------------------------------------------------------


def get_bank_account(session: Session, ctx: RequestContext, bank_account_id: int) -> BankAccount:
    """One bank account of the caller's company (NotFound otherwise)."""
    bank = session.execute(
        scoped(select(BankAccount), BankAccount, ctx).where(BankAccount.id == bank_account_id)
    ).scalar_one_or_none()
    if bank is None:
        raise NotFound(
            f"Bank account {bank_account_id} not found",
            details={"bank_account_id": bank_account_id},
        )
    return bank


def bank_account_named(session: Session, ctx: RequestContext, name: str) -> BankAccount | None:
    """The caller's bank account called ``name``, if any."""
    stmt = scoped(select(BankAccount), BankAccount, ctx).where(BankAccount.name == name)
    return session.execute(stmt).scalar_one_or_none()


def list_bank_accounts(session: Session, ctx: RequestContext) -> list[BankAccount]:
    """The caller's bank accounts, by name."""
    stmt = scoped(select(BankAccount), BankAccount, ctx).order_by(BankAccount.name)
    return list(session.execute(stmt).scalars())


# --- vouchers -------------------------------------------------------------------------


def get_voucher(session: Session, ctx: RequestContext, voucher_id: int) -> JournalVoucher:
    """One voucher of the caller's company with its lines (NotFound otherwise)."""
    stmt = (
        scoped(select(JournalVoucher), JournalVoucher, ctx)
        .where(JournalVoucher.id == voucher_id)
        .options(selectinload(JournalVoucher.lines))
    )
    voucher = session.execute(stmt).scalar_one_or_none()
    if voucher is None:
        raise NotFound(
            f"Journal voucher {voucher_id} not found", details={"voucher_id": voucher_id}
        )
    return voucher


def reversal_of(session: Session, ctx: RequestContext, voucher_id: int) -> JournalVoucher | None:
    """The voucher that reverses ``voucher_id``, if one was posted."""
    stmt = scoped(select(JournalVoucher), JournalVoucher, ctx).where(
        JournalVoucher.reverses_id == voucher_id
    )
    return session.execute(stmt).scalar_one_or_none()


def reversal_ids(
    session: Session, ctx: RequestContext, voucher_ids: Iterable[int]
) -> dict[int, int]:
    """Reversed voucher id -> id of its reversal, for the given vouchers."""
    wanted = set(voucher_ids)
    if not wanted:
        return {}
    stmt = scoped(select(JournalVoucher.reverses_id, JournalVoucher.id), JournalVoucher, ctx).where(
        JournalVoucher.reverses_id.in_(wanted)
    )
    rows = session.execute(stmt).all()
    return {original: rev for original, rev in rows if original is not None}


def list_vouchers(
    session: Session,
    ctx: RequestContext,
    *,
    from_date: dt.date | None = None,
    to_date: dt.date | None = None,
    source_type: str | None = None,
    source_id: int | None = None,
    account_id: int | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[JournalVoucher], int]:
    """A page of the caller's vouchers, newest first, and how many match in all."""
    stmt = scoped(select(JournalVoucher), JournalVoucher, ctx)
    if from_date is not None:
        stmt = stmt.where(JournalVoucher.voucher_date >= from_date)
    if to_date is not None:
        stmt = stmt.where(JournalVoucher.voucher_date <= to_date)
    if source_type is not None:
        stmt = stmt.where(JournalVoucher.source_type == source_type)
    if source_id is not None:
        stmt = stmt.where(JournalVoucher.source_id == source_id)
    if account_id is not None:
        touching = scoped(select(JournalLine.voucher_id), JournalLine, ctx).where(
            JournalLine.account_id == account_id
        )
        stmt = stmt.where(JournalVoucher.id.in_(touching))
    if q:
        stmt = stmt.where(JournalVoucher.number.icontains(q.strip(), autoescape=True))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    page = (
        stmt.order_by(JournalVoucher.voucher_date.desc(), JournalVoucher.id.desc())
        .options(selectinload(JournalVoucher.lines))
        .limit(limit)
        .offset(offset)
    )
    return list(session.execute(page).scalars()), int(total)


# --- balances -------------------------------------------------------------------------


def _movements(
    session: Session, ctx: RequestContext, as_of: dt.date | None
) -> dict[int, tuple[Decimal, Decimal]]:
    """Account id -> (sum of debits, sum of credits) of vouchers dated up to ``as_of``."""
    stmt = (
        scoped(
            select(
                JournalLine.account_id, func.sum(JournalLine.debit), func.sum(JournalLine.credit)
            ),
            JournalLine,
            ctx,
        )
        .join(JournalVoucher, JournalVoucher.id == JournalLine.voucher_id)
        .group_by(JournalLine.account_id)
    )
    if as_of is not None:
        stmt = stmt.where(JournalVoucher.voucher_date <= as_of)
    return {
        account_id: (debit or ZERO, credit or ZERO)
        for account_id, debit, credit in session.execute(stmt).all()
    }


def account_balances(
    session: Session, ctx: RequestContext, *, as_of: dt.date | None = None
) -> list[AccountBalance]:
    """Every account of the caller's chart with its balance as of ``as_of`` (default: all)."""
    moves = _movements(session, ctx, as_of)
    result = []
    for account in list_accounts(session, ctx):
        debit, credit = moves.get(account.id, (ZERO, ZERO))
        result.append(
            AccountBalance(
                account_id=account.id,
                code=account.code,
                name=account.name,
                account_type=account.account_type,
                role=account.role,
                is_bank=account.is_bank,
                debit=debit,
                credit=credit,
                balance=natural_balance(account.account_type, debit, credit),
            )
        )
    return result


def bank_balances(
    session: Session, ctx: RequestContext, *, as_of: dt.date | None = None
) -> list[BankBalance]:
    """Each bank account's balance, from its GL account's journal lines."""
    moves = _movements(session, ctx, as_of)
    codes = {a.id: a.code for a in list_accounts(session, ctx) if a.is_bank}
    result = []
    for bank in list_bank_accounts(session, ctx):
        debit, credit = moves.get(bank.gl_account_id, (ZERO, ZERO))
        result.append(BankBalance(bank, codes.get(bank.gl_account_id, ""), debit - credit))
    return result


def trial_balance(
    session: Session, ctx: RequestContext, *, as_of: dt.date | None = None
) -> TrialBalance:
    """The trial balance as of ``as_of`` (default: everything posted)."""
    moves = _movements(session, ctx, as_of)
    rows = []
    total_debit = total_credit = ZERO
    for account in list_accounts(session, ctx):
        if account.id not in moves:
            continue
        debit, credit = trial_balance_sides(*moves[account.id])
        total_debit += debit
        total_credit += credit
        rows.append(
            TrialBalanceRow(
                account.id, account.code, account.name, account.account_type, debit, credit
            )
        )
    return TrialBalance(as_of, rows, total_debit, total_credit)


def add_account_days(session: Session, voucher: JournalVoucher) -> None:
    """Add a just-posted voucher's lines to its accounts' totals for the voucher date.

    One upsert per voucher, its rows in account order so that two postings to the same
    accounts lock them in the same order (no deadlock on PostgreSQL).
    """
    sums: dict[int, tuple[Decimal, Decimal, int]] = {}
    for line in voucher.lines:
        debit, credit, n = sums.get(line.account_id, (ZERO, ZERO, 0))
        sums[line.account_id] = (debit + line.debit, credit + line.credit, n + 1)
    if not sums:
        return
    rows = [
        {
            "company_id": voucher.company_id,
            "account_id": account_id,
            "day": voucher.voucher_date,
            "debit": debit,
            "credit": credit,
            "lines": n,
        }
        for account_id, (debit, credit, n) in sorted(sums.items())
    ]
    add_to_totals(
        session, AccountDay, rows, ("company_id", "account_id", "day"), ("debit", "credit", "lines")
    )
