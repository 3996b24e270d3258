"""Low stock: items below their reorder level, with a purchase order to suggest.

Open purchase orders to the warehouse count: when what is on order reaches the level, the
alert says so (info) and suggests nothing; otherwise it suggests the order below.

"Below reorder" is the ERP's own definition (``erp.stock.repository.below_reorder``). The
suggested order is the item's reorder quantity from its usual supplier (the supplier of
most of its purchase orders) into the short warehouse: ``POST /api/v1/ai/alerts/{id}/act``
turns it into a pending confirmation of ``create_purchase_order``.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from companion.alerts.detectors.base import Finding, ScanInput, register_detector
from companion.erp.items import repository as items_repo
from companion.erp.parties import repository as parties_repo
from companion.erp.purchasing import supply_repository as supply
from companion.erp.stock import repository as stock_repo
from companion.kit.money import ZERO, group_digits

TYPE = "low_stock"


def _qty(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _units(value: Decimal, uom: str, locale: str = "en") -> str:
    """``21 units``, ``1 unit``, ``12.5 kg``, ``2,237 units`` (the company's grouping)."""
    unit = ("unit" if value == 1 else "units") if uom == "unit" else uom
    places = max(0, -int(value.normalize().as_tuple().exponent))
    return f"{group_digits(value, locale, places)} {unit}"


class LowStock:
    name = "low_stock"
    types: tuple[str, ...] = (TYPE,)
    state = True

    def detect(self, scan: ScanInput) -> list[Finding]:
        """One finding per item and warehouse below the reorder level."""
        rows = stock_repo.below_reorder(scan.session, scan.ctx)
        if not rows:
            return []
        ordered = supply.on_order(scan.session, scan.ctx, [r.item_id for r in rows])
        usual = supply.usual_suppliers(scan.session, scan.ctx, [r.item_id for r in rows])
        items = items_repo.items_by_ids(scan.session, scan.ctx, [r.item_id for r in rows])
        suppliers = {
            sid: parties_repo.get_supplier(scan.session, scan.ctx, sid).name
            for sid in set(usual.values())
        }
        findings = []
        for row in rows:
            item = items[row.item_id]
            units_of = partial(_units, uom=item.uom, locale=scan.ctx.locale)
            supplier_id = usual.get(row.item_id)
            order = row.reorder_qty if row.reorder_qty > 0 else row.shortfall
            units = units_of(order)
            action = None
            advice = " No usual supplier is known: no order is suggested."
            if supplier_id is not None:
                supplier = suppliers[supplier_id]
                advice = f" Suggested: order {units} from {supplier}, its usual supplier."
                action = {
                    "action": "create_purchase_order",
                    "label": f"Order {units} from {supplier}",
                    "params": {
                        "supplier_id": supplier_id,
                        "supplier_name": supplier,
                        "warehouse_id": row.warehouse_id,
                        "lines": [
                            {"item_id": row.item_id, "name": item.name, "quantity": _qty(order)}
                        ],
                    },
                }
            pending = ordered.get((row.item_id, row.warehouse_id), ZERO)
            # Open orders that reach the level: the buyer has acted; say so, suggest nothing.
            covered = row.quantity + pending >= row.reorder_level
            if covered:
                advice = (
                    f" {units_of(pending)} already on order, enough to reach it: "
                    "no new order suggested."
                )
                action = None
            elif pending > 0:
                advice = f" {units_of(pending)} already on order." + advice
            findings.append(
                Finding(
                    type=TYPE,
                    severity="info"
                    if covered
                    else ("critical" if row.quantity <= 0 else "warning"),
                    title=f"{item.name} is below its reorder level in {row.warehouse_code}",
                    message=(
                        f"{item.name} ({row.sku}) has {units_of(row.quantity)} in "
                        f"{row.warehouse_code}, below its reorder level of "
                        f"{_qty(row.reorder_level)}.{advice}"
                    ),
                    module="inventory",
                    permission="inventory.read",
                    # Covered by orders is another condition: the actionable alert clears.
                    condition_key=f"{TYPE}:{row.item_id}:{row.warehouse_id}"
                    + (":on_order" if covered else ""),
                    on_date=scan.today,
                    record_ref=row.sku,
                    expected=None,
                    observed=None,
                    suggested_action=action,
                    details={
                        "item_id": row.item_id,
                        "sku": row.sku,
                        "warehouse_id": row.warehouse_id,
                        "warehouse": row.warehouse_code,
                        "quantity": _qty(row.quantity),
                        "reorder_level": _qty(row.reorder_level),
                        "reorder_qty": _qty(row.reorder_qty),
                        "on_order": _qty(pending),
                    },
                )
            )
        return findings


register_detector(LowStock())
