"""``plan_company``: master data, anomalies, the simulation and the scripted end state.

Besides the organic year of trade, a few purchase orders are scripted relative to today
so the demo always shows every purchase-order status, a queue for each approver, stock
below its reorder level in a secondary warehouse, and a voided invoice.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from companion.demo.calendar import days_between, demo_start, is_business_day
from companion.demo.plan import AdjustmentEvent, AnomalyPlan, CompanyPlan, PlanLine
from companion.demo.plan_master import (
    opening_stock,
    plan_customers,
    plan_items,
    plan_suppliers,
)
from companion.demo.plan_rules import document_amounts, fill_anomaly_figures
from companion.demo.plan_sim import Decision, Receipt, Simulation
from companion.demo.profiles import PROFILES, CompanyProfile
from companion.demo.streams import stream
from companion.kit.money import quantize

SALES_METRIC = "sales_net"  # net (pre-tax) value of AR invoices issued that day, void excluded


@dataclass(frozen=True)
class Script:
    """A purchase order whose whole life is fixed relative to today (days before it)."""

    name: str
    created: int
    size: str  # small: level 1 only; mid: levels 1-2; large: levels 1-3
    submit: bool = True
    approvals: tuple[int, ...] = ()  # one per level, in level order
    reject: int | None = None  # the next level rejects on this day
    receipts: tuple[tuple[int, Decimal | None], ...] = ()  # fraction, None: the rest
    bill: int | None = None
    cancel: int | None = None
    writeoff_items: bool = False  # orders the items written off below reorder


SCRIPTS = (
    Script("closed", 40, "small", approvals=(40,), receipts=((33, None),), bill=33),
    Script("cancelled after approval", 25, "small", approvals=(25,), cancel=21),
    Script("rejected", 20, "mid", approvals=(19,), reject=18),
    Script("partially received", 15, "small", approvals=(14,), receipts=((5, Decimal("0.5")),)),
    Script("received, not billed", 12, "small", approvals=(11,), receipts=((2, None),)),
    Script("cancelled draft", 9, "small", submit=False, cancel=8),
    Script("approved", 6, "mid", approvals=(5, 4)),
    Script("pending level 3", 3, "large", approvals=(2, 1)),
    Script("pending level 2", 2, "mid", approvals=(1,), writeoff_items=True),
    Script("draft", 1, "small", submit=False),
    Script("pending level 1", 0, "small"),
)
WRITEOFF_DAYS_BEFORE = 3
VOIDED_INVOICE_DAYS_BEFORE = 20


def plan_demo(today: dt.date, *, months: int = 13, scale: float = 1.0) -> list[CompanyPlan]:
    """The plans of every demo company, in profile order."""
    return [plan_company(p, today, months=months, scale=scale) for p in PROFILES.values()]


def plan_company(
    profile: CompanyProfile, today: dt.date, *, months: int = 13, scale: float = 1.0
) -> CompanyPlan:
    """The complete, deterministic plan of one company's demo history."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    start = demo_start(today, months)
    customers = plan_customers(profile, scale)
    suppliers = plan_suppliers(profile, scale)
    items = plan_items(profile, scale, suppliers)
    plan = CompanyPlan(
        profile=profile,
        start=start,
        today=today,
        customers=customers,
        suppliers=suppliers,
        items=items,
        opening_stock=opening_stock(items),
        anomalies=plan_anomalies(profile, start, today, months),
    )
    sim = Simulation(plan, scale)
    sim.run(_scripted_hooks(sim))
    fill_anomaly_figures(plan, sim.daily_sales)
    return plan


def plan_anomalies(
    profile: CompanyProfile, start: dt.date, today: dt.date, months: int
) -> list[AnomalyPlan]:
    """Spikes and drops of daily sales on strong weekdays, at least two weeks apart."""
    rng = stream(profile.slug, "anomalies")
    span = (today - start).days
    first = start + dt.timedelta(days=min(28, span // 3))
    last = today - dt.timedelta(days=7)
    candidates = [
        d for d in days_between(first, last) if profile.weekday_factors[d.weekday()] >= 0.95
    ]
    rng.shuffle(candidates)
    chosen: list[dt.date] = []
    for day in candidates:
        if all(abs((day - c).days) >= 14 for c in chosen):
            chosen.append(day)
        if len(chosen) == max(2, months // 2):
            break
    result = []
    for n, day in enumerate(sorted(chosen)):
        if n % 2 == 0:
            factor = rng.choice((Decimal("3.0"), Decimal("3.5"), Decimal("4.0")))
            reason = profile.spike_reasons[(n // 2) % len(profile.spike_reasons)]
            result.append(AnomalyPlan(day, SALES_METRIC, "spike", factor, reason))
        else:
            factor = Decimal("0")  # the business stood still: no sales at all
            reason = profile.drop_reasons[(n // 2) % len(profile.drop_reasons)]
            result.append(AnomalyPlan(day, SALES_METRIC, "drop", factor, reason))
    return result


def _scripted_hooks(sim: Simulation) -> dict[dt.date, list[Callable[[dt.date], None]]]:
    plan, weekend = sim.plan, sim.profile.weekend

    def on(days_before: int) -> dt.date:
        day = max(plan.today - dt.timedelta(days=days_before), plan.start)
        while not is_business_day(day, weekend) and day > plan.start:
            day -= dt.timedelta(days=1)
        return day

    hooks: dict[dt.date, list[Callable[[dt.date], None]]] = {}
    hooks.setdefault(on(WRITEOFF_DAYS_BEFORE), []).append(partial(_write_off, sim))
    hooks.setdefault(on(VOIDED_INVOICE_DAYS_BEFORE), []).append(
        partial(sim.service_invoice, voided=True)
    )
    rng = stream(sim.profile.slug, "scripted-purchases")
    for script in SCRIPTS:
        hooks.setdefault(on(script.created), []).append(
            partial(_scripted_purchase, sim, script, on, rng.random())
        )
    return hooks


def _write_off(sim: Simulation, day: dt.date) -> None:
    """Water damage in a secondary depot leaves two items below their reorder level."""
    code = sim.profile.warehouses[min(1, len(sim.profile.warehouses) - 1)].code
    pairs = sorted(
        (sku, code)
        for sku, item in sim.items.items()
        if code in item.warehouses and sim.on_order[(sku, code)] == 0
    )
    rng = stream(sim.profile.slug, "write-off")
    rng.shuffle(pairs)
    for pair in sorted(pairs[:2]):
        item = sim.items[pair[0]]
        target = Decimal(math.floor(item.reorder_level * Decimal("0.3")))
        delta = target - sim.stock[pair]
        if delta < 0:
            sim.emit(
                AdjustmentEvent,
                day,
                sku=pair[0],
                warehouse=pair[1],
                delta=delta,
                reason=sim.profile.adjustment_reasons[2],
            )
            sim.stock[pair] += delta
        sim.suppressed.add(pair)


def _scripted_purchase(
    sim: Simulation, script: Script, on: Callable[[int], dt.date], pick: float, day: dt.date
) -> None:
    levels = sim.profile.levels
    level2 = levels[1].min_amount if len(levels) > 1 else Decimal("1000")
    level3 = levels[2].min_amount if len(levels) > 2 else level2 * 4
    target = {
        "small": level2 * Decimal("0.35"),
        "mid": (level2 + level3) / 2,
        "large": level3 * Decimal("1.3"),
    }[script.size]
    main = sim.profile.warehouses[0].code
    if script.writeoff_items and sim.suppressed:
        pairs = sorted(sim.suppressed)
        code = pairs[0][1]
        skus = [sku for sku, _ in pairs]
    else:
        code = main
        goods = sorted(
            s for s, i in sim.items.items() if i.spec.is_tracked and main in i.warehouses
        )
        skus = [goods[int(pick * len(goods))]]
    supplier = sim.items[skus[0]].supplier
    per_line = target / len(skus)
    lines = []
    for sku in skus:
        spec = sim.items[sku].spec
        gross_cost = spec.cost * (1 + spec.tax_rate / 100)
        lines.append(PlanLine(sku, Decimal(math.ceil(per_line / gross_cost))))
    decisions: list[Decision] = []
    needed = sim.levels_for(document_amounts(sim.items, tuple(lines), price="cost").total)
    for level, days_before in zip(needed, script.approvals, strict=False):
        decisions.append((max(on(days_before), day), level, True, None))
    if script.reject is not None and len(decisions) < len(needed):
        comment = sim.profile.reject_comments[0]
        decisions.append((max(on(script.reject), day), needed[len(decisions)], False, comment))
    last = max((d[0] for d in decisions), default=day)
    receipts: list[Receipt] = []
    for days_before, fraction in script.receipts:
        when = max(on(days_before), last + dt.timedelta(days=1))
        part = None
        if fraction is not None:
            part = tuple(PlanLine(ln.sku, quantize(ln.quantity * fraction, 0)) for ln in lines)
        receipts.append((when, part))
        last = when
    bill = last if script.bill is not None else None
    cancel = None
    if script.cancel is not None:
        cancel = (
            max(on(script.cancel), last),
            sim.profile.cancel_reasons[0 if script.submit else 1],
        )
    sim.purchase(
        day,
        supplier,
        code,
        tuple(lines),
        submit=script.submit,
        decisions=decisions,
        receipts=receipts,
        bill=bill,
        cancel=cancel,
        expected=day + dt.timedelta(days=sim.suppliers[supplier].lead_days + 2),
        force_open_bill=True,
    )
