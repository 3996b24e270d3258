"""A large company (and small ones beside it) on PostgreSQL, written with COPY.

    .venv/bin/python bench/bulk_company.py --database scale_bulk --invoices 1000000 --reset

Creates (``--reset``: drops first) the database, migrates it, sets each company up through
the ERP services (chart of accounts, bank accounts with their opening vouchers, warehouses,
users), then writes the volume with COPY: customers, suppliers, items, stock, AR invoices
and AP bills with their lines and balanced vouchers (Dr receivable / Cr revenue / Cr tax,
and the mirror for bills), receipts and supplier payments with their allocations and
vouchers (Dr bank / Cr receivable, Dr payable / Cr bank), voided invoices with their
reversal vouchers, drafts without one, and monthly rent, salaries and utilities paid from
the bank. Amounts are whole cents, so every voucher balances exactly; ``amount_paid`` is
the sum of the invoice's allocations and its status follows from it. Document numbers run
on from the services' sequences, which are moved on to the last number written.

Then checks the ledger's invariants with the project's own functions (journal totals and
trial balance per company, bank balances, cross-company references, the invoicing rules'
``payment_status`` and the ledger rules' ``check_journal_lines`` on a sample of invoices
and vouchers), runs ``VACUUM ANALYZE``, and prints build time, row counts and size.
Deterministic for a seed. Sales do not move stock or post cost of goods sold.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from companion.auth.passwords import HashParameters, PasswordHasher
from companion.auth.service import create_user, set_membership
from companion.demo import repository as demo_repo
from companion.erp.invoicing.models import Invoice
from companion.erp.invoicing.rules import payment_status
from companion.erp.items.service import create_warehouse
from companion.erp.ledger import repository as ledger_repo
from companion.erp.ledger.models import Account, AccountRole
from companion.erp.ledger.rules import check_journal_lines
from companion.erp.ledger.service import create_bank_account, setup_company_ledger
from companion.erp.numbering.models import DocumentSequence
from companion.erp.payments.models import PaymentAllocation
from companion.kit import migrate
from companion.kit.db import make_engine
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from companion.tenancy.permissions import permissions_for

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
# The measure sales per customer and month (migration 0016 fills sales_months the same way).
SALES = "kind = 'ar' AND status IN ('posted', 'partially_paid', 'paid')"
SALES_MONTH = "CAST(date_trunc('month', issue_date) AS date)"
STAMP = "2026-03-15 00:00:00+00"
N = r"\N"
ADJ = "Amber Blue Cedar Delta Eastern Falcon Golden Harbor Iron Jade Kestrel Lotus Meadow Northern Oak Pacific Quartz River Silver Summit Tiger Union Valley Western Zenith Crescent Maple Royal Star Coral".split()  # noqa: E501
NOUN = "Traders Stores Mart Supplies Enterprises Holdings Retail Foods Textiles Pharma Electronics Motors Builders Agro Logistics Crafts Exports Imports Distributors Wholesale Bazaar Outlet Depot Works Industries Partners".split()  # noqa: E501
TOWN = "Dhaka Chittagong Khulna Sylhet Rajshahi Barisal Rangpur Comilla Gazipur Narayanganj Bogra Jessore Mymensingh Dinajpur Pabna Tangail Noakhali Feni Cox Kushtia Faridpur Sirajganj Jamalpur Satkhira Chandpur Madaripur Habiganj Lalmonirhat Bhola Magura Natore Sherpur Joypurhat Meherpur Pirojpur".split()  # noqa: E501
MATERIAL = "Steel Copper Cotton Plastic Oak Glass Rubber Ceramic Bamboo Leather Wool Silk Brass Nylon Paper Granite Marble Linen Denim Canvas Aluminium Teak Jute Clay Felt".split()  # noqa: E501
THING = "Bolt Cable Shirt Bucket Chair Jar Hose Plate Basket Belt Scarf Tie Hinge Rope Notebook Tile Slab Towel Jacket Bag Ladder Table Sack Pot Hat Lamp Fan Kettle Mug Tray Box Brush Mat Cup Bowl Clock Shelf Stool Crate Drum".split()  # noqa: E501
SIZE = ["Small", "Medium", "Large", "XL", "Pro"]
SMALL = "Acorn Birch Clover Daisy Elm Fern Hazel Iris Juniper Laurel Myrtle Nettle Olive Poppy Rowan Sage Thyme Violet Willow Yarrow".split()  # noqa: E501


@dataclass
class Spec:
    slug: str
    name: str
    currency: str
    customers: int
    suppliers: int
    items: int
    invoices: int
    bills: int
    months: int
    big: bool


@dataclass
class Setup:
    """What the services created for a company, and the sequences they left."""

    company_id: int
    user_id: int
    accounts: dict[str, int]
    banks: list[tuple[int, int]]
    warehouses: list[int]
    sequences: dict[tuple[str, int], int]


@dataclass
class Ids:
    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        self.next[table] += 1
        return self.next[table]


class Writer:
    """Tab-separated COPY text per table, buffered into files under ``folder``."""

    def __init__(self, folder: Path, columns: dict[str, list[str]]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.columns = folder, columns
        self.files = {t: (folder / f"{t}.tsv").open("w") for t in columns}
        self.buffers: dict[str, list[str]] = {t: [] for t in columns}
        self.counts: dict[str, int] = dict.fromkeys(columns, 0)

    def row(self, table: str, *values: Any) -> None:
        buffer = self.buffers[table]
        buffer.append("\t".join(N if v is None else str(v) for v in values))
        self.counts[table] += 1
        if len(buffer) >= 20000:
            self.files[table].write("\n".join(buffer) + "\n")
            buffer.clear()

    def close(self) -> None:
        for table, buffer in self.buffers.items():
            if buffer:
                self.files[table].write("\n".join(buffer) + "\n")
            self.files[table].close()


COLUMNS = {
    "customers": "id company_id code name email phone payment_terms_days is_active credit_limit created_at updated_at",  # noqa: E501
    "suppliers": "id company_id code name email phone payment_terms_days is_active created_at updated_at",  # noqa: E501
    "items": "id company_id sku name uom unit_price unit_cost is_tracked reorder_level reorder_qty tax_rate is_active created_at updated_at",  # noqa: E501
    "stock_levels": "id company_id item_id warehouse_id quantity created_at updated_at",
    "stock_moves": "id company_id move_type item_id from_warehouse_id to_warehouse_id quantity unit_cost move_date reference reason created_by_id created_at updated_at",  # noqa: E501
    "journal_vouchers": "id company_id number voucher_date memo source_type source_id reverses_id created_by_id created_at updated_at",  # noqa: E501
    "journal_lines": "id company_id voucher_id line_no account_id debit credit description customer_id supplier_id",  # noqa: E501
    "invoices": "id company_id kind number customer_id supplier_id issue_date due_date status currency subtotal discount_total tax_total total amount_paid journal_id created_by_id created_at updated_at",  # noqa: E501
    "invoice_lines": "id company_id invoice_id line_no item_id account_id description quantity unit_price discount_pct tax_rate net_amount tax_amount",  # noqa: E501
    "payments": "id company_id kind number customer_id supplier_id bank_account_id payment_date amount currency status journal_id created_by_id created_at updated_at",  # noqa: E501
    "payment_allocations": "id company_id payment_id invoice_id amount",
}
TABLES = {t: c.split() for t, c in COLUMNS.items()}


def cents(c: int) -> str:
    return f"{c // 100}.{c % 100:02d}"


def pct_of(amount: int, pct_x100: int) -> int:
    """``amount`` cents times ``pct_x100``/10000, rounded half up (e.g. 750 = 7.5 %)."""
    return (amount * pct_x100 + 5000) // 10000


def monthly_sales(spec: Spec) -> int:
    """Expected sales per month in cents: 3 lines of 10.5 units at about 2,500 each."""
    return spec.invoices * 3 * 21 * 125_000 // 2 // spec.months


def month_start(day: dt.date, back: int) -> dt.date:
    m = day.year * 12 + day.month - 1 - back
    return dt.date(m // 12, m % 12 + 1, 1)


# The bench users sign in rarely: cheap Argon2 costs keep the setup quick.
CHEAP_HASHER = PasswordHasher(HashParameters(time_cost=1, memory_cost=8, parallelism=1))


# -- setup through the services -------------------------------------------------------


def set_up(session: Session, spec: Spec, opening: dt.date, opening_cash: int) -> Setup:
    company = Company(slug=spec.slug, name=spec.name, base_currency=spec.currency)
    session.add(company)
    session.flush()
    users = [("ceo", "executive"), ("finance", "finance")] if spec.big else []
    users.append((f"{spec.slug}.ceo", "executive"))
    user_ids = []
    for username, role in users:
        user = create_user(
            session, CHEAP_HASHER, username=username, password="demo", full_name=username
        )
        set_membership(session, user.id, company.id, [role])
        user_ids.append(user.id)
    ctx = RequestContext(
        user_id=user_ids[0],
        username=users[0][0],
        company_id=company.id,
        company_slug=spec.slug,
        currency=spec.currency,
        roles=("admin",),
        permissions=permissions_for(["admin"]),
    )
    setup_company_ledger(session, company.id)
    banks = []
    for n, bank in enumerate(("City Bank", "Harbor Bank", "Union Bank")):
        account = create_bank_account(
            session,
            ctx,
            name=f"{bank} {spec.slug}",
            bank_name=bank,
            account_number=f"{company.id:04d}-{n:06d}",
            currency=spec.currency,
            opening_balance=Decimal(opening_cash) / 100,
            opening_date=opening,
        )
        banks.append((account.id, account.gl_account_id))
    warehouses = [
        create_warehouse(session, ctx, code=code, name=f"{code} warehouse").id
        for code in ("MAIN", "EAST", "WEST")
    ]
    session.flush()
    accounts = {
        a.role or a.code: a.id
        for a in session.execute(select(Account).where(Account.company_id == company.id))
        .scalars()
        .all()
    }
    sequences = {
        (s.prefix, s.year): s.last_number
        for s in session.execute(
            select(DocumentSequence).where(DocumentSequence.company_id == company.id)
        ).scalars()
    }
    return Setup(company.id, user_ids[0], accounts, banks, warehouses, sequences)


# -- the volume ----------------------------------------------------------------------


class Generator:
    """Writes one company's rows; every voucher is balanced by construction."""

    def __init__(self, w: Writer, ids: Ids, spec: Spec, s: Setup, today: dt.date, seed: int):
        self.w, self.ids, self.spec, self.s, self.today = w, ids, spec, s, today
        self.rng = random.Random(seed)
        self.seq = dict(s.sequences)
        self.cur = spec.currency
        self.co = s.company_id
        self.user = s.user_id
        self.monthly_sales = monthly_sales(spec)

    def number(self, prefix: str, year: int) -> str:
        n = self.seq.get((prefix, year), 0) + 1
        self.seq[(prefix, year)] = n
        return f"{prefix}-{year}-{n:04d}"

    def voucher(
        self,
        day: dt.date,
        memo: str,
        lines: list[tuple[int, int, int, str, int | None, int | None]],
        source: tuple[str, int] | None = None,
        reverses: int | None = None,
    ) -> int:
        vid = self.ids.take("journal_vouchers")
        assert sum(d for _, d, _, _, _, _ in lines) == sum(c for _, _, c, _, _, _ in lines)
        self.w.row(
            "journal_vouchers",
            vid,
            self.co,
            self.number("JV", day.year),
            day,
            memo,
            source[0] if source else None,
            source[1] if source else None,
            reverses,
            self.user,
            STAMP,
            STAMP,
        )
        lines = [line for line in lines if line[1] or line[2]]
        for no, (account, debit, credit, desc, customer, supplier) in enumerate(lines, 1):
            self.w.row(
                "journal_lines",
                self.ids.take("journal_lines"),
                self.co,
                vid,
                no,
                account,
                cents(debit),
                cents(credit),
                desc,
                customer,
                supplier,
            )
        return vid

    def master_data(self) -> None:
        rng, spec, w = self.rng, self.spec, self.w
        if spec.big:
            names = [f"{a} {b} {t}" for t in TOWN for a in ADJ for b in NOUN]
            items = [f"{m} {t} {s}" for s in SIZE for m in MATERIAL for t in THING]
        else:
            tag = SMALL[(self.co - 1) % len(SMALL)]
            names = [f"{tag} {spec.slug} Client {n}" for n in range(1, 10000)]
            items = [f"{tag} {spec.slug} Product {n}" for n in range(1, 10000)]
        rng.shuffle(names)
        self.customers: list[tuple[int, str, int]] = []
        for n in range(spec.customers):
            cid, terms = self.ids.take("customers"), rng.choice((15, 30, 30, 45, 60))
            name = names[n]
            w.row("customers", cid, self.co, f"CUST-{n + 1:05d}", name, None, None, terms,
                  "t", cents(rng.randrange(1, 50) * 100_000_00), STAMP, STAMP)  # fmt: skip
            self.customers.append((cid, name, terms))
        self.seq[("CUST", 0)] = spec.customers
        self.suppliers: list[tuple[int, str, int]] = []
        for n in range(spec.suppliers):
            sid, terms = self.ids.take("suppliers"), rng.choice((30, 45, 60))
            name = f"{names[-1 - n]} Supply"
            w.row("suppliers", sid, self.co, f"SUPP-{n + 1:05d}", name, None, None, terms, "t",
                  STAMP, STAMP)  # fmt: skip
            self.suppliers.append((sid, name, terms))
        self.seq[("SUPP", 0)] = spec.suppliers
        rng.shuffle(items)
        self.items: list[tuple[int, str, int, int, int, bool]] = []
        stock_value = 0
        for n in range(spec.items):
            iid = self.ids.take("items")
            price = rng.randrange(100, 500_000)
            cost = price * rng.randrange(55, 80) // 100
            tax = rng.choice((500, 750, 1500, 1500))  # percent x 100
            tracked = rng.random() > 0.1
            reorder = rng.randrange(5, 50)
            w.row("items", iid, self.co, f"SKU-{n + 1:05d}", items[n], "unit", cents(price),
                  cents(cost), "t" if tracked else "f", reorder, reorder * 2, cents(tax), "t",
                  STAMP, STAMP)  # fmt: skip
            self.items.append((iid, items[n], price, cost, tax, tracked))
            if not tracked:
                continue
            for wh in self.s.warehouses:
                if rng.random() < 0.3:
                    continue
                qty = rng.randrange(0, 400) if rng.random() > 0.08 else rng.randrange(0, reorder)
                w.row("stock_levels", self.ids.take("stock_levels"), self.co, iid, wh, qty,
                      STAMP, STAMP)  # fmt: skip
                if qty:
                    w.row("stock_moves", self.ids.take("stock_moves"), self.co, "receipt", iid,
                          None, wh, qty, cents(cost), self.opening, "OPENING", "Opening stock",
                          self.user, STAMP, STAMP)  # fmt: skip
                    stock_value += qty * cost
        if stock_value:
            a = self.s.accounts
            self.voucher(self.opening, "Opening stock", [
                (a[AccountRole.INVENTORY], stock_value, 0, "Opening stock", None, None),
                (a[AccountRole.EQUITY], 0, stock_value, "Opening stock", None, None),
            ])  # fmt: skip

    def pick(self, parties: list[Any]) -> Any:
        """Skewed: a few big customers, a long tail."""
        return parties[int(len(parties) * self.rng.random() ** 2.2)]

    def document(self, day: dt.date, kind: str) -> None:
        rng, a, w = self.rng, self.s.accounts, self.w
        ar = kind == "ar"
        party, name, terms = self.pick(self.customers if ar else self.suppliers)
        iid = self.ids.take("invoices")
        number = self.number("INV" if ar else "BILL", day.year)
        lines, subtotal, discount, tax_total = [], 0, 0, 0
        nets: dict[int, int] = {}
        for no in range(1, rng.randint(1, 5 if ar else 3) + 1):
            item, item_name, price, cost, tax_rate, tracked = self.pick(self.items)
            unit = price if ar else cost
            qty = rng.randint(1, 20) * (1 if ar else 5)
            disc = rng.choice((0, 0, 0, 500, 1000)) if ar else 0
            gross = qty * unit
            net = gross - pct_of(gross, disc)
            tax = pct_of(net, tax_rate)
            subtotal, discount, tax_total = subtotal + net, discount + gross - net, tax_total + tax
            account = (
                a[AccountRole.REVENUE]
                if ar
                else a[AccountRole.INVENTORY if tracked else AccountRole.EXPENSE]
            )
            nets[account] = nets.get(account, 0) + net
            lines.append((self.ids.take("invoice_lines"), no, item, None if ar else account,
                          item_name, qty, cents(unit), cents(disc), cents(tax_rate),
                          cents(net), cents(tax)))  # fmt: skip
        total = subtotal + tax_total
        due = day + dt.timedelta(days=terms)
        u = rng.random()
        recent = (self.today - day).days <= 10
        status, journal, paid = "posted", None, 0
        payments: list[tuple[dt.date, int]] = []
        if recent and u < 0.01:
            status = "draft"
        else:
            memo = f"{'Invoice' if ar else 'Bill'} {number}, {name}"
            party_line = (a[AccountRole.RECEIVABLE if ar else AccountRole.PAYABLE], number,
                          party if ar else None, None if ar else party)  # fmt: skip
            tax_account = a[AccountRole.TAX_OUTPUT if ar else AccountRole.TAX_INPUT]
            if ar:
                vlines = [(party_line[0], total, 0, number, party_line[2], None)]
                vlines += [(acc, 0, net, number, None, None) for acc, net in nets.items()]
                vlines.append((tax_account, 0, tax_total, number, None, None))
            else:
                vlines = [(acc, net, 0, number, None, None) for acc, net in nets.items()]
                vlines.append((tax_account, tax_total, 0, number, None, None))
                vlines.append((party_line[0], 0, total, number, None, party_line[3]))
            journal = self.voucher(day, memo, vlines, ("invoice", iid))
            if u < 0.003:
                status = "void"
                on = min(self.today, day + dt.timedelta(days=rng.randint(1, 5)))
                mirrored = [(acc, c, d, desc, cu, su) for acc, d, c, desc, cu, su in vlines]
                self.later[on].append(("reverse", journal, f"Void {number}: entered twice",
                                       mirrored))  # fmt: skip
            else:
                if u < 0.12:  # two instalments
                    first = total * rng.randint(40, 60) // 100
                    d1 = day + dt.timedelta(days=rng.randint(5, max(6, terms)))
                    d2 = d1 + dt.timedelta(days=rng.randint(10, 40))
                    payments = [(d1, first), (d2, total - first)]
                elif u < 0.96:
                    payments = [(day + dt.timedelta(days=rng.randint(3, terms + 20)), total)]
                payments = [(d, amt) for d, amt in payments if d <= self.today]
                paid = sum(amt for _, amt in payments)
                status = payment_status(Decimal(total), Decimal(paid)).value
                for d, amt in payments:
                    self.later[d].append(("pay", kind, iid, party, name, amt))
        w.row("invoices", iid, self.co, kind, number, party if ar else None,
              None if ar else party, day, due, status, self.cur, cents(subtotal),
              cents(discount), cents(tax_total), cents(total), cents(paid), journal, self.user,
              STAMP, STAMP)  # fmt: skip
        for line in lines:
            lid, no, item, account, desc, qty, unit, disc, rate, net, tax = line
            w.row("invoice_lines", lid, self.co, iid, no, item, account, desc, qty, unit, disc,
                  rate, net, tax)  # fmt: skip

    def settle(self, day: dt.date) -> None:
        a, rng = self.s.accounts, self.rng
        for event in self.later.pop(day, []):
            if event[0] == "reverse":
                _, original, memo, lines = event
                self.voucher(day, memo, lines, reverses=original)
                continue
            _, kind, invoice, party, name, amount = event
            receipt = kind == "ar"
            bank, gl = rng.choice(self.s.banks)
            pid = self.ids.take("payments")
            number = self.number("RCPT" if receipt else "PAY", day.year)
            if receipt:
                lines = [
                    (gl, amount, 0, number, None, None),
                    (a[AccountRole.RECEIVABLE], 0, amount, number, party, None),
                ]
                memo = f"Receipt {number} from {name}"
            else:
                lines = [(a[AccountRole.PAYABLE], amount, 0, number, None, party),
                         (gl, 0, amount, number, None, None)]  # fmt: skip
                memo = f"Payment {number} to {name}"
            journal = self.voucher(day, memo, lines, ("payment", pid))
            self.w.row("payments", pid, self.co, "receipt" if receipt else "payment", number,
                       party if receipt else None, None if receipt else party, bank, day,
                       cents(amount), self.cur, "posted", journal, self.user, STAMP,
                       STAMP)  # fmt: skip
            self.w.row("payment_allocations", self.ids.take("payment_allocations"), self.co,
                       pid, invoice, cents(amount))  # fmt: skip

    def run(self) -> None:
        spec, rng = self.spec, self.rng
        start = month_start(self.today, spec.months - 1)
        self.opening = start - dt.timedelta(days=1)
        self.later: dict[dt.date, list[Any]] = defaultdict(list)
        self.master_data()
        days = [start + dt.timedelta(days=n) for n in range((self.today - start).days + 1)]
        weights = [(1 + n / len(days)) * (0.5 if d.weekday() >= 5 else 1.0)
                   for n, d in enumerate(days)]  # fmt: skip
        total_w = sum(weights)
        carry_ar = carry_ap = 0.0
        for day, weight in zip(days, weights, strict=True):
            carry_ar += spec.invoices * weight / total_w
            carry_ap += spec.bills * weight / total_w
            docs = ["ar"] * int(carry_ar) + ["ap"] * int(carry_ap)
            carry_ar -= int(carry_ar)
            carry_ap -= int(carry_ap)
            rng.shuffle(docs)
            for kind in docs:
                self.document(day, kind)
            if day.day == 28:  # monthly overheads, about 15 % of a month's sales
                a = self.s.accounts
                for n, (code, share) in enumerate((("6200", 40), ("6300", 90), ("6400", 20))):
                    amount = self.monthly_sales * share // 1000 + rng.randrange(0, 100_00)
                    gl = self.s.banks[n % len(self.s.banks)][1]
                    memo = f"{day:%B %Y} {code}"
                    self.voucher(day, memo, [(a[code], amount, 0, memo, None, None),
                                             (gl, 0, amount, memo, None, None)])  # fmt: skip
            self.settle(day)
        assert not self.later, "payments after today were dropped before scheduling"


# -- database ------------------------------------------------------------------------


def create_database(name: str, reset: bool) -> None:
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        if reset:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')


def secondary_indexes(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """(name, definition) of the bulk tables' indexes that no constraint owns."""
    return list(
        conn.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                 WHERE c.conindid = (quote_ident(i.indexname))::regclass)""",
            (list(TABLES),),
        ).fetchall()
    )


def copy_all(dsn: str, folder: Path, counts: dict[str, int]) -> dict[str, float]:
    """COPY each table's file with FK triggers off and secondary indexes built afterwards."""
    timings: dict[str, float] = {}
    with psycopg.connect(dsn) as conn:
        conn.execute("SET session_replication_role = replica")  # FK triggers: ids are ours
        indexes = secondary_indexes(conn)
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for table, columns in TABLES.items():
            started = time.perf_counter()
            with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
                with (folder / f"{table}.tsv").open("rb") as f:
                    while chunk := f.read(1 << 20):
                        cp.write(chunk)
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
            timings[table] = time.perf_counter() - started
            print(f"  COPY {table}: {counts[table]:,} rows in {timings[table]:.1f} s", flush=True)
        started = time.perf_counter()
        conn.execute(
            "DELETE FROM account_days"
        )  # the ledger's totals, as migration 0013 fills them
        conn.execute(
            "INSERT INTO account_days (company_id, account_id, day, debit, credit, lines) "
            "SELECT l.company_id, l.account_id, v.voucher_date, SUM(l.debit), SUM(l.credit), "
            "COUNT(*) FROM journal_lines l JOIN journal_vouchers v ON v.id = l.voucher_id "
            "GROUP BY l.company_id, l.account_id, v.voucher_date"
        )
        timings["account_days"] = time.perf_counter() - started
        print(f"  account_days filled in {timings['account_days']:.1f} s", flush=True)
        started = time.perf_counter()
        conn.execute("DELETE FROM sales_months")  # sales per customer and month, as 0016 fills
        conn.execute(
            "INSERT INTO sales_months (company_id, customer_id, month, amount, tax, invoices) "
            f"SELECT company_id, customer_id, {SALES_MONTH}, SUM(subtotal), SUM(tax_total), "
            f"COUNT(*) FROM invoices WHERE {SALES} GROUP BY company_id, customer_id, {SALES_MONTH}"
        )
        timings["sales_months"] = time.perf_counter() - started
        print(f"  sales_months filled in {timings['sales_months']:.1f} s", flush=True)
        started = time.perf_counter()
        for _, definition in indexes:
            conn.execute(definition)
        timings["indexes"] = time.perf_counter() - started
        print(f"  {len(indexes)} secondary indexes rebuilt in {timings['indexes']:.1f} s")
        conn.commit()
    return timings


def save_sequences(session: Session, company_id: int, seq: dict[tuple[str, int], int]) -> None:
    existing = {
        (s.prefix, s.year): s
        for s in session.execute(
            select(DocumentSequence).where(DocumentSequence.company_id == company_id)
        ).scalars()
    }
    for (prefix, year), last in seq.items():
        row = existing.get((prefix, year))
        if row is None:
            session.add(
                DocumentSequence(company_id=company_id, prefix=prefix, year=year, last_number=last)
            )
        else:
            row.last_number = last


# -- invariants ------------------------------------------------------------------------


def admin_ctx(session: Session, company_id: int) -> RequestContext:
    company = session.get(Company, company_id)
    assert company is not None
    return RequestContext(
        user_id=0,
        username="bench",
        company_id=company.id,
        company_slug=company.slug,
        currency=company.base_currency,
        roles=("admin",),
        permissions=permissions_for(["admin"]),
    )


def check_invariants(session: Session, companies: list[int], sample: int) -> list[str]:
    """The checks of tests/integration/demo on every company, and the rules on a sample."""
    problems = []
    totals = demo_repo.journal_totals(session)
    for company_id in companies:
        debit, credit = totals[company_id]
        if debit != credit:
            problems.append(f"company {company_id}: debits {debit} != credits {credit}")
    for company_id in companies[:1] + companies[1::10]:
        ctx = admin_ctx(session, company_id)
        tb = ledger_repo.trial_balance(session, ctx)
        if tb.total_debit != tb.total_credit:
            problems.append(f"company {company_id}: trial balance off")
        if not all(b.balance > 0 for b in ledger_repo.bank_balances(session, ctx)):
            problems.append(f"company {company_id}: a bank account is overdrawn")
    kept = session.execute(
        text(
            "SELECT d.company_id, d.account_id, d.day FROM account_days d FULL JOIN ("
            " SELECT l.company_id, l.account_id, v.voucher_date AS day, sum(l.debit) AS debit,"
            " sum(l.credit) AS credit, count(*) AS lines FROM journal_lines l"
            " JOIN journal_vouchers v ON v.id = l.voucher_id"
            " GROUP BY l.company_id, l.account_id, v.voucher_date) j"
            " ON (j.company_id, j.account_id, j.day) = (d.company_id, d.account_id, d.day)"
            " WHERE (d.debit, d.credit, d.lines) IS DISTINCT FROM (j.debit, j.credit, j.lines)"
            " LIMIT 5"
        )
    ).all()
    problems += [f"account_days differ from the journal at {row}" for row in kept]
    sold = session.execute(
        text(
            "SELECT s.company_id, s.customer_id, s.month FROM"
            " (SELECT * FROM sales_months WHERE invoices <> 0) s FULL JOIN ("
            f" SELECT company_id, customer_id, {SALES_MONTH} AS month, sum(subtotal) AS amount,"
            " sum(tax_total) AS tax, count(*) AS invoices FROM invoices"
            f" WHERE {SALES} GROUP BY company_id, customer_id, {SALES_MONTH}) i"
            " ON (i.company_id, i.customer_id, i.month) = (s.company_id, s.customer_id, s.month)"
            " WHERE (s.amount, s.tax, s.invoices) IS DISTINCT FROM (i.amount, i.tax, i.invoices)"
            " LIMIT 5"
        )
    ).all()
    problems += [f"sales_months differ from the invoices at {row}" for row in sold]
    problems += demo_repo.cross_company_references(session)
    pct = max(0.01, min(100.0, 100.0 * sample / max(1, session.query(Invoice).count())))
    invoices = session.execute(
        select(Invoice).from_statement(text(f"SELECT * FROM invoices TABLESAMPLE SYSTEM ({pct})"))
    ).scalars()
    allocated = dict(
        session.execute(
            select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount)).group_by(
                PaymentAllocation.invoice_id
            )
        ).all()
    )
    checked = 0
    for invoice in invoices:
        checked += 1
        paid = Decimal(str(allocated.get(invoice.id, 0)))
        if paid != invoice.amount_paid:
            problems.append(f"{invoice.number}: paid {invoice.amount_paid}, allocated {paid}")
        if invoice.status not in ("draft", "void"):
            expected = payment_status(invoice.total, invoice.amount_paid).value
            if expected != invoice.status:
                problems.append(f"{invoice.number}: status {invoice.status}, rules say {expected}")
    voucher_lines: dict[int, list[tuple[Decimal, Decimal]]] = defaultdict(list)
    for vid, debit, credit in session.execute(
        text(
            "SELECT voucher_id, debit, credit FROM journal_lines WHERE voucher_id IN "
            f"(SELECT id FROM journal_vouchers TABLESAMPLE SYSTEM ({pct}))"
        )
    ):
        voucher_lines[vid].append((debit, credit))
    for vid, lines in voucher_lines.items():
        try:
            check_journal_lines(lines)
        except Exception as exc:  # noqa: BLE001 - reported, the bench goes on
            problems.append(f"voucher {vid}: {exc}")
    print(f"  sampled {checked:,} invoices and {len(voucher_lines):,} vouchers")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="scale_bulk")
    parser.add_argument("--reset", action="store_true", help="drop the database first")
    parser.add_argument("--invoices", type=int, default=1_000_000, help="AR invoices")
    parser.add_argument("--bills", type=int, help="AP bills (default a tenth of --invoices)")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--suppliers", type=int, default=2_000)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--small", type=int, default=50, help="small companies beside it")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 3, 15))
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--sample", type=int, default=20_000, help="invoices checked")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/scale"))
    args = parser.parse_args()
    started = time.perf_counter()
    create_database(args.database, args.reset)
    url = PG + args.database
    engine = make_engine(url)
    migrate.upgrade(engine)
    specs = [
        Spec(
            "bulk",
            "Bulk Trading Ltd",
            "BDT",
            args.customers,
            args.suppliers,
            args.items,
            args.invoices,
            args.bills if args.bills is not None else args.invoices // 10,
            args.months,
            True,
        )  # fmt: skip
    ] + [
        Spec(
            f"small-{n:02d}",
            f"Small Shop {n:02d}",
            ("USD", "EUR", "BDT")[n % 3],
            40,
            10,
            30,
            300,
            40,
            12,
            False,
        )  # fmt: skip
        for n in range(1, args.small + 1)
    ]
    factory = sessionmaker(bind=engine)
    setups: list[Setup] = []
    with factory.begin() as session:
        for spec in specs:
            cash = monthly_sales(spec) // 3
            opening = month_start(args.today, spec.months - 1) - dt.timedelta(days=1)
            setups.append(set_up(session, spec, opening, cash))
    ids = Ids()
    with engine.connect() as conn:
        for table in TABLES:
            ids.next[table] = conn.execute(
                text(f"SELECT coalesce(max(id), 0) FROM {table}")
            ).scalar_one()
    folder = args.scratch / args.database
    writer = Writer(folder, TABLES)
    generators = []
    for n, (spec, setup) in enumerate(zip(specs, setups, strict=True)):
        generator = Generator(writer, ids, spec, setup, args.today, args.seed * 1000 + n)
        generator.run()
        generators.append(generator)
    writer.close()
    generated = time.perf_counter() - started
    print(
        f"generated in {generated:.0f} s: "
        + ", ".join(f"{t} {c:,}" for t, c in writer.counts.items()),
        flush=True,
    )  # noqa: E501
    copy_all(f"host=127.0.0.1 user=postgres dbname={args.database}", folder, writer.counts)
    with factory.begin() as session:
        for generator in generators:
            save_sequences(session, generator.co, generator.seq)
    loaded = time.perf_counter() - started
    with psycopg.connect(
        f"host=127.0.0.1 user=postgres dbname={args.database}", autocommit=True
    ) as c:  # noqa: E501
        c.execute("VACUUM ANALYZE")
        size = c.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()
    built = time.perf_counter() - started
    size_text = size[0] if size else "?"
    print(f"loaded in {loaded:.0f} s, vacuumed and analysed at {built:.0f} s; size {size_text}")
    with factory() as session:
        check_started = time.perf_counter()
        problems = check_invariants(session, [s.company_id for s in setups], args.sample)
        print(f"  invariants checked in {time.perf_counter() - check_started:.0f} s")
    print(
        "invariants hold"
        if not problems
        else "INVARIANT PROBLEMS:\n  " + "\n  ".join(problems[:50])
    )  # noqa: E501
    with factory() as session:
        for name, count in sorted(demo_repo.record_counts(session).items()):
            if count:
                print(f"  {name:<28} {count:>12,}")
    os.sync()
    engine.dispose()
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
