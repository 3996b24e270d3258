"""What ``build_demo`` reports: the users, the companies, the documents, the row counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    memberships: tuple[tuple[str, tuple[str, ...]], ...]  # (company slug, roles)
    is_system_admin: bool


@dataclass(frozen=True)
class PolicyDocument:
    """One shipped policy document of one company."""

    company: str  # slug
    kind: str  # travel, expenses, leave, procurement, credit-and-collections
    title: str
    resource: str  # path inside the package: demo/documents/<slug>/<kind>.md
    marker: str  # a phrase found only in this company's document


@dataclass(frozen=True)
class CompanySummary:
    slug: str
    name: str
    currency: str
    customers: int
    suppliers: int
    items: int
    sales_orders: int
    ar_invoices: int
    purchase_orders: int
    anomalies: int


@dataclass(frozen=True)
class DemoSummary:
    """The result of ``build_demo``."""

    today: dt.date
    start: dt.date
    password: str
    users: tuple[DemoUser, ...]
    companies: tuple[CompanySummary, ...]
    documents: tuple[PolicyDocument, ...]
    counts: dict[str, int] = field(default_factory=dict)  # rows per table after the build
