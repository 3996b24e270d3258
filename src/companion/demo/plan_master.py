"""Master data of the plan: customers, suppliers, items, where items are stocked."""

from __future__ import annotations

import math
from decimal import Decimal

from companion.demo.catalog import LINE_VALUE, ItemSpec, catalog
from companion.demo.names import customer_names, supplier_names
from companion.demo.plan import CustomerPlan, ItemPlan, SupplierPlan
from companion.demo.profiles import CompanyProfile
from companion.demo.streams import stream

# How many lines an order has, and how likely each count is.
LINE_COUNTS = (1, 2, 3, 4, 5)
LINE_COUNT_WEIGHTS = (3, 4, 3, 2, 1)
MEAN_LINES = sum(c * w for c, w in zip(LINE_COUNTS, LINE_COUNT_WEIGHTS, strict=True)) / sum(
    LINE_COUNT_WEIGHTS
)
# Customers' payment habits and how common each is.
PAYERS = ("prompt", "normal", "late", "slow")
PAYER_WEIGHTS = (35, 30, 20, 15)
REORDER_COVER_DAYS = 14
REORDER_QTY_DAYS = 120
# Share of the catalogue each warehouse after the first stocks.
SECONDARY_STOCK_SHARE = (1.0, 0.5, 0.35)


def scaled(count: int, scale: float, minimum: int) -> int:
    """``count`` times ``scale``, never below ``minimum``."""
    return max(minimum, int(count * scale + 0.5))


def plan_customers(profile: CompanyProfile, scale: float) -> list[CustomerPlan]:
    """The company's customers with their terms, limits and habits."""
    rng = stream(profile.slug, "customers")
    count = scaled(profile.customers, scale, 12)
    codes = [w.code for w in profile.warehouses]
    weights = [w.weight for w in profile.warehouses]
    result = []
    for index, party in enumerate(customer_names(profile.slug, count)):
        result.append(
            CustomerPlan(
                index=index,
                name=party.name,
                email=party.email,
                phone=party.phone,
                terms=rng.choice(profile.customer_terms),
                credit_limit=rng.choice(profile.credit_limits),
                payer=rng.choices(PAYERS, weights=PAYER_WEIGHTS)[0],
                warehouse=rng.choices(codes, weights=weights)[0],
                discount_pct=rng.choices(
                    (Decimal("0"), Decimal("2.5"), Decimal("5")), weights=(7, 2, 1)
                )[0],
                weight=rng.choice((1, 1, 1, 2, 2, 3, 5, 8)),
                pay_weekday=rng.choice([d for d in range(7) if d not in profile.weekend]),
            )
        )
    return result


def plan_suppliers(profile: CompanyProfile, scale: float) -> list[SupplierPlan]:
    """The company's suppliers with their terms and lead times."""
    rng = stream(profile.slug, "suppliers")
    count = scaled(profile.suppliers, scale, 6)
    return [
        SupplierPlan(
            index=index,
            name=party.name,
            email=party.email,
            phone=party.phone,
            terms=rng.choice(profile.supplier_terms),
            lead_days=rng.randint(3, 9),
        )
        for index, party in enumerate(supplier_names(profile.slug, count))
    ]


def typical_quantity(slug: str, spec: ItemSpec) -> float:
    """The quantity an average order line takes of ``spec``."""
    if not spec.is_tracked:
        return 2.0
    return max(1.0, float(LINE_VALUE[slug]) / float(spec.price))


def plan_items(
    profile: CompanyProfile, scale: float, suppliers: list[SupplierPlan]
) -> list[ItemPlan]:
    """Items with reorder points sized to their expected demand, and where they are stocked."""
    rng = stream(profile.slug, "items")
    specs = catalog(profile.slug, scaled(len(catalog(profile.slug)), scale, 16))
    codes = [w.code for w in profile.warehouses]
    stocked: dict[str, list[str]] = {s.sku: [] for s in specs if s.is_tracked}
    goods = [s.sku for s in specs if s.is_tracked]
    popularity = {s.sku: s.popularity for s in specs}
    for n, code in enumerate(codes):
        share = SECONDARY_STOCK_SHARE[min(n, len(SECONDARY_STOCK_SHARE) - 1)]
        order = list(goods)
        rng.shuffle(order)
        # Popular items first (a stable sort keeps the shuffle among equals), so every
        # warehouse carries the fast movers.
        order.sort(key=lambda sku: -popularity[sku])
        for sku in order[: max(1, math.ceil(len(order) * share))]:
            stocked[sku].append(code)
    # Few suppliers per product family, so one review gives multi-line orders.
    families = sorted({s.sku.split("-")[1] for s in specs if s.is_tracked})
    family_suppliers: dict[str, list[int]] = {}
    pool = [s.index for s in suppliers]
    rng.shuffle(pool)
    for n, family in enumerate(families):
        family_suppliers[family] = [pool[(2 * n + k) % len(pool)] for k in range(2)]
    daily_orders = profile.orders_per_day * scale
    total_popularity = sum(s.popularity for s in specs)
    result = []
    for spec in specs:
        if not spec.is_tracked:
            result.append(ItemPlan(spec, Decimal("0"), Decimal("0"), pool[0], ()))
            continue
        where = tuple(c for c in codes if c in stocked[spec.sku])
        per_day = (
            daily_orders
            * MEAN_LINES
            * spec.popularity
            / total_popularity
            * typical_quantity(profile.slug, spec)
            / len(where)
        )
        level = _nice(per_day * REORDER_COVER_DAYS, 2)
        qty = _nice(per_day * REORDER_QTY_DAYS, 5)
        supplier = rng.choice(family_suppliers[spec.sku.split("-")[1]])
        result.append(ItemPlan(spec, level, qty, supplier, where))
    return result


def _nice(value: float, minimum: int) -> Decimal:
    """A round order quantity: whole units, to the nearest 5 or 10 once it is large."""
    units = max(minimum, math.ceil(value))
    step = 10 if units >= 100 else 5 if units >= 20 else 1
    return Decimal(math.ceil(units / step) * step)


def opening_stock(items: list[ItemPlan]) -> list[tuple[str, str, Decimal]]:
    """What each warehouse holds when history starts: a full reorder cycle."""
    return [
        (item.spec.sku, code, item.reorder_level + item.reorder_qty)
        for item in items
        for code in item.warehouses
    ]
