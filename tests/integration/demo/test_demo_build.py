"""The demo built through the real services on SQLite and PostgreSQL, at a small scale.

One build per backend is shared by the module's tests (rolled back at the end); two more
builds into fresh SQLite files prove that the same "today" gives the same data, and that
the data does not depend on the backend or on the ids a database hands out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from companion.audit.service import verify
from companion.auth.models import User
from companion.auth.service import authenticate
from companion.demo import repository as demo_repo
from companion.demo.profiles import PROFILES
from companion.demo.schemas import DemoSummary
from companion.demo.service import build_demo
from companion.erp.invoicing.models import OPEN_STATUSES, Invoice, SalesMonth, is_sale
from companion.erp.ledger import repository as ledger_repo
from companion.erp.numbering.service import current_numbers
from companion.erp.purchasing.models import PurchaseOrder
from companion.erp.purchasing.service import pending_approvals_for
from companion.erp.sales.models import SalesOrder
from companion.erp.stock import repository as stock_repo
from companion.errors import Conflict
from companion.kit import migrate
from companion.kit.db import make_engine, make_session_factory, session_scope
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company, Membership
from companion.tenancy.permissions import permissions_for
from factories import CHEAP_HASHER

TODAY = dt.date(2026, 3, 15)
MONTHS, SCALE = 2, 0.15
PO_STATUSES = {
    "draft",
    "pending_approval",
    "approved",
    "rejected",
    "partially_received",
    "received",
    "closed",
    "cancelled",
}


@dataclass
class Built:
    session: Session
    summary: DemoSummary

    def company(self, slug: str) -> Company:
        company = demo_repo.company_by_slug(self.session, slug)
        assert company is not None
        return company

    def ctx(self, slug: str, username: str) -> RequestContext:
        company = self.company(slug)
        user_id, roles = self.session.execute(
            select(User.id, Membership.roles)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.company_id == company.id, User.username == username)
        ).one()
        return RequestContext(
            user_id=user_id,
            username=username,
            company_id=company.id,
            company_slug=slug,
            currency=company.base_currency,
            roles=tuple(roles),
            permissions=permissions_for(roles),
        )


def _fresh_sqlite_dump(directory: Path) -> dict[str, list[str]]:
    engine = make_engine(f"sqlite:///{directory / 'demo.db'}")
    try:
        migrate.upgrade(engine)
        with session_scope(make_session_factory(engine)) as session:
            build_demo(session, CHEAP_HASHER, today=TODAY, months=MONTHS, scale=SCALE)
        with session_scope(make_session_factory(engine)) as session:
            return demo_repo.canonical_dump(session)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def reference_dump(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, list[str]]:
    """The demo built into a fresh SQLite file."""
    return _fresh_sqlite_dump(tmp_path_factory.mktemp("demo-reference"))


@pytest.fixture(scope="module")
def built(engine: Engine) -> Iterator[Built]:
    """The demo built in the shared test database of each backend, rolled back afterwards."""
    with engine.connect() as conn:
        trans = conn.begin()
        session = Session(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        progress: list[float] = []
        summary = build_demo(
            session,
            CHEAP_HASHER,
            today=TODAY,
            months=MONTHS,
            scale=SCALE,
            progress=lambda message, fraction: progress.append(fraction),
        )
        assert progress[0] == 0.0 and progress[-1] == 1.0 and progress == sorted(progress)
        yield Built(session, summary)
        session.close()
        trans.rollback()


def test_the_same_today_builds_the_same_data_twice(
    tmp_path: Path, reference_dump: dict[str, list[str]]
) -> None:
    again = _fresh_sqlite_dump(tmp_path)
    assert again == reference_dump
    assert len(again["invoices"]) > 20 and len(again["journal_lines"]) > 200


def test_the_data_is_the_same_on_every_backend(
    built: Built, reference_dump: dict[str, list[str]]
) -> None:
    dump = demo_repo.canonical_dump(built.session)
    for table in sorted(reference_dump):
        assert dump[table] == reference_dump[table], table


def test_the_summary_lists_users_companies_documents_and_counts(built: Built) -> None:
    summary = built.summary
    assert summary.password == "demo" and summary.today == TODAY
    assert {c.slug for c in summary.companies} == {"acme", "globex"}
    assert len(summary.users) == 8 and len(summary.documents) == 10
    assert summary.counts["companies"] == 2 and summary.counts["demo_anomalies"] >= 4
    for c in summary.companies:
        assert c.ar_invoices > 5 and c.purchase_orders >= 11 and c.customers >= 12


def test_every_journal_balances(built: Built) -> None:
    totals = demo_repo.journal_totals(built.session)
    for slug in PROFILES:
        company = built.company(slug)
        debit, credit = totals[company.id]
        assert debit == credit > 0
        tb = ledger_repo.trial_balance(built.session, built.ctx(slug, "admin"))
        assert tb.total_debit == tb.total_credit > 0


def test_bank_accounts_open_and_stay_in_credit(built: Built) -> None:
    for slug in PROFILES:
        balances = ledger_repo.bank_balances(built.session, built.ctx(slug, "admin"))
        assert len(balances) == 3
        assert all(b.balance > 0 for b in balances), [
            (b.bank_account.name, b.balance) for b in balances
        ]


def test_each_company_has_overdue_and_current_invoices(built: Built) -> None:
    for slug in PROFILES:
        company = built.company(slug)
        open_ar = select(func.count()).where(
            Invoice.company_id == company.id,
            Invoice.kind == "ar",
            Invoice.status.in_(OPEN_STATUSES),
        )
        overdue = built.session.execute(open_ar.where(Invoice.due_date < TODAY)).scalar_one()
        current = built.session.execute(open_ar.where(Invoice.due_date >= TODAY)).scalar_one()
        assert overdue > 0 and current > 0, slug
        statuses = set(
            built.session.execute(
                select(Invoice.status).where(Invoice.company_id == company.id)
            ).scalars()
        )
        assert {"paid", "posted", "void"} <= statuses, slug


def test_purchase_orders_exist_in_every_status(built: Built) -> None:
    for slug in PROFILES:
        statuses = set(
            built.session.execute(
                select(PurchaseOrder.status).where(
                    PurchaseOrder.company_id == built.company(slug).id
                )
            ).scalars()
        )
        assert statuses == PO_STATUSES, slug


@pytest.mark.parametrize(
    ("slug", "username"),
    [
        ("acme", "buyer"),
        ("acme", "finance"),
        ("acme", "ceo"),
        ("globex", "admin"),
        ("globex", "gfinance"),
        ("globex", "ceo"),
    ],
)
def test_each_approver_has_purchase_orders_waiting(built: Built, slug: str, username: str) -> None:
    tasks = pending_approvals_for(built.session, built.ctx(slug, username))
    assert tasks, f"{username} has nothing to approve in {slug}"


def test_some_stock_is_below_its_reorder_level(built: Built) -> None:
    for slug in PROFILES:
        rows = stock_repo.below_reorder(built.session, built.ctx(slug, "admin"))
        secondary = PROFILES[slug].warehouses[1].code
        assert any(r.warehouse_code == secondary for r in rows), slug
        assert all(r.quantity >= 0 for r in rows)


def test_anomalies_are_recorded_and_match_the_invoices(built: Built) -> None:
    for slug in PROFILES:
        company = built.company(slug)
        anomalies = demo_repo.anomalies_of(built.session, company.id)
        assert {a.direction for a in anomalies} == {"spike", "drop"}
        for a in anomalies:
            sold = built.session.execute(
                select(func.coalesce(func.sum(Invoice.subtotal), 0)).where(
                    Invoice.company_id == company.id,
                    Invoice.kind == "ar",
                    Invoice.status != "void",
                    Invoice.issue_date == a.on_date,
                )
            ).scalar_one()
            assert Decimal(str(sold)).quantize(Decimal("0.01")) == a.observed, a.on_date
            assert (a.observed > 2 * a.baseline) if a.direction == "spike" else a.observed == 0


def test_the_sales_per_customer_and_month_kept_by_the_ledger_equal_the_invoices(
    built: Built,
) -> None:
    cent, D0 = Decimal("0.01"), Decimal(0)
    sold: dict[tuple[int, int | None, dt.date], list[Decimal]] = {}
    for company_id, customer_id, issued, subtotal, tax in built.session.execute(
        select(Invoice.company_id, Invoice.customer_id, Invoice.issue_date, Invoice.subtotal,
               Invoice.tax_total).where(is_sale())
    ):  # fmt: skip
        sums = sold.setdefault((company_id, customer_id, issued.replace(day=1)), [D0, D0, D0])
        sums[0] += subtotal
        sums[1] += tax
        sums[2] += 1
    kept = {
        (m.company_id, m.customer_id, m.month): (m.amount, m.tax, m.invoices)
        for m in built.session.execute(select(SalesMonth).where(SalesMonth.invoices != 0)).scalars()
    }
    assert len(kept) > 10
    assert kept == {k: (a.quantize(cent), t.quantize(cent), n) for k, (a, t, n) in sold.items()}


def test_no_row_points_at_another_company(built: Built) -> None:
    assert demo_repo.cross_company_references(built.session) == []


def test_document_numbers_are_gap_free(built: Built) -> None:
    for slug in PROFILES:
        company = built.company(slug)
        numbers = current_numbers(built.session, company.id)
        orders = built.session.execute(
            select(SalesOrder.number).where(SalesOrder.company_id == company.id)
        ).scalars()
        by_year: dict[str, list[int]] = {}
        for number in orders:
            _, year, n = number.split("-")
            by_year.setdefault(year, []).append(int(n))
        for year, ns in by_year.items():
            assert sorted(ns) == list(range(1, len(ns) + 1))
            assert numbers[("SO", int(year))] == len(ns)


def test_demo_users_log_in_with_the_demo_password(built: Built) -> None:
    for username in ("ceo", "finance", "gfinance", "admin", "viewer"):
        assert authenticate(built.session, CHEAP_HASHER, username, "demo").username == username
    assert built.ctx("acme", "sales").roles == ("sales",)
    assert built.ctx("globex", "ceo").roles == ("executive",)


def test_every_change_is_audited_and_the_chains_verify(built: Built) -> None:
    report = verify(built.session)
    assert report.ok, report.problems
    assert report.chains == 3 and report.entries > 500


def test_building_twice_is_refused(built: Built) -> None:
    with pytest.raises(Conflict):
        build_demo(built.session, CHEAP_HASHER, today=TODAY, months=MONTHS, scale=SCALE)
