"""Support of the fault tests: a server process that can be killed, and the ledger's checks.

``Served`` is ``companion serve`` as a child process (like ``served.served``) that a test
may SIGKILL and start again on the same database. ``ledger_problems`` lists what a
half-written change would leave behind (the demo build's checks, tests/integration/demo,
plus the account-day totals and gap-free numbers), and the audit chains' verification.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from types import TracebackType

import httpx
from e2e_support import member
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from companion.audit.service import verify
from companion.demo import repository as demo_repo
from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import Invoice, InvoiceKind, SalesMonth, is_sale
from companion.erp.invoicing.service import create_invoice
from companion.erp.items.models import Item
from companion.erp.ledger.models import AccountDay, JournalLine, JournalVoucher
from companion.erp.numbering.service import current_numbers
from companion.erp.parties.models import Customer
from companion.tenancy.models import Company
from llmserver import free_port

DEMO_PASSWORD = "demo"


class Served:
    """``companion serve`` on a free loopback port; ``kill()`` is SIGKILL, no shutdown."""

    def __init__(self, env: dict[str, str], log_path: Path, *, ready_timeout_s: float = 30):
        self.log_path = log_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-c", "from companion.cli.main import app; app()"]
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, *args], env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + ready_timeout_s
        while True:
            assert self.process.poll() is None, f"the server exited:\n{self.log()}"
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"the server was not ready in time:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no rollback, no flush; what the kernel leaves."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:  # pragma: no cover - only if shutdown hangs
                self.kill()

    def __enter__(self) -> Served:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @contextmanager
    def client(self, username: str) -> Iterator[httpx.Client]:
        """An HTTP client signed in as a demo user."""
        with httpx.Client(base_url=f"{self.base}/api/v1", timeout=20) as http:
            login = http.post("/auth/login", json={"username": username, "password": DEMO_PASSWORD})
            assert login.status_code == 200, login.text
            http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            yield http


def server_env(database_url: str, data_dir: Path, today: str) -> dict[str, str]:
    """A demo-mode server on ``database_url`` with nothing running beside the requests."""
    return {
        "COMPANION_DATABASE_URL": database_url,
        "COMPANION_DATA_DIR": str(data_dir),
        "COMPANION_TODAY": today,
        "COMPANION_DEMO_MODE": "true",
        "COMPANION_LLM__PROVIDER": "none",
        # Actions through the REST API: no NLU, no models, so the server is ready at once.
        "COMPANION_API__WARM_START": "false",
        "COMPANION_ACTIONS__SWEEP_INTERVAL_SECONDS": "0",
        "COMPANION_JOBS__TICK_SECONDS": "0",
        # A request waiting on the test's lock must still be waiting when the test kills it.
        "COMPANION_DATABASE_BUSY_TIMEOUT_S": "60",
        "COMPANION_LOG_LEVEL": "WARNING",
    }


def ledger_problems(session: Session) -> list[str]:
    """Everything a half-written change would break; empty when the ledger is whole."""
    session.rollback()  # a new transaction: what is committed now
    problems: list[str] = []
    for company_id, (debit, credit) in demo_repo.journal_totals(session).items():
        if debit != credit:
            problems.append(f"company {company_id}: debits {debit} != credits {credit}")
    lines_per_voucher = dict(
        session.execute(
            select(JournalVoucher.id, func.count(JournalLine.id))
            .outerjoin(JournalLine, JournalLine.voucher_id == JournalVoucher.id)
            .group_by(JournalVoucher.id)
        ).all()
    )
    problems += [f"voucher {v} has {n} lines" for v, n in lines_per_voucher.items() if n < 2]
    for voucher_id, debit, credit in session.execute(
        select(
            JournalLine.voucher_id, func.sum(JournalLine.debit), func.sum(JournalLine.credit)
        ).group_by(JournalLine.voucher_id)
    ):
        if _cents(debit) != _cents(credit):  # SQLite sums money as floats: compare in cents
            problems.append(f"voucher {voucher_id}: debits {debit} != credits {credit}")
    unjournaled = session.execute(
        select(Invoice.number).where(
            Invoice.status.in_(("posted", "partially_paid", "paid")),
            Invoice.journal_id.is_(None),
        )
    ).scalars()
    problems += [f"{number} is posted without a journal voucher" for number in unjournaled]
    problems += _account_day_problems(session)
    problems += _sales_month_problems(session)
    problems += _numbering_problems(session)
    problems += demo_repo.cross_company_references(session)
    report = verify(session)
    problems += report.problems
    return problems


def _cents(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _account_day_problems(session: Session) -> list[str]:
    """The ledger's per-account, per-day totals agree with the journal lines."""
    journal: dict[tuple[int, int, object], tuple[Decimal, Decimal, int]] = {}
    for company_id, account_id, day, debit, credit, lines in session.execute(
        select(
            JournalLine.company_id,
            JournalLine.account_id,
            JournalVoucher.voucher_date,
            func.sum(JournalLine.debit),
            func.sum(JournalLine.credit),
            func.count(),
        )
        .join(JournalVoucher, JournalVoucher.id == JournalLine.voucher_id)
        .group_by(JournalLine.company_id, JournalLine.account_id, JournalVoucher.voucher_date)
    ):
        journal[(company_id, account_id, day)] = (_cents(debit), _cents(credit), lines)
    kept = {
        (d.company_id, d.account_id, d.day): (d.debit, d.credit, d.lines)
        for d in session.execute(select(AccountDay)).scalars()
    }
    return [
        f"account_days {key}: kept {kept.get(key)}, journal {journal.get(key)}"
        for key in sorted(set(journal) | set(kept), key=str)
        if journal.get(key) != kept.get(key)
    ][:5]


def _sales_month_problems(session: Session) -> list[str]:
    """The ledger's sales per customer and month agree with the invoices that are sales."""
    invoices: dict[tuple[int, int | None, dt.date], tuple[Decimal, Decimal, int]] = {}
    rows = session.execute(
        select(Invoice.company_id, Invoice.customer_id, Invoice.issue_date, Invoice.subtotal,
               Invoice.tax_total).where(is_sale())
    ).all()  # fmt: skip
    for company_id, customer_id, issued, subtotal, tax in rows:
        key = (company_id, customer_id, issued.replace(day=1))
        amount, taxed, n = invoices.get(key, (Decimal(0), Decimal(0), 0))
        invoices[key] = (amount + subtotal, taxed + tax, n + 1)
    invoices = {k: (_cents(a), _cents(t), n) for k, (a, t, n) in invoices.items()}
    kept = {
        (m.company_id, m.customer_id, m.month): (m.amount, m.tax, m.invoices)
        for m in session.execute(select(SalesMonth).where(SalesMonth.invoices != 0)).scalars()
    }
    return [
        f"sales_months {key}: kept {kept.get(key)}, invoices {invoices.get(key)}"
        for key in sorted(set(invoices) | set(kept), key=str)
        if invoices.get(key) != kept.get(key)
    ][:5]


def _numbering_problems(session: Session) -> list[str]:
    """Journal vouchers and invoices are numbered 1..last per company, prefix and year."""
    problems = []
    for company_id in session.execute(select(Company.id)).scalars():
        last = current_numbers(session, company_id)
        found: dict[tuple[str, int], list[int]] = defaultdict(list)
        for table in (JournalVoucher, Invoice):
            for number in session.execute(
                select(table.number).where(table.company_id == company_id)
            ).scalars():
                prefix, year, n = number.split("-")
                found[(prefix, int(year))].append(int(n))
        for key, ns in found.items():
            if sorted(ns) != list(range(1, last.get(key, 0) + 1)):
                problems.append(f"company {company_id} {key}: numbers are not 1..{last.get(key)}")
    return problems


def draft_invoices(session: Session, count: int, on: dt.date) -> list[str]:
    """``count`` draft AR invoices of acme (one item line each), committed; their numbers."""
    admin = member(session, "admin")
    customer = (
        session.execute(
            select(Customer).where(Customer.company_id == admin.company_id).order_by(Customer.id)
        )
        .scalars()
        .first()
    )
    item = (
        session.execute(select(Item).where(Item.company_id == admin.company_id).order_by(Item.id))
        .scalars()
        .first()
    )
    assert customer is not None and item is not None
    numbers = [
        create_invoice(
            session,
            admin,
            kind=InvoiceKind.AR,
            party_id=customer.id,
            issue_date=on,
            lines=[DocLineIn(item_id=item.id, quantity=Decimal(n + 1))],
        ).number
        for n in range(count)
    ]
    session.commit()
    return numbers
