"""Support code of the end-to-end tests: test settings and the two-tenant world.

The fixtures in ``conftest.py`` use it; tests import names from here (``from e2e_support
import PASSWORD, Tenants``), never from ``conftest``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, String, TypeDecorator, select
from sqlalchemy.orm import Session

from companion.auth import service as auth_service
from companion.auth.models import User
from companion.auth.passwords import PasswordHasher
from companion.config import ActionSettings, AuthSettings, JobSettings, LLMSettings, Settings
from companion.kit import migrate
from companion.kit.clock import FixedClock
from companion.kit.db import make_engine, make_session_factory, session_scope
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company, Membership
from companion.tenancy.permissions import ROLES, permissions_for
from factories import CHEAP_HASHING, make_company

TEST_SECRET = "e2e-test-secret-0123456789-abcdefghijklmnop"  # >= 32 bytes for HS256
PASSWORD = "correct horse battery staple"
COMPANIES = {"acme": "BDT", "globex": "USD"}


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for a test app: a real secret, not demo mode."""
    values: dict[str, object] = {
        "database_url": database_url,
        "demo_mode": False,
        # Argon2 with production costs takes ~0.2 s a hash; tests do not need that.
        "auth": AuthSettings(
            secret_key=TEST_SECRET,
            password_time_cost=CHEAP_HASHING.time_cost,
            password_memory_kib=CHEAP_HASHING.memory_cost,
            password_parallelism=CHEAP_HASHING.parallelism,
        ),
        # Test apps share one connection between the test and the app: no sweeper thread on it.
        "actions": ActionSettings(sweep_interval_seconds=0),
        # Nor the periodic-job scheduler's thread.
        "jobs": JobSettings(tick_seconds=0),
        # No language model unless a test asks for one: answers are the exact, extractive ones.
        "llm": LLMSettings(provider="none"),
        **overrides,
    }
    return Settings(**values)


@dataclass
class Tenants:
    """Two companies with users per role, and helpers to act as any of them."""

    session: Session
    settings: Settings
    clock: FixedClock
    companies: dict[str, Company]
    users: dict[str, User]
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def acme(self) -> Company:
        return self.companies["acme"]

    @property
    def globex(self) -> Company:
        return self.companies["globex"]

    @staticmethod
    def other(slug: str) -> str:
        """The other company's slug."""
        return "globex" if slug == "acme" else "acme"

    @staticmethod
    def username(company: str, role: str) -> str:
        """The member of ``company`` holding exactly ``role`` (``norole``: none)."""
        return f"{company}-{role}"

    def user(self, company: str, role: str) -> User:
        return self.users[self.username(company, role)]

    def token(self, username: str) -> str:
        """A bearer token of ``username`` (issued directly, no login request)."""
        if username not in self._tokens:
            token, _ = auth_service.issue_token(self.settings, self.clock, self.users[username])
            self._tokens[username] = token
        return self._tokens[username]

    def user_headers(self, username: str, company: str | None = None) -> dict[str, str]:
        """Authorization (and X-Company when ``company`` is given) for ``username``."""
        headers = {"Authorization": f"Bearer {self.token(username)}"}
        if company is not None:
            headers["X-Company"] = company
        return headers

    def headers(self, company: str, role: str) -> dict[str, str]:
        """Headers of the ``company`` member holding exactly ``role``."""
        return self.user_headers(self.username(company, role), company)

    def context(self, company: str, role: str) -> RequestContext:
        """The context that member's requests get, for calling services directly."""
        user, co = self.user(company, role), self.companies[company]
        roles = () if role == "norole" else (role,)
        return RequestContext(
            user_id=user.id,
            username=user.username,
            company_id=co.id,
            company_slug=co.slug,
            currency=co.base_currency,
            roles=roles,
            permissions=permissions_for(roles),
            locale=co.locale,
            fiscal_year_start_month=co.fiscal_year_start_month,
        )


def build_tenants(session: Session, settings: Settings, clock: FixedClock) -> Tenants:
    """Create the two companies and their users (committed to the test's savepoint)."""
    companies = {
        slug: make_company(session, slug, currency) for slug, currency in COMPANIES.items()
    }
    users: dict[str, User] = {}
    hasher = PasswordHasher.from_settings(settings.auth)

    def add(username: str, memberships: dict[str, list[str]]) -> None:
        user = auth_service.create_user(
            session, hasher, username=username, password=PASSWORD, full_name=username.title()
        )
        for slug, roles in memberships.items():
            auth_service.set_membership(session, user.id, companies[slug].id, roles)
        users[username] = user

    for slug in companies:
        for role in sorted(ROLES):
            add(Tenants.username(slug, role), {slug: [role]})
        add(Tenants.username(slug, "norole"), {slug: []})
    add("ceo", {"acme": ["executive"], "globex": ["executive"]})
    add("outsider", {})
    session.commit()
    return Tenants(
        session=session, settings=settings, clock=clock, companies=companies, users=users
    )


def load_tenants(session: Session, settings: Settings, clock: FixedClock) -> Tenants | None:
    """The two companies and their users as ``build_tenants`` committed them, or None.

    The e2e ``engine`` holds them already (``tenants_database``); a database without them
    (a test that brings its own) gets ``None`` and builds them in its transaction instead.
    """
    companies = {
        c.slug: c
        for c in session.execute(select(Company).where(Company.slug.in_(COMPANIES))).scalars()
    }
    names = [Tenants.username(slug, role) for slug in COMPANIES for role in (*ROLES, "norole")]
    names += ["ceo", "outsider"]
    users = {
        u.username: u
        for u in session.execute(select(User).where(User.username.in_(names))).scalars()
    }
    if len(companies) != len(COMPANIES) or len(users) != len(names):
        return None
    return Tenants(
        session=session, settings=settings, clock=clock, companies=companies, users=users
    )


def tenants_database(url: str) -> None:
    """Migrate ``url`` and commit the two tenants in it (the e2e template database)."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with session_scope(make_session_factory(engine)) as session:
            build_tenants(session, make_settings(url), FixedClock(dt.datetime.now(dt.UTC)))
    finally:
        engine.dispose()


# --- generic records for the sweeps -------------------------------------------------------
#
# One row in every tenant table for each company, built from the models alone, so routes
# added later find something to answer with. Ids are explicit and distinct across tables
# (a route's id parameter identifies its table), and every string of a company's rows
# starts with its marker, so another company's data is easy to spot in a response.

# Upper case, because document numbers and codes are often looked up upper-cased.
MARKERS = {"acme": "QXA", "globex": "QXB"}
SWEEP_ID_BASE = 900_000
# Tables the tenants fixture fills itself.
SWEEP_SKIP_TABLES = frozenset({"memberships"})
# What the filler cannot guess: enum values, CHECK constraints, links that must stay empty.
SWEEP_VALUES: dict[str, dict[str, object]] = {
    "invoices": {
        "kind": "ar",
        "supplier_id": None,
        "purchase_order_id": None,
        "status": "posted",
        "amount_paid": Decimal("0"),
    },
    "payments": {"kind": "receipt", "supplier_id": None, "status": "posted"},
    "journal_lines": {"debit": Decimal("1"), "credit": Decimal("0"), "supplier_id": None},
    "accounts": {"account_type": "asset", "role": None},
    "stock_moves": {"move_type": "transfer"},
    "sales_orders": {"status": "confirmed"},
    "purchase_orders": {"status": "pending_approval"},
    "approval_levels": {"role": "executive", "user_id": None},
    "approval_tasks": {"assigned_role": "executive", "status": "pending"},
    "document_sequences": {"year": 1999},
    "api_keys": {"roles": ["admin"], "revoked_at": None, "expires_at": None},
    "audit_log": {"seq": 1, "old_values": None, "new_values": None},
    "data_imports": {"kind": "customers", "status": "validated", "errors": [], "summary": {}},
    "alerts": {"permission": "ai.use", "status": "unread", "cleared_at": None},
    "training_examples": {"kinds": ["intent"], "status": "review", "message_id": None},
    "nlu_models": {"examples": [], "status": "retired"},
}


@dataclass
class SweepRecords:
    """The generic rows: ``rows[table][slug]`` is that company's row as inserted."""

    rows: dict[str, dict[str, dict[str, Any]]]

    def tables(self) -> list[str]:
        return list(self.rows)


def _string_value(marker: str, index: int, column: Column[Any], company: Company) -> str:
    name = column.name
    if name == "currency" or name.endswith("_currency"):
        return company.base_currency
    if name == "email":
        return f"{marker}{index}@example.com"
    if name == "chain":
        return f"sweep:{company.slug}"
    value = f"{marker}{index}-{name.upper()}"
    length = getattr(column.type, "length", None)
    return value[:length] if length else value


def _generic_value(
    column: Column[Any], marker: str, index: int, company: Company, today: dt.date
) -> object:
    python_type: type | None
    sql_type = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
    try:
        python_type = sql_type.python_type
    except NotImplementedError:
        python_type = None
    if isinstance(column.type, JSON):
        return None if column.nullable else {}
    if python_type is bool:
        return True
    if python_type is int:
        return 1
    if python_type is Decimal or python_type is float:
        return Decimal("1")
    if python_type is dt.datetime:
        return dt.datetime.combine(today, dt.time(12), dt.UTC)
    if python_type is dt.date:
        return today
    if python_type is str:
        return _string_value(marker, index, column, company)
    raise AssertionError(
        f"the sweep cannot fill {column.table.name}.{column.name} ({column.type!r}); "
        "add a value to SWEEP_VALUES in tests/e2e/e2e_support.py"
    )


def build_sweep_records(session: Session, tenants: Tenants) -> SweepRecords:
    """Insert one row per tenant table for acme and for globex (rolled back with the test)."""
    from companion.models import Base

    today = tenants.clock.today()
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for index, table in enumerate(Base.metadata.sorted_tables):
        if "company_id" not in table.c or table.name in SWEEP_SKIP_TABLES:
            continue
        rows[table.name] = {}
        for offset, (slug, company) in enumerate(sorted(tenants.companies.items()), start=1):
            marker = MARKERS[slug]
            values: dict[str, Any] = {}
            for column in table.columns:
                fks = list(column.foreign_keys)
                if column.primary_key and isinstance(column.type, String):
                    # Text keys (conversation UUIDs): distinct per company, marked as theirs.
                    values[column.name] = f"{marker}-{table.name}-{offset}"
                elif column.primary_key:
                    values[column.name] = SWEEP_ID_BASE + 1000 * index + offset
                elif column.name == "company_id":
                    values[column.name] = company.id
                elif column.name in SWEEP_VALUES.get(table.name, {}):
                    values[column.name] = SWEEP_VALUES[table.name][column.name]
                elif fks:
                    target = fks[0].column.table.name
                    if target == "users":
                        values[column.name] = tenants.user(slug, "admin").id
                    elif target == "companies":
                        values[column.name] = company.id
                    elif target in rows and target != table.name:
                        values[column.name] = rows[target][slug][fks[0].column.name]
                    elif column.nullable:
                        values[column.name] = None
                    else:
                        raise AssertionError(
                            f"the sweep cannot link {table.name}.{column.name} to {target}"
                        )
                else:
                    values[column.name] = _generic_value(column, marker, index, company, today)
            session.execute(table.insert().values(**values))
            rows[table.name][slug] = values
    session.flush()
    return SweepRecords(rows=rows)


def member(session: Session, username: str, slug: str = "acme") -> RequestContext:
    """A demo user's context in a company (to set data up through the ERP services)."""
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    company = session.execute(select(Company).where(Company.slug == slug)).scalar_one()
    roles = tuple(
        session.execute(
            select(Membership.roles).where(
                Membership.user_id == user.id, Membership.company_id == company.id
            )
        ).scalar_one()
    )
    return RequestContext(
        user_id=user.id,
        username=user.username,
        company_id=company.id,
        company_slug=company.slug,
        currency=company.base_currency,
        roles=roles,
        permissions=permissions_for(roles),
        locale=company.locale,
        fiscal_year_start_month=company.fiscal_year_start_month,
    )
