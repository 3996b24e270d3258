"""The day-by-day simulation that turns a profile into dated business events.

It keeps shadows of what the services will enforce (stock per warehouse, open AR per
customer against its credit limit), so every event it emits is one the services accept:
no sale takes more than is on hand, no order breaks a credit limit.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from companion.demo.calendar import (
    days_between,
    fiscal_year_start,
    is_business_day,
    last_business_day,
    next_business_day,
)
from companion.demo.catalog import LINE_VALUE
from companion.demo.plan import (
    AdjustmentEvent,
    BankTransferEvent,
    BillPurchaseEvent,
    CancelPurchaseEvent,
    CompanyPlan,
    DecisionEvent,
    Event,
    ExpenseEvent,
    PlanLine,
    PurchaseEvent,
    ReceiptEvent,
    ReceivePurchaseEvent,
    SaleEvent,
    ServiceInvoiceEvent,
    SupplierPaymentEvent,
    TransferEvent,
    VoidInvoiceEvent,
)
from companion.demo.plan_master import LINE_COUNT_WEIGHTS, LINE_COUNTS
from companion.demo.plan_rules import bucket_of, document_amounts
from companion.demo.streams import chance, jitter, stream
from companion.kit.money import money, quantize

Pair = tuple[str, str]  # (sku, warehouse code)
Decision = tuple[dt.date, int, bool, str | None]  # day, level, approve, comment
Receipt = tuple[dt.date, tuple[PlanLine, ...] | None]


class Simulation:
    """Walks the days of one company's history and emits its events."""

    def __init__(self, plan: CompanyPlan, scale: float) -> None:
        self.plan = plan
        self.profile = plan.profile
        self.scale = scale
        self.today = plan.today
        self.items = {i.spec.sku: i for i in plan.items}
        self.customers = plan.customers
        self.suppliers = plan.suppliers
        self.anomalies = {a.day: a for a in plan.anomalies}
        self.stock: dict[Pair, Decimal] = defaultdict(Decimal)
        for sku, code, qty in plan.opening_stock:
            self.stock[(sku, code)] += qty
        self.on_order: dict[Pair, Decimal] = defaultdict(Decimal)
        self.arrivals: dict[dt.date, list[tuple[Pair, Decimal]]] = defaultdict(list)
        self.open_ar: dict[int, Decimal] = defaultdict(Decimal)
        self.ar_released: dict[dt.date, list[tuple[int, Decimal]]] = defaultdict(list)
        self.ar_released_evening: dict[dt.date, list[tuple[int, Decimal]]] = defaultdict(list)
        self.receipts: dict[tuple[dt.date, int], list[tuple[str, Decimal]]] = defaultdict(list)
        self.supplier_pays: dict[tuple[dt.date, int], list[tuple[str, Decimal]]] = defaultdict(list)
        self.daily_sales: dict[dt.date, Decimal] = defaultdict(Decimal)
        self.forced_ar: set[str] = set()
        self.forced_ap: set[str] = set()
        self.suppressed: set[Pair] = set()
        self.counters: dict[str, int] = defaultdict(int)
        self.seq = 0
        slug = self.profile.slug
        self.rng_sales = stream(slug, "sales")
        self.rng_pay = stream(slug, "customer-payments")
        self.rng_buy = stream(slug, "purchasing")
        self.rng_stock = stream(slug, "stock")
        self.rng_money = stream(slug, "overheads")
        self.rng_service = stream(slug, "services")
        self.customer_weights = [c.weight for c in self.customers]

    # -- plumbing ------------------------------------------------------------------

    def emit(self, event_type: type[Event], day: dt.date, **fields: object) -> None:
        """Add an event unless it falls after today (it has not happened yet)."""
        if day > self.today:
            return
        self.seq += 1
        self.plan.events.append(event_type(day=day, seq=self.seq, **fields))

    def next_key(self, prefix: str, width: int) -> str:
        self.counters[prefix] += 1
        return f"{prefix}{self.counters[prefix]:0{width}d}"

    def business(self, day: dt.date) -> dt.date:
        return next_business_day(day, self.profile.weekend)

    def payment_run(self, day: dt.date, weekday: int) -> dt.date:
        """The first ``weekday`` on or after ``day``: parties pay in weekly runs."""
        return day + dt.timedelta(days=(weekday - day.weekday()) % 7)

    def is_business(self, day: dt.date) -> bool:
        return is_business_day(day, self.profile.weekend)

    # -- the walk ------------------------------------------------------------------

    def run(self, hooks: dict[dt.date, list[Callable[[dt.date], None]]]) -> None:
        """Simulate every day from the start of history to today."""
        for day in days_between(self.plan.start, self.today):
            for pair, qty in self.arrivals.pop(day, []):
                self.stock[pair] += qty
                self.on_order[pair] -= qty
            for customer, amount in self.ar_released.pop(day, []):
                self.open_ar[customer] -= amount
            self.sales(day)
            if self.is_business(day):
                self.service_invoice(day)
                self.stock_moves(day)
            for hook in hooks.get(day, []):
                hook(day)
            if self.is_business(day):
                self.replenish(day, review=day.weekday() == self.profile.review_weekday)
            for customer, amount in self.ar_released_evening.pop(day, []):
                self.open_ar[customer] -= amount
            if day == last_business_day(day, self.profile.weekend):
                self.month_end(day)
        self.flush_payments()

    # -- sales ---------------------------------------------------------------------

    def sales(self, day: dt.date) -> None:
        """The day's sales orders: weekly pattern, mild trend, injected anomalies."""
        rng = self.rng_sales
        years = (day - self.plan.start).days / 365
        rate = (
            self.profile.orders_per_day
            * self.scale
            * self.profile.weekday_factors[day.weekday()]
            * (1 + self.profile.annual_growth * years)
        )
        boost = 1.0
        anomaly = self.anomalies.get(day)
        if anomaly is None:
            count = int(rate * (0.75 + 0.5 * rng.random()) + rng.random())
        elif anomaly.direction == "spike":
            # Deterministic on purpose: the ground truth must hold at every scale.
            count = max(3, math.ceil(rate * float(anomaly.factor)))
            boost = 1.5
        else:
            count = 0
        for _ in range(count):
            self.one_sale(day, boost, allow_cancel=anomaly is None)

    def one_sale(self, day: dt.date, boost: float, *, allow_cancel: bool) -> None:
        rng = self.rng_sales
        for _attempt in range(3):
            customer = rng.choices(self.customers, weights=self.customer_weights)[0]
            lines = self.pick_lines(customer.warehouse, customer.discount_pct, boost)
            if not lines:
                return
            totals = document_amounts(self.items, lines, price="sale")
            # A tenth of headroom under the limit: the service checks it, the demo obeys.
            headroom = customer.credit_limit * Decimal("0.9") - self.open_ar[customer.index]
            if totals.total <= headroom:
                break
        else:
            return
        if day >= self.today - dt.timedelta(days=2):
            outcome = rng.choices(("invoiced", "delivered", "confirmed", "draft"), (4, 2, 2, 1))[0]
        elif allow_cancel and chance(rng, 2):
            outcome = "cancelled"
        else:
            outcome = "invoiced"
        key = self.next_key("S", 5)
        reason = rng.choice(("Customer changed the order", "Duplicate entry", "Out of budget"))
        self.emit(
            SaleEvent,
            day,
            key=key,
            customer=customer.index,
            warehouse=customer.warehouse,
            lines=lines,
            outcome=outcome,
            subtotal=totals.subtotal,
            total=totals.total,
            reason=reason if outcome == "cancelled" else None,
        )
        if outcome in ("draft", "cancelled"):
            return
        for line in lines:
            if self.items[line.sku].spec.is_tracked:
                self.stock[(line.sku, customer.warehouse)] -= line.quantity
        # Confirmed-but-unbilled orders count against credit too (the demo is cautious).
        self.open_ar[customer.index] += totals.total
        if outcome == "invoiced":
            self.daily_sales[day] += totals.subtotal
            self.plan_receipts(key, customer.index, day, totals.total)

    def pick_lines(self, warehouse: str, discount: Decimal, boost: float) -> tuple[PlanLine, ...]:
        """Up to five distinct items, quantities sized to a typical line value and stock."""
        rng = self.rng_sales
        wanted = rng.choices(LINE_COUNTS, weights=LINE_COUNT_WEIGHTS)[0]
        candidates = [
            i for i in self.items.values() if not i.spec.is_tracked or warehouse in i.warehouses
        ]
        weights = [i.spec.popularity for i in candidates]
        chosen: list[PlanLine] = []
        seen: set[str] = set()
        for _ in range(wanted):
            item = rng.choices(candidates, weights=weights)[0]
            if item.spec.sku in seen:
                continue
            seen.add(item.spec.sku)
            if not item.spec.is_tracked:
                qty = Decimal(rng.randint(1, 3))
            else:
                target = float(LINE_VALUE[self.profile.slug]) * (0.4 + 1.2 * rng.random()) * boost
                qty = Decimal(max(1, int(target / float(item.spec.price))))
                available = self.stock[(item.spec.sku, warehouse)]
                qty = min(qty, Decimal(int(available)))
                if qty < 1:
                    continue
            chosen.append(PlanLine(item.spec.sku, qty, discount))
        return tuple(chosen)

    def service_invoice(self, day: dt.date, *, voided: bool = False) -> None:
        """Now and then an invoice for services alone; a ``voided`` one is voided next day."""
        rng = self.rng_service
        if not voided and (day in self.anomalies or not chance(rng, 4)):
            return
        services = [i for i in self.items.values() if not i.spec.is_tracked]
        customer = rng.choices(self.customers, weights=self.customer_weights)[0]
        item = rng.choice(services)
        lines = (PlanLine(item.spec.sku, Decimal(rng.randint(1, 4))),)
        totals = document_amounts(self.items, lines, price="sale")
        if not voided and totals.total > customer.credit_limit - self.open_ar[customer.index]:
            return
        key = self.next_key("V", 4)
        self.emit(
            ServiceInvoiceEvent,
            day,
            key=key,
            customer=customer.index,
            lines=lines,
            total=totals.total,
        )
        self.open_ar[customer.index] += totals.total
        if voided:
            void_day = self.business(day + dt.timedelta(days=1))
            self.emit(
                VoidInvoiceEvent,
                void_day,
                key=key,
                reason="Raised against the wrong customer; reissued",
            )
            self.ar_released_evening[void_day].append((customer.index, totals.total))
            return
        self.daily_sales[day] += totals.subtotal
        self.plan_receipts(key, customer.index, day, totals.total)

    # -- customer receipts ---------------------------------------------------------

    def plan_receipts(self, key: str, customer: int, issued: dt.date, total: Decimal) -> None:
        """When and how much the customer pays against this invoice."""
        rng = self.rng_pay
        cust = self.customers[customer]
        due = issued + dt.timedelta(days=cust.terms)
        bucket = bucket_of(due, self.today)
        payments: list[tuple[dt.date, Decimal]]
        if bucket not in self.forced_ar:
            self.forced_ar.add(bucket)  # the first invoice of each age stays unpaid
            payments = []
        elif cust.payer == "prompt":
            payments = [
                (issued + dt.timedelta(days=rng.randint(cust.terms // 3, cust.terms)), total)
            ]
        elif cust.payer == "normal":
            payments = [(due + dt.timedelta(days=rng.randint(-2, 6)), total)]
        elif cust.payer == "late":
            if chance(rng, 70):
                payments = [(due + dt.timedelta(days=rng.randint(10, 55)), total)]
            else:
                half = money(total / 2)
                payments = [
                    (due + dt.timedelta(days=rng.randint(0, 10)), half),
                    (due + dt.timedelta(days=rng.randint(30, 80)), total - half),
                ]
        else:
            roll = rng.random()
            if roll < 0.35:
                payments = []
            elif roll < 0.7:
                payments = [
                    (
                        due + dt.timedelta(days=rng.randint(5, 40)),
                        money(total * rng.randint(30, 60) / 100),
                    )
                ]
            else:
                payments = [(due + dt.timedelta(days=rng.randint(60, 150)), total)]
        for day, amount in payments:
            # Receipts are booked before the day's sales: never on the invoice's own day.
            day = self.payment_run(max(day, issued + dt.timedelta(days=1)), cust.pay_weekday)
            if day <= self.today and amount > 0:
                self.receipts[(day, customer)].append((key, amount))
                self.ar_released[day].append((customer, amount))

    # -- purchasing ----------------------------------------------------------------

    def replenish(self, day: dt.date, *, review: bool) -> None:
        """The buyer's reorders: weekly review, or at once when an item runs out."""
        due: dict[tuple[int, str], list[Pair]] = defaultdict(list)
        for item in self.items.values():
            for code in item.warehouses:
                pair = (item.spec.sku, code)
                if pair in self.suppressed:
                    continue
                projected = self.stock[pair] + self.on_order[pair]
                if projected <= item.reorder_level and (review or projected <= 0):
                    due[(item.supplier, code)].append(pair)
        for (supplier, code), pairs in sorted(due.items()):
            if review:
                # Joint replenishment: top up the supplier's other items at this warehouse.
                for item in self.items.values():
                    pair = (item.spec.sku, code)
                    if (
                        item.supplier == supplier
                        and code in item.warehouses
                        and pair not in pairs
                        and pair not in self.suppressed
                        and self.stock[pair] + self.on_order[pair]
                        < item.reorder_level + item.reorder_qty / 2
                    ):
                        pairs.append(pair)
            lines = []
            for sku, _ in sorted(pairs):
                item = self.items[sku]
                projected = self.stock[(sku, code)] + self.on_order[(sku, code)]
                qty = max(item.reorder_qty, item.reorder_level + item.reorder_qty - projected)
                lines.append(PlanLine(sku, quantize(qty, 0)))
            self.organic_purchase(day, supplier, code, tuple(lines))

    def organic_purchase(
        self, day: dt.date, supplier: int, code: str, lines: tuple[PlanLine, ...]
    ) -> None:
        rng = self.rng_buy
        total = document_amounts(self.items, lines, price="cost").total
        decisions: list[Decision] = []
        when = day
        levels = self.levels_for(total)
        reject = len(levels) >= 2 and chance(rng, 4)
        for n, level in enumerate(levels):
            when = self.business(when + dt.timedelta(days=rng.randint(0, 1)))
            if reject and n == len(levels) - 1:
                decisions.append((when, level, False, rng.choice(self.profile.reject_comments)))
                break
            decisions.append((when, level, True, None))
        if reject:
            self.purchase(day, supplier, code, lines, decisions=decisions)
            return
        lead = self.suppliers[supplier].lead_days
        arrival = self.business(when + dt.timedelta(days=lead + 1))
        receipts: list[Receipt]
        if chance(rng, 15) and any(line.quantity >= 2 for line in lines):
            first = tuple(
                PlanLine(line.sku, quantize(line.quantity * Decimal("0.6"), 0))
                for line in lines
                if line.quantity >= 2
            )
            receipts = [
                (arrival, first),
                (self.business(arrival + dt.timedelta(days=rng.randint(3, 6))), None),
            ]
        else:
            receipts = [(arrival, None)]
        self.purchase(
            day,
            supplier,
            code,
            lines,
            decisions=decisions,
            receipts=receipts,
            bill=receipts[-1][0],
            expected=arrival,
        )

    def levels_for(self, total: Decimal) -> list[int]:
        """The approval levels a purchase order of ``total`` needs."""
        return [lv.level for lv in self.profile.levels if lv.min_amount <= total]

    def purchase(
        self,
        day: dt.date,
        supplier: int,
        code: str,
        lines: tuple[PlanLine, ...],
        *,
        submit: bool = True,
        decisions: list[Decision] | None = None,
        receipts: list[Receipt] | None = None,
        bill: dt.date | None = None,
        cancel: tuple[dt.date, str] | None = None,
        expected: dt.date | None = None,
        force_open_bill: bool = False,
    ) -> str:
        """Emit one purchase order's whole life and keep the stock shadow in step."""
        key = self.next_key("P", 4)
        total = document_amounts(self.items, lines, price="cost").total
        self.emit(
            PurchaseEvent,
            day,
            key=key,
            supplier=supplier,
            warehouse=code,
            lines=lines,
            total=total,
            submit=submit,
            expected=expected,
        )
        decisions = decisions or []
        for when, level, approve, comment in decisions:
            self.emit(DecisionEvent, when, key=key, level=level, approve=approve, comment=comment)
        if cancel is not None:
            self.emit(CancelPurchaseEvent, cancel[0], key=key, reason=cancel[1])
        rejected = any(not approve for _, _, approve, _ in decisions)
        if rejected or cancel is not None or not submit:
            return key
        remaining = {line.sku: line.quantity for line in lines}
        for line in lines:
            self.on_order[(line.sku, code)] += line.quantity
        for when, part in receipts or []:
            self.emit(ReceivePurchaseEvent, when, key=key, lines=part)
            taken = part or tuple(PlanLine(s, q) for s, q in remaining.items() if q > 0)
            for line in taken:
                if self.items[line.sku].spec.is_tracked:
                    self.arrivals[when].append(((line.sku, code), line.quantity))
                remaining[line.sku] -= line.quantity
        if bill is not None and bill <= self.today:
            self.emit(BillPurchaseEvent, bill, key=key, total=total)
            self.plan_supplier_payment(key, supplier, bill, total, force_open=force_open_bill)
        return key

    def plan_supplier_payment(
        self, key: str, supplier: int, billed: dt.date, total: Decimal, *, force_open: bool
    ) -> None:
        rng = self.rng_buy
        due = billed + dt.timedelta(days=self.suppliers[supplier].terms)
        bucket = bucket_of(due, self.today)
        if force_open or (bucket not in self.forced_ap and bucket in ("current", "1-30")):
            self.forced_ap.add(bucket)
            return
        strict = self.profile.slug != "acme"  # Globex pays on time; Acme stretches
        roll = rng.random()
        payments: list[tuple[dt.date, Decimal]]
        if roll < (0.75 if strict else 0.55):
            payments = [(due - dt.timedelta(days=rng.randint(0, 3)), total)]
        elif roll < (0.95 if strict else 0.85):
            payments = [(due + dt.timedelta(days=rng.randint(3, 25)), total)]
        elif roll < (0.97 if strict else 0.93):
            half = money(total / 2)
            payments = [
                (due, half),
                (due + dt.timedelta(days=rng.randint(15, 30)), total - half),
            ]
        else:
            payments = [(due + dt.timedelta(days=rng.randint(30, 60)), total)]
        for day, amount in payments:
            day = self.payment_run(max(day, billed), self.profile.payment_run_weekday)
            if day <= self.today:
                self.supplier_pays[(day, supplier)].append((key, amount))

    # -- stock ---------------------------------------------------------------------

    def stock_moves(self, day: dt.date) -> None:
        """Occasional count differences, damage write-offs and transfers between depots."""
        rng = self.rng_stock
        pairs = sorted((i.spec.sku, c) for i in self.items.values() for c in i.warehouses)
        if chance(rng, 6):
            pair = rng.choice(pairs)
            on_hand = int(self.stock[pair])
            if pair not in self.suppressed and on_hand >= 4 and chance(rng, 70):
                delta = -Decimal(rng.randint(1, max(1, on_hand // 8)))
                reason = rng.choice(self.profile.adjustment_reasons[:3])
            else:
                delta = Decimal(rng.randint(1, 3))
                reason = self.profile.adjustment_reasons[3]
            self.emit(
                AdjustmentEvent, day, sku=pair[0], warehouse=pair[1], delta=delta, reason=reason
            )
            self.stock[pair] += delta
        if chance(rng, 4):
            main = self.profile.warehouses[0].code
            for sku, code in pairs:
                item = self.items[sku]
                if code == main or main not in item.warehouses or (sku, code) in self.suppressed:
                    continue
                surplus = self.stock[(sku, main)] - item.reorder_level - item.reorder_qty / 2
                if self.stock[(sku, code)] < item.reorder_level and surplus >= 2:
                    qty = quantize(min(surplus, item.reorder_qty / 2), 0)
                    self.emit(TransferEvent, day, sku=sku, source=main, target=code, quantity=qty)
                    self.stock[(sku, main)] -= qty
                    self.stock[(sku, code)] += qty
                    break

    # -- month end -----------------------------------------------------------------

    def month_end(self, day: dt.date) -> None:
        """Rent, salaries and utilities; salaries rise 5% each new fiscal year."""
        raises = 0
        fy = fiscal_year_start(self.plan.start, self.profile.fiscal_year_start_month)
        while True:
            fy = fy.replace(year=fy.year + 1)
            if fy > day:
                break
            raises += 1
        for spec in self.profile.expenses:
            amount = spec.amount
            if spec.account_hint == "salar":
                amount = amount * Decimal("1.05") ** raises
            elif spec.account_hint == "utilit":
                amount = jitter(self.rng_money, amount, 12)
            amount = money(amount)
            if spec.bank != 0:
                self.emit(
                    BankTransferEvent,
                    day,
                    source=0,
                    target=spec.bank,
                    amount=amount,
                    memo=f"Funding: {spec.memo.lower()} {day:%B %Y}",
                )
            self.emit(
                ExpenseEvent,
                day,
                account_hint=spec.account_hint,
                memo=f"{spec.memo} {day:%B %Y}",
                amount=amount,
                bank=spec.bank,
            )

    # -- payments, grouped per party and day -----------------------------------------

    def flush_payments(self) -> None:
        """One receipt per customer and day, one payment per supplier and day."""
        banks = [b.weight for b in self.profile.banks]
        rng = stream(self.profile.slug, "banks")
        for (day, customer), allocations in sorted(self.receipts.items()):
            bank = rng.choices(range(len(banks)), weights=banks)[0]
            self.emit(
                ReceiptEvent, day, customer=customer, bank=bank, allocations=tuple(allocations)
            )
        for (day, supplier), allocations in sorted(self.supplier_pays.items()):
            self.emit(
                SupplierPaymentEvent, day, supplier=supplier, bank=0, allocations=tuple(allocations)
            )
