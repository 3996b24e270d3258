"""The demo's own SQL: companies, lookups, ground truth, counts and a canonical dump.

The canonical dump replaces every database id by the natural key of the row it points
to (a company's slug, a document number, a SKU), so two builds compare equal whenever
they hold the same business data, whatever ids the databases handed out.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, DateTime, Table, and_, func, select
from sqlalchemy.orm import Session, aliased

from companion import models as _every_table  # noqa: F401  (the dump walks all of them)
from companion.audit.models import AuditEntry
from companion.demo.models import DemoAnomaly
from companion.demo.plan import AnomalyPlan
from companion.demo.profiles import CompanyProfile
from companion.erp.ledger.models import Account, JournalLine
from companion.kit.db import Base, UTCDateTime
from companion.tenancy.models import Company

# How a row of a referenced table is named in the dump instead of by its id.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "companies": ("slug",),
    "users": ("username",),
    "accounts": ("company_id", "code"),
    "bank_accounts": ("company_id", "name"),
    "customers": ("company_id", "code"),
    "suppliers": ("company_id", "code"),
    "items": ("company_id", "sku"),
    "warehouses": ("company_id", "code"),
    "sales_orders": ("company_id", "number"),
    "purchase_orders": ("company_id", "number"),
    "invoices": ("company_id", "number"),
    "payments": ("company_id", "number"),
    "journal_vouchers": ("company_id", "number"),
}
# Values that differ between two builds of the same data: ids, salted hashes, raw ids
# kept without a foreign key, and wall-clock timestamps (dropped by type below).
VOLATILE_COLUMNS = frozenset(
    {"id", "password_hash", "key_hash", "hash", "prev_hash", "source_id", "entity_id"}
)
AUDIT_TABLES = frozenset({"audit_log", "audit_heads"})


def companies_exist(session: Session) -> bool:
    """Whether the database already holds any company."""
    return session.execute(select(func.count()).select_from(Company)).scalar_one() > 0


def company_by_slug(session: Session, slug: str) -> Company | None:
    """The company called ``slug``, if there is one."""
    return session.execute(select(Company).where(Company.slug == slug)).scalar_one_or_none()


def add_company(session: Session, profile: CompanyProfile) -> Company:
    """Insert the company row of a demo profile."""
    company = Company(
        slug=profile.slug,
        name=profile.name,
        base_currency=profile.currency,
        fiscal_year_start_month=profile.fiscal_year_start_month,
        locale=profile.locale,
        timezone=profile.timezone,
        is_active=True,
    )
    session.add(company)
    session.flush()
    return company


def expense_account(session: Session, company_id: int, name_prefix: str) -> Account:
    """The non-bank account whose name starts with ``name_prefix`` (e.g. ``Rent``)."""
    accounts = session.execute(
        select(Account)
        .where(Account.company_id == company_id, Account.is_bank.is_(False))
        .order_by(Account.code)
    ).scalars()
    for account in accounts:
        if account.name.lower().startswith(name_prefix.lower()):
            return account
    raise LookupError(f"no account named '{name_prefix}...' in company {company_id}")


def add_anomalies(session: Session, company_id: int, anomalies: list[AnomalyPlan]) -> None:
    """Record the injected anomalies as ground truth."""
    session.add_all(
        DemoAnomaly(
            company_id=company_id,
            on_date=a.day,
            metric=a.metric,
            direction=a.direction,
            factor=a.factor,
            observed=a.observed,
            baseline=a.baseline,
            description=a.description,
        )
        for a in anomalies
    )
    session.flush()


def anomalies_of(session: Session, company_id: int) -> list[DemoAnomaly]:
    """The company's recorded anomalies, by date."""
    return list(
        session.execute(
            select(DemoAnomaly)
            .where(DemoAnomaly.company_id == company_id)
            .order_by(DemoAnomaly.on_date, DemoAnomaly.metric)
        ).scalars()
    )


def record_counts(session: Session) -> dict[str, int]:
    """Rows per table, for every table of the schema."""
    return {
        name: session.execute(select(func.count()).select_from(table)).scalar_one()
        for name, table in sorted(Base.metadata.tables.items())
    }


def journal_totals(session: Session) -> dict[int, tuple[Decimal, Decimal]]:
    """Total debits and credits per company over every journal line."""
    rows = session.execute(
        select(JournalLine.company_id, func.sum(JournalLine.debit), func.sum(JournalLine.credit))
        .group_by(JournalLine.company_id)
        .order_by(JournalLine.company_id)
    ).all()
    return {company: (Decimal(str(d)), Decimal(str(c))) for company, d, c in rows}


def cross_company_references(session: Session) -> list[str]:
    """Every foreign key from a tenant row to a tenant row of another company."""
    problems = []
    for table in sorted(Base.metadata.tables.values(), key=lambda t: t.name):
        if "company_id" not in table.c:
            continue
        for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
            target = fk.column.table
            if fk.parent.name == "company_id" or "company_id" not in target.c:
                continue
            assert isinstance(target, Table)
            parent = aliased(target)
            count = session.execute(
                select(func.count())
                .select_from(table)
                .join(parent, fk.parent == parent.c[fk.column.name])
                .where(and_(table.c.company_id != parent.c.company_id))
            ).scalar_one()
            if count:
                problems.append(f"{table.name}.{fk.parent.name}: {count} row(s)")
    return problems


def canonical_dump(session: Session) -> dict[str, list[str]]:
    """Every table's rows as sorted JSON lines with ids replaced by natural keys."""
    tables = {name: t for name, t in Base.metadata.tables.items() if name not in AUDIT_TABLES}
    rows: dict[str, dict[Any, dict[str, Any]]] = {}
    for name, table in tables.items():
        rows[name] = {
            row["id"] if "id" in row else n: row
            for n, row in enumerate(dict(r._mapping) for r in session.execute(select(table)))
        }
    naming: dict[tuple[str, Any], Any] = {}

    def name_of(table: str, key: Any) -> Any:
        if key is None:
            return None
        if (table, key) not in naming:
            row = rows[table][key]
            naming[(table, key)] = [
                resolve(tables[table].c[col], row[col])
                for col in NATURAL_KEYS.get(table, tuple(sorted(row)))
                if _kept(tables[table].c[col])
            ]
        return naming[(table, key)]

    def resolve(column: Column[Any], value: Any) -> Any:
        for fk in column.foreign_keys:
            return name_of(fk.column.table.name, value)
        return _plain(value)

    dump: dict[str, list[str]] = {}
    for name, table in sorted(tables.items()):
        lines = [
            json.dumps(
                {c.name: resolve(c, row[c.name]) for c in table.columns if _kept(c)},
                sort_keys=True,
            )
            for row in rows[name].values()
        ]
        dump[name] = sorted(lines)
    dump["audit_log"] = _audit_summary(session, rows["companies"])
    return dump


def _kept(column: Column[Any]) -> bool:
    if column.name in VOLATILE_COLUMNS:
        return False
    return not isinstance(column.type, DateTime | UTCDateTime)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal | dt.date):
        return str(value)
    return value


def _audit_summary(session: Session, companies: dict[Any, dict[str, Any]]) -> list[str]:
    """The audit chains by company slug: who did what, in which order (not when)."""
    slugs = {f"company:{key}": f"company:{row['slug']}" for key, row in companies.items()}
    entries = session.execute(
        select(
            AuditEntry.chain,
            AuditEntry.seq,
            AuditEntry.actor,
            AuditEntry.action,
            AuditEntry.entity_type,
            AuditEntry.via_ai,
        )
    ).all()
    return sorted(
        json.dumps([slugs.get(chain, chain), seq, actor, action, entity, via_ai])
        for chain, seq, actor, action, entity, via_ai in entries
    )
