"""Operations actions in chat: raise a purchase order, adjust stock.

A purchase order raised right after a low-stock question ("which items are below reorder
level?" then "order them from Rahman Traders") takes each item's reorder quantity unless a
quantity is said. A stock adjustment shows on-hand before and after and the voucher it posts.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from companion.assistant.actions.base import (
    Ask,
    Outcome,
    Proposal,
    Rechecked,
    dry_run,
    register_action,
)
from companion.assistant.actions.handlers.lines import gather_lines, lone_number, parse_lines
from companion.assistant.actions.handlers.support import (
    REASON_WORDS,
    candidates_ask,
    checked,
    day,
    doc_lines,
    fmt,
    lines_ask,
    master_data,
    reason_in,
    take_party,
    take_warehouse,
    voucher_preview,
    warehouse_ask,
    warehouse_choices,
)
from companion.assistant.nlu.entities.numbers import normalise_decimal
from companion.erp.items import repository as items_repo
from companion.erp.items.models import Item, Warehouse
from companion.erp.ledger import repository as ledger_repo
from companion.erp.parties import repository as parties_repo
from companion.erp.purchasing.models import PurchaseOrder
from companion.erp.purchasing.service import create_purchase_order, submit_purchase_order
from companion.erp.stock import repository as stock_repo
from companion.erp.stock.models import MoveType, StockMove
from companion.erp.stock.service import adjust_stock, adjust_stock_counted, plan_adjustment
from companion.errors import BusinessRuleViolation
from companion.kit.money import ZERO, money
from companion.tenancy.context import RequestContext

LOW_STOCK_INTENT = "below_reorder"
_LOW_STOCK_WORDS = re.compile(
    r"\b(?:reorder|re-order|restock|replenish|top\s+up|low[- ]stock|below\s+reorder)\b", re.I
)
_THESE = re.compile(r"\b(?:them|these|those|all\s+of\s+them|the\s+(?:low|short)\w*)\b", re.I)
_DRAFT = re.compile(r"\bdraft\b", re.IGNORECASE)
_DECREASE = re.compile(
    r"\b(?:remove|reduce|decrease|lower|subtract|deduct|minus|write[- ]?off|writeoff|take\s+out"
    r"|took\s+out|lost|damaged|broken|expired|stolen|missing|less)\b",
    re.IGNORECASE,
)
_INCREASE = re.compile(r"\b(?:add|increase|raise|plus|found|extra|more|put\s+in|top\s+up)\b", re.I)


def _qty(value: Decimal) -> str:
    """``100`` rather than ``100.000``."""
    return str(normalise_decimal(value))


def _from_low_stock(params: dict[str, Any], text: str) -> bool:
    return params.get("previous_intent") == LOW_STOCK_INTENT or bool(_LOW_STOCK_WORDS.search(text))


def _order_snapshot(order: PurchaseOrder) -> dict[str, Any]:
    return {
        "type": "purchase_order",
        "number": order.number,
        "status": order.status,
        "order_date": order.order_date.isoformat(),
        "warehouse_id": order.warehouse_id,
        "currency": order.currency,
        "lines": [
            {
                "item_id": line.item_id,
                "description": line.description,
                "quantity": str(line.quantity),
                "unit_price": str(line.unit_price),
                "tax_rate": str(line.tax_rate),
                "net_amount": str(line.net_amount),
                "tax_amount": str(line.tax_amount),
            }
            for line in order.lines
        ],
        "subtotal": str(order.subtotal),
        "discount_total": str(order.discount_total),
        "tax_total": str(order.tax_total),
        "total": str(order.total),
        "approval_levels": [t.level for t in order.tasks],
    }


class CreatePurchaseOrder:
    """create_purchase_order: supplier, items, quantities (reorder quantity after a low-stock
    question), priced at cost unless said; created and sent for approval."""

    action = "create_purchase_order"
    permission = "procurement.write"

    def gather(
        self,
        session: Session,
        ctx: RequestContext,
        params: dict[str, Any],
        entities: dict[str, Any],
        text: str,
        today: dt.date,
    ) -> dict[str, Any]:
        """Supplier, lines and warehouse from this turn; corrections overwrite."""
        p = dict(params)
        p.setdefault("date", today.isoformat())
        if not self._stray_supplier(p, entities):
            take_party(p, entities, "supplier")
        take_warehouse(session, ctx, p, entities, text)
        low_stock = _from_low_stock(p, text)
        master = master_data(session, ctx)
        if low_stock and not p.get("lines") and not parse_lines(text, master, today):
            if _THESE.search(text) or p.get("previous_intent") == LOW_STOCK_INTENT:
                p["lines"] = self._below_reorder_lines(session, ctx, p.get("warehouse_id"))
        gather_lines(p, text, entities, master, today)
        if low_stock:
            self._reorder_quantities(session, ctx, p)
        if _DRAFT.search(text):
            p["submit"] = False
        return p

    @staticmethod
    def _stray_supplier(params: dict[str, Any], entities: dict[str, Any]) -> bool:
        """A loose supplier match in words that name a warehouse ("Chattogram Port Depot"
        half-matches "Chattogram Traders"): it must not undo the supplier already chosen."""
        supplier, warehouse = entities.get("supplier"), entities.get("warehouse")
        return (
            params.get("supplier_id") is not None
            and isinstance(supplier, dict)
            and supplier.get("id") is None
            and isinstance(warehouse, dict)
            and warehouse.get("id") is not None
        )

    def missing(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Ask | None:
        """Supplier, then items and quantities, then the receiving warehouse."""
        ambiguous = candidates_ask(params, "supplier", "supplier")
        if ambiguous:
            return Ask("supplier", *ambiguous)
        if params.get("supplier_id") is None:
            return Ask("supplier", "Which supplier should the order go to?")
        return lines_ask(params, "the purchase order") or warehouse_ask(
            session, ctx, params, "Which warehouse should receive the goods?"
        )

    @checked
    def propose(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Proposal:
        """Create (and submit) the order in a dry run: lines at cost, totals, approval levels."""
        supplier = parties_repo.get_supplier(session, ctx, int(params["supplier_id"]))
        submit = bool(params.get("submit", True))
        lines = doc_lines(params)

        def run() -> dict[str, Any]:
            return _order_snapshot(self._create(session, ctx, params, submit))

        doc = dry_run(session, run)
        doc["supplier"] = supplier.name
        warehouse_id = doc["warehouse_id"]
        f = fmt(ctx)
        total = Decimal(doc["total"])
        balances = self._on_order(session, ctx, doc, warehouse_id)
        frozen = {
            **{k: v for k, v in params.items() if not k.endswith("_candidates")},
            "supplier_id": supplier.id,
            "supplier_name": supplier.name,
            "date": day(params).isoformat(),
            "warehouse_id": warehouse_id,
            "submit": submit,
            "lines": [
                {
                    "item_id": ln.item_id,
                    "name": src.get("name"),
                    "quantity": str(ln.quantity),
                    "unit_price": snap["unit_price"],
                    "tax_rate": snap["tax_rate"],
                }
                for ln, src, snap in zip(lines, params["lines"], doc["lines"], strict=True)
            ],
        }
        listed = "; ".join(
            f"{f.quantity(Decimal(ln['quantity']))} × {ln['description']} at "
            f"{f.money(Decimal(ln['unit_price']))}"
            for ln in doc["lines"]
        )
        where = ""
        if warehouse_id is not None:
            where = f", into {items_repo.get_warehouse(session, ctx, warehouse_id).name}"
        status = doc["status"].replace("_", " ")
        return Proposal(
            summary=f"Create purchase order {doc['number']} to {supplier.name}: {listed}{where}. "
            f"Total {f.money(total)}; it will be {status}",
            preview={"documents": [doc], "balances": balances},
            params=frozen,
            amount=total,
        )

    @checked
    def execute(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Outcome:
        """Create (and submit) it through the purchasing service."""
        order = self._create(session, ctx, params, bool(params.get("submit", True)))
        supplier = parties_repo.get_supplier(session, ctx, order.supplier_id)
        return Outcome(
            message=f"Created purchase order {order.number} to {supplier.name}, total "
            f"{fmt(ctx).money(order.total)}; it is {order.status.replace('_', ' ')}.",
            document_ref=order.number,
            result={
                "purchase_order_id": order.id,
                "number": order.number,
                "status": order.status,
                "total": str(order.total),
            },
        )

    @staticmethod
    def _create(
        session: Session, ctx: RequestContext, params: dict[str, Any], submit: bool
    ) -> PurchaseOrder:
        order = create_purchase_order(
            session,
            ctx,
            supplier_id=int(params["supplier_id"]),
            order_date=day(params),
            lines=doc_lines(params),
            warehouse_id=params.get("warehouse_id"),
        )
        if submit:
            order = submit_purchase_order(session, ctx, order.id)
        return order

    @staticmethod
    def _below_reorder_lines(
        session: Session, ctx: RequestContext, warehouse_id: int | None
    ) -> list[dict[str, Any]]:
        """One line per item below its reorder level (in the warehouse, if one was named)."""
        lines: dict[int, dict[str, Any]] = {}
        for row in stock_repo.below_reorder(session, ctx, warehouse_id=warehouse_id):
            if row.item_id not in lines:
                lines[row.item_id] = {
                    "item_id": row.item_id,
                    "name": row.item_name,
                    "quantity": _qty(row.reorder_qty) if row.reorder_qty > 0 else None,
                    "unit_price": None,
                }
        return list(lines.values())

    @staticmethod
    def _reorder_quantities(session: Session, ctx: RequestContext, p: dict[str, Any]) -> None:
        """Lines with no quantity take the item's reorder quantity."""
        lines = p.get("lines") or []
        ids = [int(ln["item_id"]) for ln in lines if ln.get("quantity") is None]
        items = items_repo.items_by_ids(session, ctx, ids)
        for line in lines:
            item = items.get(int(line["item_id"]))
            if line.get("quantity") is None and item is not None and item.reorder_qty > 0:
                line["quantity"] = _qty(item.reorder_qty)

    @staticmethod
    def _on_order(
        session: Session, ctx: RequestContext, doc: dict[str, Any], warehouse_id: int | None
    ) -> list[dict[str, Any]]:
        """On hand now and once the order is received, per stocked item."""
        if warehouse_id is None:
            return []
        ids = [int(ln["item_id"]) for ln in doc["lines"]]
        items = items_repo.items_by_ids(session, ctx, ids)
        on_hand = stock_repo.on_hand_many(session, ctx, warehouse_id, ids)
        code = items_repo.get_warehouse(session, ctx, warehouse_id).code
        out = []
        for ln in doc["lines"]:
            item = items[int(ln["item_id"])]
            if not item.is_tracked:
                continue
            now = on_hand.get(item.id, ZERO)
            out.append(
                {
                    "what": f"{item.sku} on hand in {code} once received",
                    "before": str(now),
                    "after": str(now + Decimal(ln["quantity"])),
                    "reorder_level": str(item.reorder_level),
                }
            )
        return out


class AdjustInventory:
    """adjust_inventory: item, warehouse, quantity up or down, and the reason."""

    action = "adjust_inventory"
    permission = "inventory.adjust"

    def gather(
        self,
        session: Session,
        ctx: RequestContext,
        params: dict[str, Any],
        entities: dict[str, Any],
        text: str,
        today: dt.date,
    ) -> dict[str, Any]:
        """Item, warehouse, signed quantity and reason from this turn; corrections overwrite."""
        p = dict(params)
        p.setdefault("date", today.isoformat())
        mentions = parse_lines(text, master_data(session, ctx), today)
        if mentions:
            first = mentions[0]
            if first.item_id is not None:
                p["item_id"], p["item_name"] = first.item_id, first.name
                p.pop("item_candidates", None)
            else:
                p["item_candidates"] = [{"id": i, "name": n} for i, n in first.candidates]
        asked = self._next_slot(params)
        take_warehouse(session, ctx, p, entities, text)
        raw = entities.get("quantity")
        value = Decimal(str(raw)) if raw is not None else None
        if value is None:
            value = mentions[0].quantity if mentions else lone_number(text, today)
        sign = -1 if value is not None and value < 0 else self._sign(text)
        if sign is None and value is not None and asked != "sign":
            sign = p.get("sign")  # "make it 8" keeps the direction already given
        if value is not None:
            p["quantity"] = str(abs(value))
        if sign is not None:
            p["sign"] = sign
        if asked == "reason" and not mentions and value is None:
            reason: str | None = text.strip(" .")  # the reply to "What is the reason?"
        else:
            reason = reason_in(text)
        if reason:
            p["reason"] = reason[:500]
        return p

    @staticmethod
    def _next_slot(params: dict[str, Any]) -> str | None:
        """The slot the last question asked for (None when nothing was missing)."""
        for slot, key in (
            ("product", "item_id"),
            ("warehouse", "warehouse_id"),
            ("quantity", "quantity"),
            ("sign", "sign"),
            ("reason", "reason"),
        ):
            if params.get(key) in (None, ""):
                return slot
        return None

    def missing(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Ask | None:
        """Item, warehouse, quantity, direction and reason."""
        if params.get("item_candidates"):
            return Ask(
                "product",
                "Which item did you mean?",
                [c["name"] for c in params["item_candidates"]],
            )
        if params.get("item_id") is None:
            return Ask("product", "Which item's stock should I adjust?")
        ambiguous = candidates_ask(params, "warehouse", "warehouse")
        if ambiguous:
            return Ask("warehouse", *ambiguous)
        if params.get("warehouse_id") is None:
            return Ask(
                "warehouse", "Which warehouse?", warehouse_choices(session, ctx, params) or None
            )
        if params.get("quantity") is None:
            return Ask("quantity", f"By how many units should {params['item_name']} change?")
        if params.get("sign") is None:
            qty = abs(Decimal(params["quantity"]))
            return Ask("sign", "Should the stock go up or down?", [f"add {qty}", f"remove {qty}"])
        if not params.get("reason"):
            return Ask(
                "reason",
                "What is the reason for the adjustment?",
                sorted(set(REASON_WORDS.values())),
            )
        return None

    @checked
    def propose(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Proposal:
        """The stock move, on hand before and after, and the voucher, as the stock service plans
        them (``plan_adjustment``): read, not a dry run, so a proposal does not wait for an
        adjustment being confirmed, which holds the level's and the audit chain's locks until
        it commits. The confirmation runs ``adjust_stock``, which checks again under the lock.
        """
        item, warehouse, delta = self._requested(session, ctx, params)
        done = self._planned(session, ctx, params)
        before = done["before"]
        f = fmt(ctx)
        value = self._value(delta, item)
        direction = "Add" if delta > 0 else "Remove"
        reason = str(params["reason"])
        return Proposal(
            summary=f"{direction} {f.quantity(abs(delta), item.uom)} of {item.name} "
            f"{'to' if delta > 0 else 'from'} {warehouse.name} ({reason}): on hand "
            f"{f.quantity(before)} → {f.quantity(done['after'])}, value {f.money(value)}",
            preview={
                "stock_moves": [
                    {
                        **done["move"],
                        "item": item.name,
                        "sku": item.sku,
                        "warehouse": warehouse.code,
                        "on_hand_before": str(before),
                        "on_hand_after": str(done["after"]),
                    }
                ],
                "journal": done["journal"],
                "balances": [
                    {
                        "what": f"{item.sku} on hand in {warehouse.code}",
                        "before": str(before),
                        "after": str(done["after"]),
                    }
                ],
            },
            params={
                "item_id": item.id,
                "item_name": item.name,
                "warehouse_id": warehouse.id,
                "warehouse_name": warehouse.name,
                "quantity": str(abs(delta)),
                "sign": 1 if delta > 0 else -1,
                "reason": reason,
                "date": day(params).isoformat(),
            },
            amount=value,
        )

    @checked
    def recheck(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Rechecked:
        """What ``propose`` checks and the amount it gives, by ``plan_adjustment`` alone:
        the level as last committed must still allow the change (the stale-plan check); the
        voucher's accounts are not read, since the preview's lines are not compared."""
        item, warehouse, delta = self._requested(session, ctx, params)
        plan_adjustment(
            session,
            ctx,
            item_id=int(params["item_id"]),
            warehouse_id=int(params["warehouse_id"]),
            quantity_delta=delta,
            reason=str(params["reason"]),
        )
        return Rechecked(None, self._value(delta, item), kept=(item, warehouse))

    @staticmethod
    def _requested(
        session: Session, ctx: RequestContext, params: dict[str, Any]
    ) -> tuple[Item, Warehouse, Decimal]:
        """The item, the warehouse and the signed change asked for; zero is refused."""
        item = items_repo.get_item(session, ctx, int(params["item_id"]))
        warehouse = items_repo.get_warehouse(session, ctx, int(params["warehouse_id"]))
        delta = AdjustInventory._delta(params)
        if delta == 0:
            raise BusinessRuleViolation("An adjustment of zero changes nothing")
        return item, warehouse, delta

    @staticmethod
    def _value(delta: Decimal, item: Item) -> Decimal:
        """The amount the proposal shows and the confirmation compares."""
        return (abs(delta) * item.unit_cost).quantize(Decimal("0.01"))

    def _planned(
        self, session: Session, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """On hand before and after, the move and the voucher's lines, by ``plan_adjustment``.

        A company whose chart lacks an account the voucher needs gets the dry run instead
        (posting sets the chart up; the dry run rolls that back with the rest).
        """
        plan = plan_adjustment(
            session,
            ctx,
            item_id=int(params["item_id"]),
            warehouse_id=int(params["warehouse_id"]),
            quantity_delta=self._delta(params),
            reason=str(params.get("reason") or ""),
        )
        journal: list[dict[str, Any]] = []
        if plan.value != ZERO:
            accounts = ledger_repo.accounts_by_roles(
                session, ctx.company_id, (plan.debit.value, plan.credit.value)
            )
            debit, credit = accounts.get(plan.debit.value), accounts.get(plan.credit.value)
            if debit is None or credit is None:
                return self._dry_run(session, ctx, params)
            amount, nothing = str(money(plan.value)), str(money(ZERO))
            journal = [
                {"account": f"{debit.code} {debit.name}", "debit": amount, "credit": nothing},
                {"account": f"{credit.code} {credit.name}", "debit": nothing, "credit": amount},
            ]
        gain = plan.after > plan.before
        return {
            "before": plan.before,
            "after": plan.after,
            "journal": journal,
            "move": {
                "move_type": MoveType.ADJUSTMENT.value,
                "quantity": str(plan.quantity),
                "direction": "in" if gain else "out",
                "unit_cost": str(plan.item.unit_cost),
            },
        }

    def _dry_run(
        self, session: Session, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """The same, by adjusting in a savepoint and rolling it back (locks while it runs)."""
        item_id, warehouse_id = int(params["item_id"]), int(params["warehouse_id"])
        before = stock_repo.on_hand(session, ctx, item_id, warehouse_id)

        def run() -> dict[str, Any]:
            move = self._adjust(session, ctx, params)
            vouchers, _ = ledger_repo.list_vouchers(
                session, ctx, source_type="stock_move", source_id=move.id, limit=1
            )
            return {
                "before": before,
                "move": self._move_values(move),
                "journal": voucher_preview(session, ctx, vouchers[0].id) if vouchers else [],
                "after": stock_repo.on_hand(session, ctx, item_id, warehouse_id),
            }

        return dry_run(session, run)

    @checked
    def execute(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Outcome:
        """Adjust through the stock service."""
        # Read before the adjustment: from its level's lock to the commit, only what needs it.
        item = items_repo.get_item(session, ctx, int(params["item_id"]))
        move, on_hand = adjust_stock_counted(session, ctx, **AdjustInventory._arguments(params))
        f = fmt(ctx)
        return Outcome(
            message=f"Adjusted {item.name} by {AdjustInventory._delta(params):+} in "
            f"{params['warehouse_name']}; {f.quantity(on_hand)} now on hand.",
            document_ref=None,
            result={"stock_move_id": move.id, "on_hand": str(on_hand)},
        )

    @staticmethod
    def _adjust(session: Session, ctx: RequestContext, params: dict[str, Any]) -> StockMove:
        return adjust_stock(session, ctx, **AdjustInventory._arguments(params))

    @staticmethod
    def _arguments(params: dict[str, Any]) -> dict[str, Any]:
        """The stock service's keyword arguments for the adjustment ``params`` describe."""
        return {
            "item_id": int(params["item_id"]),
            "warehouse_id": int(params["warehouse_id"]),
            "quantity_delta": AdjustInventory._delta(params),
            "reason": str(params.get("reason") or ""),
            "on": day(params),
        }

    @staticmethod
    def _move_values(move: StockMove) -> dict[str, Any]:
        return {
            "move_type": move.move_type,
            "quantity": str(move.quantity),
            "direction": "in" if move.to_warehouse_id is not None else "out",
            "unit_cost": str(move.unit_cost),
        }

    @staticmethod
    def _sign(text: str) -> int | None:
        if _DECREASE.search(text):
            return -1
        if _INCREASE.search(text):
            return 1
        return None

    @staticmethod
    def _delta(params: dict[str, Any]) -> Decimal:
        """The signed change: the quantity with the direction the user gave."""
        sign = int(params.get("sign") or 1)
        return abs(Decimal(str(params["quantity"]))) * sign


register_action(CreatePurchaseOrder())
register_action(AdjustInventory())
