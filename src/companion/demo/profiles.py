"""The two demo companies: who they are, how they trade, who approves what."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType


@dataclass(frozen=True)
class BankSpec:
    name: str
    bank_name: str
    account_number: str
    opening_balance: Decimal
    weight: int  # share of customer receipts paid into it


@dataclass(frozen=True)
class WarehouseSpec:
    code: str
    name: str
    weight: int  # share of the orders shipped from it


@dataclass(frozen=True)
class LevelSpec:
    """An approval level: POs whose total reaches ``min_amount`` need it."""

    level: int
    name: str
    min_amount: Decimal
    role: str
    username: str | None  # the approver; None: anyone holding ``role``


@dataclass(frozen=True)
class ExpenseSpec:
    """A monthly overhead paid from the first bank account (found by ``account_hint``)."""

    account_hint: str  # a word of the chart's account name: rent, salar, utilit
    memo: str
    amount: Decimal
    bank: int = 0  # paid from this bank account, funded from the first one when not it


@dataclass(frozen=True)
class DemoUserSpec:
    username: str
    full_name: str
    email: str
    memberships: tuple[tuple[str, tuple[str, ...]], ...]  # (company slug, roles)
    is_system_admin: bool = False


@dataclass(frozen=True)
class CompanyProfile:
    slug: str
    name: str
    currency: str
    locale: str
    timezone: str
    fiscal_year_start_month: int
    weekend: tuple[int, ...]  # weekday() numbers
    weekday_factors: tuple[float, ...]  # Monday first: the weekly seasonality of orders
    review_weekday: int  # the buyer's weekly replenishment review
    payment_run_weekday: int  # suppliers are paid in a weekly run on this day
    orders_per_day: float  # on a factor-1.0 day at the start of history, scale 1
    annual_growth: float  # the mild trend over the year
    banks: tuple[BankSpec, ...]
    warehouses: tuple[WarehouseSpec, ...]
    levels: tuple[LevelSpec, ...]
    expenses: tuple[ExpenseSpec, ...]
    customer_terms: tuple[int, ...]  # payment terms in days, drawn per customer
    supplier_terms: tuple[int, ...]
    credit_limits: tuple[Decimal, ...]  # drawn per customer
    customers: int
    suppliers: int
    # Who does what in this company (usernames); approvals follow ``levels``.
    sales_user: str
    finance_user: str
    buyer_user: str
    store_user: str
    spike_reasons: tuple[str, ...]
    drop_reasons: tuple[str, ...]
    adjustment_reasons: tuple[str, ...]
    reject_comments: tuple[str, ...]
    cancel_reasons: tuple[str, ...]


def _d(value: str) -> Decimal:
    return Decimal(value)


ACME = CompanyProfile(
    slug="acme",
    name="Acme Trading Ltd",
    currency="BDT",
    locale="en_IN",
    timezone="Asia/Dhaka",
    fiscal_year_start_month=7,
    weekend=(4,),  # Friday
    weekday_factors=(1.0, 1.0, 1.05, 1.15, 0.12, 0.85, 1.1),
    review_weekday=6,  # Sunday, the first day of the Bangladeshi work week
    payment_run_weekday=3,  # Thursday
    orders_per_day=1.9,
    annual_growth=0.15,
    banks=(
        BankSpec("City Bank Current", "The City Bank PLC", "1102-4458-2201", _d("16000000"), 7),
        BankSpec("BRAC Bank Operating", "BRAC Bank PLC", "1501-2039-8876", _d("4200000"), 2),
        BankSpec(
            "Dutch-Bangla Collections", "Dutch-Bangla Bank PLC", "172-110-4471", _d("1800000"), 1
        ),
    ),
    warehouses=(
        WarehouseSpec("DHK", "Dhaka Central Warehouse (Tejgaon)", 5),
        WarehouseSpec("CTG", "Chattogram Port Depot", 3),
        WarehouseSpec("SYL", "Sylhet Depot", 2),
    ),
    levels=(
        LevelSpec(1, "Procurement review", _d("0"), "procurement", None),
        LevelSpec(2, "Finance approval", _d("250000"), "finance", None),
        LevelSpec(3, "Executive approval (CEO)", _d("1000000"), "executive", None),
    ),
    expenses=(
        ExpenseSpec("rent", "Office and warehouse rent", _d("150000")),
        ExpenseSpec("salar", "Staff salaries", _d("480000")),
        ExpenseSpec("utilit", "Electricity, water and internet", _d("45000")),
    ),
    customer_terms=(7, 15, 30, 30, 30, 45),
    supplier_terms=(30, 30, 45, 60),
    credit_limits=(_d("1500000"), _d("2500000"), _d("4000000"), _d("6000000")),
    customers=120,
    suppliers=40,
    sales_user="sales",
    finance_user="finance",
    buyer_user="buyer",
    store_user="storekeeper",
    spike_reasons=(
        "Eid festival rush: dealers stocked up",
        "Government tender delivered in one day",
        "Corporate bulk order for a new office tower",
        "Pohela Boishakh promotion",
    ),
    drop_reasons=(
        "Hartal (general strike): shops closed and trucks off the road",
        "Cyclone warning: Chattogram port and depots shut",
        "Bank holiday outage: no dispatches",
    ),
    adjustment_reasons=(
        "Cycle count difference",
        "Damaged in transit from the port",
        "Water damage after heavy rain",
        "Found during annual stock take",
    ),
    reject_comments=(
        "Quote is 12% above the last purchase price; renegotiate",
        "Not in this quarter's budget",
    ),
    cancel_reasons=("Supplier could not meet the delivery date", "Duplicate order"),
)

GLOBEX = CompanyProfile(
    slug="globex",
    name="Globex Manufacturing Inc",
    currency="USD",
    locale="en_US",
    timezone="America/New_York",
    fiscal_year_start_month=1,
    weekend=(5, 6),  # Saturday, Sunday
    weekday_factors=(0.95, 1.05, 1.05, 1.0, 0.95, 0.15, 0.05),
    review_weekday=0,
    payment_run_weekday=4,  # Friday
    orders_per_day=1.45,
    annual_growth=0.08,
    banks=(
        BankSpec("Operating Account", "First Lakeshore Bank", "4471-0039-2210", _d("420000"), 7),
        BankSpec("Payroll Account", "Great Lakes Credit Union", "88-201-7730", _d("120000"), 1),
        BankSpec("Reserve Money Market", "Summit Trust Company", "6023-1184", _d("300000"), 2),
    ),
    warehouses=(
        WarehouseSpec("CMH", "Columbus Main Plant", 6),
        WarehouseSpec("DET", "Detroit Distribution Center", 4),
    ),
    levels=(
        LevelSpec(1, "Purchasing review", _d("0"), "procurement", "admin"),
        LevelSpec(2, "Controller approval", _d("10000"), "finance", None),
        LevelSpec(3, "Executive approval", _d("50000"), "executive", None),
    ),
    expenses=(
        ExpenseSpec("rent", "Plant lease", _d("8000")),
        ExpenseSpec("salar", "Payroll", _d("22000"), bank=1),
        ExpenseSpec("utilit", "Power, gas and water", _d("3000")),
    ),
    customer_terms=(30, 30, 30, 45, 60),
    supplier_terms=(30, 30, 45),
    credit_limits=(_d("40000"), _d("75000"), _d("120000"), _d("200000")),
    customers=120,
    suppliers=40,
    sales_user="admin",
    finance_user="gfinance",
    buyer_user="admin",
    store_user="admin",
    spike_reasons=(
        "Quarter-end distributor restocking",
        "Fleet retrofit order from a national carrier",
        "Trade show follow-up orders",
        "Black Friday equipment promotion",
    ),
    drop_reasons=(
        "Blizzard: plant closed and carriers suspended",
        "ERP cut-over weekend spilled into Monday",
        "Power outage at the Columbus plant",
    ),
    adjustment_reasons=(
        "Cycle count variance",
        "Scrapped after quality inspection",
        "Forklift damage",
        "Recount after physical inventory",
    ),
    reject_comments=(
        "Use the contracted supplier for this part",
        "Capex freeze until the board meeting",
    ),
    cancel_reasons=("Engineering change: part superseded", "Ordered twice by mistake"),
)

PROFILES: MappingProxyType[str, CompanyProfile] = MappingProxyType(
    {ACME.slug: ACME, GLOBEX.slug: GLOBEX}
)

PASSWORD = "demo"

USERS: tuple[DemoUserSpec, ...] = (
    DemoUserSpec(
        "ceo",
        "Farhana Kabir",
        "ceo@demo.companion.local",
        (("acme", ("executive",)), ("globex", ("executive",))),
    ),
    DemoUserSpec("finance", "Tanvir Ahmed", "finance@acme.demo", (("acme", ("finance",)),)),
    DemoUserSpec("sales", "Nusrat Jahan", "sales@acme.demo", (("acme", ("sales",)),)),
    DemoUserSpec("buyer", "Rafiqul Islam", "buyer@acme.demo", (("acme", ("procurement",)),)),
    DemoUserSpec("storekeeper", "Abdul Karim", "stores@acme.demo", (("acme", ("inventory",)),)),
    DemoUserSpec("viewer", "Mitu Sarker", "viewer@acme.demo", (("acme", ("viewer",)),)),
    DemoUserSpec("gfinance", "Laura Bennett", "finance@globex.demo", (("globex", ("finance",)),)),
    DemoUserSpec(
        "admin",
        "System Administrator",
        "admin@demo.companion.local",
        (("acme", ("admin",)), ("globex", ("admin",))),
        is_system_admin=True,
    ),
)
