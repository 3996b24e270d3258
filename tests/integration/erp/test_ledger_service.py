import datetime as dt
from contextlib import AbstractContextManager
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from companion.audit.models import AuditEntry
from companion.audit.service import verify
from companion.erp.ledger import repository as repo
from companion.erp.ledger.models import (
    Account,
    AccountRole,
    JournalLine,
    JournalVoucher,
    PostedVoucherImmutable,
)
from companion.erp.ledger.service import (
    STANDARD_CHART,
    JournalLineIn,
    account_for_role,
    accounts_for_roles,
    create_bank_account,
    post_journal,
    reverse_journal,
    setup_company_ledger,
)
from companion.errors import (
    BusinessRuleViolation,
    Conflict,
    InvalidState,
    NotFound,
    PermissionDenied,
)
from companion.tenancy.context import RequestContext
from factories import make_company, make_context
from finance_factories import JAN, Books, make_books, make_customer
from statements import account_reads, statements_sent

D = Decimal
Z = D("0")


def _rent(session: Session, ctx: RequestContext, amount: str = "500.00") -> JournalVoucher:
    """Pay rent from the first bank account: Dr 6200 / Cr bank."""
    rent = session.execute(
        select(Account).where(Account.company_id == ctx.company_id, Account.code == "6200")
    ).scalar_one()
    bank = repo.list_bank_accounts(session, ctx)[0]
    return post_journal(
        session,
        ctx,
        voucher_date=dt.date(2026, 2, 1),
        memo="February rent",
        lines=[
            JournalLineIn(account_id=rent.id, debit=D(amount)),
            JournalLineIn(account_id=bank.gl_account_id, credit=D(amount)),
        ],
    )


def _account(session: Session, company_id: int, code: str) -> Account:
    return session.execute(
        select(Account).where(Account.company_id == company_id, Account.code == code)
    ).scalar_one()


# --- chart of accounts ----------------------------------------------------------------


def test_setup_gives_the_standard_chart_once(session: Session) -> None:
    company = make_company(session, "chart")
    setup_company_ledger(session, company.id)
    setup_company_ledger(session, company.id)
    codes = session.execute(
        select(Account.code).where(Account.company_id == company.id).order_by(Account.code)
    ).scalars()
    assert list(codes) == sorted(e.code for e in STANDARD_CHART)
    roles = {e.role for e in STANDARD_CHART if e.role}
    assert roles == set(AccountRole)
    assert account_for_role(session, company.id, AccountRole.RECEIVABLE).code == "1100"
    assert account_for_role(session, company.id, AccountRole.TAX_OUTPUT).code == "2100"


def test_account_for_role_sets_up_a_company_without_a_chart(session: Session) -> None:
    company = make_company(session, "fresh")
    assert account_for_role(session, company.id, AccountRole.PAYABLE).code == "2000"
    count = session.execute(
        select(func.count()).select_from(Account).where(Account.company_id == company.id)
    ).scalar_one()
    assert count == len(STANDARD_CHART)


def _account_reads(session: Session) -> AbstractContextManager[list[str]]:
    """The SELECTs of the accounts table run inside the block."""
    return statements_sent(session, account_reads)


def test_accounts_for_several_roles_are_one_read_and_the_first_missing_is_named(
    session: Session,
) -> None:
    company = make_company(session, "roles")
    with _account_reads(session) as reads:
        accounts = accounts_for_roles(
            session, company.id, AccountRole.INVENTORY, AccountRole.STOCK_ADJUSTMENT
        )
    # A company without a chart gets one: the read, the setup's keys, the read again.
    assert len(reads) == 3
    assert {role: a.code for role, a in accounts.items()} == {
        AccountRole.INVENTORY: "1200",
        AccountRole.STOCK_ADJUSTMENT: "6100",
    }
    with _account_reads(session) as reads:
        accounts_for_roles(session, company.id, AccountRole.INVENTORY, AccountRole.COGS)
    assert len(reads) == 1
    # Roles taken off the chart (their codes stay, so setup adds nothing): NotFound names
    # the first one asked for, as account_for_role one role at a time did.
    session.execute(
        update(Account)
        .where(Account.company_id == company.id, Account.role.in_(["cogs", "expense"]))
        .values(role=None)
    )
    with pytest.raises(NotFound) as err:
        accounts_for_roles(
            session, company.id, AccountRole.INVENTORY, AccountRole.EXPENSE, AccountRole.COGS
        )
    assert err.value.message == "The chart of accounts has no 'expense' account"
    assert err.value.details == {"role": "expense"}


def test_posting_over_accounts_the_session_holds_reads_no_account(session: Session) -> None:
    books = make_books(session)
    rent, bank = _account(session, books.company.id, "6200"), books.bank.gl_account_id
    lines = [
        JournalLineIn(account_id=rent.id, debit=D("5.00")),
        JournalLineIn(account_id=bank, credit=D("5.00")),
    ]
    held = session.get(Account, bank)  # the bank's GL account, held as well
    assert held is not None and held.company_id == books.company.id
    with _account_reads(session) as reads:
        voucher = _post(session, books, lines)
    assert reads == [] and [line.account_id for line in voucher.lines] == [rent.id, bank]
    # An account the session holds expired is read, with the company condition.
    session.expire(rent)
    with _account_reads(session) as reads:
        _post(session, books, lines)
    assert len(reads) == 1 and "company_id" in reads[0]


# --- posting --------------------------------------------------------------------------


def test_a_balanced_voucher_is_numbered_stored_and_audited(session: Session) -> None:
    books = make_books(session)
    voucher = _rent(session, books.ctx)
    assert voucher.number == "JV-2026-0002"  # 0001 is the bank's opening balance
    assert [(line.line_no, line.debit, line.credit) for line in voucher.lines] == [
        (1, D("500.00"), Z),
        (2, Z, D("500.00")),
    ]
    entry = session.execute(
        select(AuditEntry).where(
            AuditEntry.entity_type == "journal_voucher", AuditEntry.entity_id == str(voucher.id)
        )
    ).scalar_one()
    assert entry.action == "journal.post"
    assert entry.new_values is not None and entry.new_values["number"] == "JV-2026-0002"
    assert verify(session).ok


def _post(session: Session, books: Books, lines: list[JournalLineIn]) -> JournalVoucher:
    return post_journal(
        session, books.ctx, voucher_date=JAN, memo="test", lines=lines, source_type="manual"
    )


def test_an_unbalanced_voucher_is_refused(session: Session) -> None:
    books = make_books(session)
    rent, bank = _account(session, books.company.id, "6200"), books.bank.gl_account_id
    with pytest.raises(BusinessRuleViolation, match="does not balance") as err:
        _post(
            session,
            books,
            [
                JournalLineIn(account_id=rent.id, debit=D("100.00")),
                JournalLineIn(account_id=bank, credit=D("90.00")),
            ],
        )
    assert err.value.details["difference"] == "10.00"


@pytest.mark.parametrize(
    ("debit", "credit", "message"),
    [("5.00", "5.00", "both a debit and a credit"), ("0", "0", "no amount")],
)
def test_two_sided_and_empty_lines_are_refused(
    session: Session, debit: str, credit: str, message: str
) -> None:
    books = make_books(session)
    rent = _account(session, books.company.id, "6200")
    with pytest.raises(BusinessRuleViolation, match=message):
        _post(
            session,
            books,
            [
                JournalLineIn(account_id=rent.id, debit=D(debit), credit=D(credit)),
                JournalLineIn(account_id=books.bank.gl_account_id, credit=D("5.00")),
            ],
        )


def test_a_voucher_without_lines_or_memo_is_refused(session: Session) -> None:
    books = make_books(session)
    with pytest.raises(BusinessRuleViolation, match="at least one line"):
        _post(session, books, [])
    with pytest.raises(BusinessRuleViolation, match="memo"):
        post_journal(
            session,
            books.ctx,
            voucher_date=JAN,
            memo="  ",
            lines=[JournalLineIn(account_id=books.bank.gl_account_id, debit=D("1"))],
        )


def test_another_companys_account_answers_like_a_missing_one(session: Session) -> None:
    books = make_books(session)
    other = make_books(session, "globex")
    # Held by the session as well: a held account of another company is refused too.
    their_rent = _account(session, other.company.id, "6200")
    with pytest.raises(NotFound) as err:
        _post(
            session,
            books,
            [
                JournalLineIn(account_id=their_rent.id, debit=D("1.00")),
                JournalLineIn(account_id=books.bank.gl_account_id, credit=D("1.00")),
            ],
        )
    with pytest.raises(NotFound) as missing:
        _post(
            session,
            books,
            [
                JournalLineIn(account_id=999_999, debit=D("1.00")),
                JournalLineIn(account_id=books.bank.gl_account_id, credit=D("1.00")),
            ],
        )
    assert err.value.message == f"Account {their_rent.id} not found"
    assert type(err.value) is type(missing.value)


def test_another_companys_customer_cannot_be_named_on_a_line(session: Session) -> None:
    books = make_books(session)
    stranger = make_customer(session, make_books(session, "globex").company, "X1")
    ar = account_for_role(session, books.company.id, AccountRole.RECEIVABLE)
    with pytest.raises(NotFound, match="Customer"):
        _post(
            session,
            books,
            [
                JournalLineIn(account_id=ar.id, debit=D("1.00"), customer_id=stranger.id),
                JournalLineIn(account_id=books.bank.gl_account_id, credit=D("1.00")),
            ],
        )


def test_posting_needs_finance_post(session: Session) -> None:
    books = make_books(session)
    sales = make_context(session, books.company, ["sales"])
    with pytest.raises(PermissionDenied, match="finance.post"):
        _rent(session, sales)


# --- reversal -------------------------------------------------------------------------


def test_a_reversal_mirrors_the_voucher_and_clears_its_effect(session: Session) -> None:
    books = make_books(session)
    voucher = _rent(session, books.ctx)
    reversal = reverse_journal(
        session, books.ctx, voucher.id, on=dt.date(2026, 2, 3), memo="Wrong month"
    )
    assert reversal.reverses_id == voucher.id
    assert reversal.number == "JV-2026-0003"
    assert [(x.account_id, x.debit, x.credit) for x in reversal.lines] == [
        (x.account_id, x.credit, x.debit) for x in voucher.lines
    ]
    [bank] = repo.bank_balances(session, books.ctx)
    assert bank.balance == D("10000.00")
    assert repo.reversal_of(session, books.ctx, voucher.id) is reversal


def test_a_voucher_is_reversed_only_once(session: Session) -> None:
    books = make_books(session)
    voucher = _rent(session, books.ctx)
    reversal = reverse_journal(session, books.ctx, voucher.id, on=dt.date(2026, 2, 1), memo="x")
    with pytest.raises(InvalidState, match="already reversed"):
        reverse_journal(session, books.ctx, voucher.id, on=dt.date(2026, 2, 1), memo="again")
    with pytest.raises(InvalidState, match="itself a reversal"):
        reverse_journal(session, books.ctx, reversal.id, on=dt.date(2026, 2, 1), memo="undo")


def test_a_reversal_cannot_predate_its_voucher(session: Session) -> None:
    books = make_books(session)
    voucher = _rent(session, books.ctx)
    with pytest.raises(BusinessRuleViolation, match="before the voucher"):
        reverse_journal(session, books.ctx, voucher.id, on=dt.date(2026, 1, 31), memo="x")


def test_another_companys_voucher_cannot_be_reversed(session: Session) -> None:
    books = make_books(session)
    theirs = _rent(session, make_books(session, "globex").ctx)
    with pytest.raises(NotFound):
        reverse_journal(session, books.ctx, theirs.id, on=dt.date(2026, 3, 1), memo="x")


# --- immutability ---------------------------------------------------------------------


def test_a_posted_voucher_cannot_be_edited(session: Session) -> None:
    voucher = _rent(session, make_books(session).ctx)
    voucher.memo = "March rent"
    with pytest.raises(PostedVoucherImmutable, match="cannot be changed"):
        session.flush()


def test_a_posted_line_cannot_be_edited(session: Session) -> None:
    voucher = _rent(session, make_books(session).ctx)
    voucher.lines[0].debit = D("1.00")
    with pytest.raises(PostedVoucherImmutable, match="cannot be changed"):
        session.flush()


def test_a_posted_voucher_cannot_be_deleted(session: Session) -> None:
    voucher = _rent(session, make_books(session).ctx)
    session.delete(voucher)
    with pytest.raises(PostedVoucherImmutable, match="cannot be deleted"):
        session.flush()


def test_lines_cannot_be_added_to_a_posted_voucher(session: Session) -> None:
    books = make_books(session)
    voucher = _rent(session, books.ctx)
    session.add(
        JournalLine(
            company_id=books.company.id,
            voucher_id=voucher.id,
            line_no=3,
            account_id=books.bank.gl_account_id,
            debit=D("1.00"),
            credit=Z,
        )
    )
    with pytest.raises(PostedVoucherImmutable, match="lines cannot be added"):
        session.flush()


def test_bulk_updates_and_deletes_of_the_ledger_are_refused(session: Session) -> None:
    voucher = _rent(session, make_books(session).ctx)
    with pytest.raises(PostedVoucherImmutable, match="append-only"):
        session.execute(update(JournalLine).values(debit=D("0.01")))
    with pytest.raises(PostedVoucherImmutable, match="append-only"):
        session.execute(delete(JournalVoucher).where(JournalVoucher.id == voucher.id))


# --- bank accounts --------------------------------------------------------------------


def test_bank_accounts_get_their_own_gl_account_and_opening_voucher(session: Session) -> None:
    books = make_books(session)
    gl = session.get(Account, books.bank.gl_account_id)
    assert gl is not None and (gl.code, gl.is_bank, gl.account_type) == ("1010", True, "asset")
    second = create_bank_account(
        session,
        books.ctx,
        name="Petty cash",
        bank_name="Cash box",
        account_number="-",
        currency="usd",
        opening_balance=D("0"),
        opening_date=JAN,
    )
    assert session.get(Account, second.gl_account_id).code == "1020"  # type: ignore[union-attr]
    opening = repo.list_vouchers(session, books.ctx, source_type="bank_account")[0]
    assert [v.source_id for v in opening] == [books.bank.id]  # no voucher for a zero opening
    equity = account_for_role(session, books.company.id, AccountRole.EQUITY)
    assert {(x.account_id, x.debit, x.credit) for x in opening[0].lines} == {
        (gl.id, D("10000.00"), Z),
        (equity.id, Z, D("10000.00")),
    }
    balances = {b.bank_account.name: b.balance for b in repo.bank_balances(session, books.ctx)}
    assert balances == {"Main account": D("10000.00"), "Petty cash": Z}


def test_an_overdrawn_bank_account_opens_on_the_credit_side(session: Session) -> None:
    books = make_books(session)
    od = create_bank_account(
        session,
        books.ctx,
        name="Overdraft",
        bank_name="City Bank",
        account_number="0002",
        currency="USD",
        opening_balance=D("-250.00"),
        opening_date=JAN,
    )
    balances = {b.bank_account.id: b.balance for b in repo.bank_balances(session, books.ctx)}
    assert balances[od.id] == D("-250.00")


def test_bank_account_names_are_unique_and_in_the_company_currency(session: Session) -> None:
    books = make_books(session)
    kwargs = {"bank_name": "B", "account_number": "1", "opening_date": JAN}
    with pytest.raises(Conflict, match="already exists"):
        create_bank_account(
            session,
            books.ctx,
            name="Main account",
            currency="USD",
            opening_balance=Z,
            **kwargs,  # type: ignore[arg-type]
        )
    with pytest.raises(BusinessRuleViolation, match="company's currency"):
        create_bank_account(
            session,
            books.ctx,
            name="Euro account",
            currency="EUR",
            opening_balance=Z,
            **kwargs,  # type: ignore[arg-type]
        )


# --- reads ----------------------------------------------------------------------------


def test_balances_as_of_a_date_ignore_later_vouchers(session: Session) -> None:
    books = make_books(session)
    _rent(session, books.ctx)  # 1 February
    jan = {b.code: b.balance for b in repo.account_balances(session, books.ctx, as_of=JAN)}
    feb = {b.code: b.balance for b in repo.account_balances(session, books.ctx)}
    assert (jan["6200"], jan["1010"], jan["3000"]) == (Z, D("10000.00"), D("10000.00"))
    assert (feb["6200"], feb["1010"]) == (D("500.00"), D("9500.00"))
    before = repo.bank_balances(session, books.ctx, as_of=dt.date(2025, 12, 31))
    assert [b.balance for b in before] == [Z]


def test_the_trial_balance_balances(session: Session) -> None:
    books = make_books(session)
    _rent(session, books.ctx)
    tb = repo.trial_balance(session, books.ctx)
    assert tb.balanced and tb.total_debit == D("10000.00")
    rows = {r.code: (r.debit, r.credit) for r in tb.rows}
    assert rows == {
        "1010": (D("9500.00"), Z),
        "3000": (Z, D("10000.00")),
        "6200": (D("500.00"), Z),
    }


def test_voucher_lists_page_filter_and_stay_in_the_company(session: Session) -> None:
    books = make_books(session)
    other = make_books(session, "globex")
    for _ in range(3):
        _rent(session, books.ctx)
    page, total = repo.list_vouchers(session, books.ctx, limit=2, offset=0)
    assert total == 4 and len(page) == 2
    assert page[0].voucher_date == dt.date(2026, 2, 1)
    rent = _account(session, books.company.id, "6200")
    _, touching_rent = repo.list_vouchers(session, books.ctx, account_id=rent.id)
    assert touching_rent == 3
    found, n = repo.list_vouchers(session, books.ctx, q="jv-2026-0001")
    assert n == 1 and found[0].company_id == books.company.id
    theirs, _ = repo.list_vouchers(session, other.ctx)
    with pytest.raises(NotFound):
        repo.get_voucher(session, books.ctx, theirs[0].id)
    assert repo.get_voucher(session, other.ctx, theirs[0].id).id == theirs[0].id
