"""What the demo will contain, decided before anything touches the database.

``plan_company`` is pure: from a profile, ``today``, ``months`` and ``scale`` it returns
the master data and a dated list of business events (orders, receipts, purchase orders,
approvals, adjustments, overheads). The builder replays the events through the ERP
services in ``(day, phase, seq)`` order, so the plan also fixes every document number.
Records are referred to by plan keys (``S00042``, ``P0007``, customer index), never by
database ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from companion.demo.catalog import ItemSpec
from companion.demo.profiles import CompanyProfile

ZERO = Decimal("0")


@dataclass(frozen=True)
class PlanLine:
    sku: str
    quantity: Decimal
    discount_pct: Decimal = ZERO


@dataclass(frozen=True)
class CustomerPlan:
    index: int
    name: str
    email: str | None
    phone: str
    terms: int
    credit_limit: Decimal
    payer: str  # prompt, normal, late or slow: how this customer pays
    warehouse: str  # ships from here
    discount_pct: Decimal
    weight: int  # how often they order relative to others
    pay_weekday: int  # the weekday of their payment run


@dataclass(frozen=True)
class SupplierPlan:
    index: int
    name: str
    email: str | None
    phone: str
    terms: int
    lead_days: int


@dataclass(frozen=True)
class ItemPlan:
    spec: ItemSpec
    reorder_level: Decimal
    reorder_qty: Decimal
    supplier: int  # preferred supplier's index
    warehouses: tuple[str, ...]  # where it is stocked (empty for services)


@dataclass(frozen=True)
class AnomalyPlan:
    day: dt.date
    metric: str
    direction: str  # spike or drop
    factor: Decimal
    description: str
    observed: Decimal = ZERO
    baseline: Decimal = ZERO


# Phases order the events of one day: stock arrives, money moves, then the day's trade.
PHASE_RECEIVE_PO = 0
PHASE_BILL_PO = 1
PHASE_RECEIPT = 2
PHASE_SUPPLIER_PAYMENT = 3
PHASE_SALE = 4
PHASE_STOCK = 5
PHASE_PURCHASE = 6
PHASE_DECISION = 7
PHASE_CANCEL_PO = 8
PHASE_MONTH_END = 9


@dataclass(frozen=True)
class Event:
    day: dt.date
    seq: int

    phase = -1

    @property
    def sort_key(self) -> tuple[dt.date, int, int]:
        return (self.day, self.phase, self.seq)


@dataclass(frozen=True)
class SaleEvent(Event):
    """A sales order, taken as far as ``outcome`` on its day."""

    key: str
    customer: int
    warehouse: str
    lines: tuple[PlanLine, ...]
    outcome: str  # draft, confirmed, delivered, invoiced or cancelled
    subtotal: Decimal
    total: Decimal
    reason: str | None = None  # for a cancellation

    phase = PHASE_SALE


@dataclass(frozen=True)
class ServiceInvoiceEvent(Event):
    """An AR invoice for services, raised directly (no sales order) and posted."""

    key: str
    customer: int
    lines: tuple[PlanLine, ...]
    total: Decimal

    phase = PHASE_SALE


@dataclass(frozen=True)
class VoidInvoiceEvent(Event):
    key: str
    reason: str

    phase = PHASE_STOCK


@dataclass(frozen=True)
class ReceiptEvent(Event):
    """Money from a customer, allocated to invoices by plan key."""

    customer: int
    bank: int
    allocations: tuple[tuple[str, Decimal], ...]

    phase = PHASE_RECEIPT


@dataclass(frozen=True)
class PurchaseEvent(Event):
    key: str
    supplier: int
    warehouse: str
    lines: tuple[PlanLine, ...]
    total: Decimal
    submit: bool
    expected: dt.date | None = None

    phase = PHASE_PURCHASE


@dataclass(frozen=True)
class DecisionEvent(Event):
    """One approval level's decision on a purchase order."""

    key: str
    level: int
    approve: bool
    comment: str | None = None

    phase = PHASE_DECISION


@dataclass(frozen=True)
class CancelPurchaseEvent(Event):
    key: str
    reason: str

    phase = PHASE_CANCEL_PO


@dataclass(frozen=True)
class ReceivePurchaseEvent(Event):
    key: str
    lines: tuple[PlanLine, ...] | None  # None: everything still open

    phase = PHASE_RECEIVE_PO


@dataclass(frozen=True)
class BillPurchaseEvent(Event):
    key: str
    total: Decimal

    phase = PHASE_BILL_PO


@dataclass(frozen=True)
class SupplierPaymentEvent(Event):
    supplier: int
    bank: int
    allocations: tuple[tuple[str, Decimal], ...]  # PO key -> amount paid on its bill

    phase = PHASE_SUPPLIER_PAYMENT


@dataclass(frozen=True)
class AdjustmentEvent(Event):
    sku: str
    warehouse: str
    delta: Decimal
    reason: str

    phase = PHASE_STOCK


@dataclass(frozen=True)
class TransferEvent(Event):
    sku: str
    source: str
    target: str
    quantity: Decimal

    phase = PHASE_STOCK


@dataclass(frozen=True)
class BankTransferEvent(Event):
    source: int
    target: int
    amount: Decimal
    memo: str

    phase = PHASE_MONTH_END


@dataclass(frozen=True)
class ExpenseEvent(Event):
    account_hint: str
    memo: str
    amount: Decimal
    bank: int

    phase = PHASE_MONTH_END


@dataclass
class CompanyPlan:
    """Everything the builder needs for one company."""

    profile: CompanyProfile
    start: dt.date
    today: dt.date
    customers: list[CustomerPlan]
    suppliers: list[SupplierPlan]
    items: list[ItemPlan]
    opening_stock: list[tuple[str, str, Decimal]]  # sku, warehouse, quantity
    anomalies: list[AnomalyPlan]
    events: list[Event] = field(default_factory=list)

    @property
    def opening_date(self) -> dt.date:
        """Balances and stock are opened the day before history starts."""
        return self.start - dt.timedelta(days=1)

    def sorted_events(self) -> list[Event]:
        """The events in the order the builder replays them."""
        return sorted(self.events, key=lambda e: e.sort_key)

    def item(self, sku: str) -> ItemPlan:
        """The item planned under ``sku``."""
        for item in self.items:
            if item.spec.sku == sku:
                return item
        raise KeyError(sku)
