"""Sales actions in chat: create a (confirmed) sales order, create a customer.

A sales order made from chat is created and confirmed in one step, so the ERP's stock and
credit-limit checks run at proposal time (in a rolled-back dry run) and again on execution.
Say "draft" to only create it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from companion.assistant.actions.base import Ask, Outcome, Proposal, dry_run, register_action
from companion.assistant.actions.handlers.lines import gather_lines
from companion.assistant.actions.handlers.support import (
    candidates_ask,
    checked,
    day,
    dec,
    doc_lines,
    fmt,
    lines_ask,
    master_data,
    take_party,
    take_warehouse,
    warehouse_ask,
)
from companion.assistant.nlu.entities.amounts import MONEY
from companion.assistant.nlu.entities.numbers import scaled_value
from companion.erp.items import repository as items_repo
from companion.erp.parties import repository as parties_repo
from companion.erp.parties.schemas import CustomerIn
from companion.erp.parties.service import create_customer
from companion.erp.sales import repository as sales_repo
from companion.erp.sales.models import SalesOrder
from companion.erp.sales.service import confirm_sales_order, create_sales_order
from companion.erp.stock import repository as stock_repo
from companion.errors import ValidationFailed
from companion.kit.money import ZERO
from companion.tenancy.context import RequestContext

_DRAFT = re.compile(r"\bdraft\b", re.IGNORECASE)
_CONFIRMED = re.compile(r"\b(?:confirm(?:ed)?\s+it|not\s+(?:a\s+)?draft)\b", re.IGNORECASE)
# "for Unknown Corp", "to Nobody Ltd": a name the customer list does not know (for the question).
_NAMED = re.compile(r"\b(?:for|to|customer)\s+(?P<name>[A-Z][\w&.'\-]*(?:\s+[A-Z][\w&.'\-]*){0,4})")


def _order_snapshot(order: SalesOrder) -> dict[str, Any]:
    return {
        "type": "sales_order",
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
                "discount_pct": str(line.discount_pct),
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
    }


class CreateSalesOrder:
    """create_sales_order: customer, lines (list price by default), warehouse, tax, discount."""

    action = "create_sales_order"
    permission = "sales.write"

    def gather(
        self,
        session: Session,
        ctx: RequestContext,
        params: dict[str, Any],
        entities: dict[str, Any],
        text: str,
        today: dt.date,
    ) -> dict[str, Any]:
        """Customer, lines, warehouse, discount and tax from this turn; corrections overwrite."""
        p = dict(params)
        p.setdefault("date", today.isoformat())
        if take_party(p, entities, "customer"):
            p.pop("unknown_customer", None)
        else:
            named = _NAMED.search(text)
            known = [
                str(e.get("text") or "")
                for e in (entities.get("product"), entities.get("warehouse"))
                if isinstance(e, dict)
            ]
            if named and not any(k and k in named.group("name") for k in known):
                # A customer named but not found replaces the one an earlier turn gave.
                p["unknown_customer"] = named.group("name")
                p.pop("customer_id", None)
                p.pop("customer_name", None)
        take_warehouse(session, ctx, p, entities, text)
        gather_lines(p, text, entities, master_data(session, ctx), today)
        if _DRAFT.search(text):
            p["confirm"] = False
        elif _CONFIRMED.search(text):
            p["confirm"] = True
        return p

    def missing(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Ask | None:
        """Customer, then products, quantities and the warehouse they ship from."""
        ambiguous = candidates_ask(params, "customer", "customer")
        if ambiguous:
            return Ask("customer", *ambiguous)
        if params.get("customer_id") is None:
            unknown = params.get("unknown_customer")
            if unknown:
                return Ask(
                    "customer", f"I couldn't find a customer called '{unknown}'. Which customer?"
                )
            return Ask("customer", "Which customer is the order for?")
        return lines_ask(params, "the order") or warehouse_ask(
            session, ctx, params, "Which warehouse should the order ship from?"
        )

    @checked
    def propose(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Proposal:
        """Create (and confirm) the order in a dry run: totals, reservations, credit exposure."""
        customer = parties_repo.get_customer(session, ctx, int(params["customer_id"]))
        lines = doc_lines(params)
        confirm = bool(params.get("confirm", True))
        open_before = sales_repo.open_receivables(session, ctx, customer.id)

        def run() -> dict[str, Any]:
            order = self._create(session, ctx, params, confirm)
            snap = _order_snapshot(order)
            snap["customer"] = customer.name
            return snap

        doc = dry_run(session, run)
        warehouse_id = doc["warehouse_id"]
        f = fmt(ctx)
        total = Decimal(doc["total"])
        balances: list[dict[str, Any]] = [
            {
                "what": f"{customer.name}: open receivables plus confirmed order",
                "before": str(open_before),
                "after": str(open_before + total) if confirm else str(open_before),
                "credit_limit": str(customer.credit_limit),
            }
        ]
        balances += self._availability(session, ctx, doc, warehouse_id) if confirm else []
        frozen = {
            **{k: v for k, v in params.items() if not k.endswith("_candidates")},
            "customer_id": customer.id,
            "customer_name": customer.name,
            "date": day(params).isoformat(),
            "warehouse_id": warehouse_id,
            "confirm": confirm,
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
        where = ""
        if warehouse_id is not None:
            where = f", from {items_repo.get_warehouse(session, ctx, warehouse_id).name}"
        listed = "; ".join(
            f"{f.quantity(Decimal(ln['quantity']))} × {ln['description']} at "
            f"{f.money(Decimal(ln['unit_price']))}"
            for ln in doc["lines"]
        )
        summary = (
            f"Create {'and confirm ' if confirm else ''}sales order {doc['number']} for "
            f"{customer.name}: {listed}{where}. Total {f.money(total)} "
            f"(tax {f.money(Decimal(doc['tax_total']))}"
            + (
                f", discount {f.money(Decimal(doc['discount_total']))}"
                if Decimal(doc["discount_total"])
                else ""
            )
            + ")."
        )
        return Proposal(
            summary=summary.rstrip(" ."),
            preview={"documents": [doc], "balances": balances},
            params=frozen,
            amount=total,
        )

    @checked
    def execute(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Outcome:
        """Create (and confirm) the order through the sales service."""
        confirm = bool(params.get("confirm", True))
        order = self._create(session, ctx, params, confirm)
        customer = parties_repo.get_customer(session, ctx, order.customer_id)
        f = fmt(ctx)
        state = "confirmed" if confirm else "a draft"
        return Outcome(
            message=f"Created sales order {order.number} for {customer.name}, total "
            f"{f.money(order.total)}; it is {state}.",
            document_ref=order.number,
            result={
                "sales_order_id": order.id,
                "number": order.number,
                "status": order.status,
                "total": str(order.total),
            },
        )

    @staticmethod
    def _create(
        session: Session, ctx: RequestContext, params: dict[str, Any], confirm: bool
    ) -> SalesOrder:
        order = create_sales_order(
            session,
            ctx,
            customer_id=int(params["customer_id"]),
            order_date=day(params),
            lines=doc_lines(params),
            warehouse_id=params.get("warehouse_id"),
        )
        if confirm:
            order = confirm_sales_order(session, ctx, order.id)
        return order

    @staticmethod
    def _availability(
        session: Session, ctx: RequestContext, doc: dict[str, Any], warehouse_id: int | None
    ) -> list[dict[str, Any]]:
        """Stock available (on hand less other confirmed orders) before and after this order."""
        if warehouse_id is None:
            return []
        ids = [int(ln["item_id"]) for ln in doc["lines"]]
        items = items_repo.items_by_ids(session, ctx, ids)
        tracked = [i for i in ids if items[i].is_tracked]
        on_hand = stock_repo.on_hand_many(session, ctx, warehouse_id, tracked)
        held = sales_repo.reserved_quantities(
            session, ctx, warehouse_id, tracked, exclude_order_id=0
        )
        needed: dict[int, Decimal] = {}
        for ln in doc["lines"]:
            if int(ln["item_id"]) in tracked:
                needed[int(ln["item_id"])] = needed.get(int(ln["item_id"]), ZERO) + Decimal(
                    ln["quantity"]
                )
        code = items_repo.get_warehouse(session, ctx, warehouse_id).code
        out = []
        for item_id, qty in needed.items():
            available = on_hand.get(item_id, ZERO) - held.get(item_id, ZERO)
            out.append(
                {
                    "what": f"{items[item_id].sku} available in {code}",
                    "before": str(available),
                    "after": str(available - qty),
                }
            )
        return out


_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;.]+")
_PHONE = re.compile(
    r"\b(?:phone|tel|mobile|cell|contact)\s*(?:number|no\.?)?\s*(?:is|:)?\s*(?P<v>\+?\d[\d\s\-]{5,}\d)",
    re.I,
)
_LIMIT = re.compile(
    rf"\bcredit\s*limit\s*(?:of|is|:|at)?\s*(?P<m>{MONEY.replace('?P<', '?P<m_')})", re.IGNORECASE
)
_TERMS = re.compile(
    r"\b(?:net\s*(?P<a>\d{1,3})\b"
    r"|(?P<b>\d{1,3})\s*[- ]?days?(?:\s+(?:payment\s+)?(?:terms|credit))?"
    r"|terms\s*(?:of|:)?\s*(?P<c>\d{1,3})(?:\s*days?)?)",
    re.IGNORECASE,
)
_CODE = re.compile(r"\bcode\s*(?:is|:)?\s*(?P<v>[A-Za-z0-9][A-Za-z0-9\-_/]{0,31})\b", re.I)
_NAME = re.compile(
    r"\b(?:customer|client)\s+(?:called|named)?\s*|\b(?:called|named)\s+",
    re.IGNORECASE,
)
_NAME_END = re.compile(
    r"\s*(?:,|;|\bwith\b|\bemail\b|\be-mail\b|\bphone\b|\bmobile\b|\bcredit\b|\bterms\b|\bcode\b"
    r"|\bnet\s*\d|\bpayment\b|\d+\s*days?)",
    re.IGNORECASE,
)
_ACTION_WORDS = re.compile(
    r"\b(?:create|add|new|register|set up|open|customer|client|email|phone|credit|terms|code)\b",
    re.IGNORECASE,
)


def _customer_name(text: str) -> str | None:
    """The name in "add a customer called Rahman Traders with ..." (None when not said)."""
    match = None
    for found in _NAME.finditer(text):
        match = found
    if match is None:
        return None
    rest = text[match.end() :]
    end = _NAME_END.search(rest)
    name = (rest[: end.start()] if end else rest).strip(" .'\"")
    name = re.sub(r"^(?:a|an|the)\s+", "", name, flags=re.IGNORECASE)
    return name or None


class CreateCustomer:
    """create_customer: name, and optionally code, email, phone, payment terms, credit limit."""

    action = "create_customer"
    permission = "sales.write"

    def gather(
        self,
        session: Session,
        ctx: RequestContext,
        params: dict[str, Any],
        entities: dict[str, Any],
        text: str,
        today: dt.date,
    ) -> dict[str, Any]:
        """The new customer's fields from this turn; a later value replaces an earlier one."""
        p = dict(params)
        name = _customer_name(text)
        named = entities.get("customer")
        if name is None and isinstance(named, dict) and named.get("id") is None:
            # A name no existing customer matches, as a model's tool choice gives it.
            if named.get("text") and not named.get("candidates"):
                name = str(named["text"]).strip()
        if name is None and p.get("name") is None and not _ACTION_WORDS.search(text):
            name = text.strip(" .'\"")  # the reply to "What is the customer's name?"
        if name:
            p["name"] = name
        email = _EMAIL.search(text)
        if email:
            p["email"] = email.group(0)
        phone = _PHONE.search(text)
        if phone:
            p["phone"] = phone.group("v").strip()
        limit = _LIMIT.search(text)
        if limit:
            value = scaled_value(
                limit.group("m_num"), limit.group("m_glued") or limit.group("m_spaced")
            )
            if value is not None:
                p["credit_limit"] = str(value)
        terms = _TERMS.search(text)
        if terms:
            p["payment_terms_days"] = int(terms.group("a") or terms.group("b") or terms.group("c"))
        code = _CODE.search(text)
        if code:
            p["code"] = code.group("v").upper()
        return p

    def missing(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Ask | None:
        """Only the name is required."""
        if not params.get("name"):
            return Ask("name", "What is the new customer's name?", free_text=True)
        return None

    @checked
    def propose(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Proposal:
        """Validate the fields and create the customer in a dry run (code, duplicates)."""
        data = self._data(params)

        def run() -> dict[str, Any]:
            customer = create_customer(session, ctx, data)
            return {
                "type": "customer",
                "code": customer.code,
                "name": customer.name,
                "email": customer.email,
                "phone": customer.phone,
                "payment_terms_days": customer.payment_terms_days,
                "credit_limit": str(customer.credit_limit),
            }

        doc = dry_run(session, run)
        f = fmt(ctx)
        limit = Decimal(doc["credit_limit"])
        extras = [f"{doc['payment_terms_days']}-day terms"]
        extras.append(f"credit limit {f.money(limit)}" if limit else "no credit limit")
        extras += [v for v in (doc["email"], doc["phone"]) if v]
        return Proposal(
            summary=f"Create customer {doc['name']} ({doc['code']}): {', '.join(extras)}",
            preview={"documents": [doc]},
            params={**params, **data.model_dump(mode="json"), "code": data.code},
        )

    @checked
    def execute(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Outcome:
        """Create the customer through the parties service."""
        customer = create_customer(session, ctx, self._data(params))
        return Outcome(
            message=f"Created customer {customer.name} with code {customer.code}.",
            document_ref=customer.code,
            result={"customer_id": customer.id, "code": customer.code, "name": customer.name},
        )

    @staticmethod
    def _data(params: dict[str, Any]) -> CustomerIn:
        fields = {
            k: params[k]
            for k in ("name", "code", "email", "phone", "payment_terms_days")
            if params.get(k) is not None
        }
        limit = dec(params.get("credit_limit"))
        if limit is not None:
            fields["credit_limit"] = limit
        try:
            return CustomerIn(**fields)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            field = ".".join(str(part) for part in first["loc"])
            raise ValidationFailed(
                f"The customer's {field or 'details'}: {first['msg'].lower()}",
                details={"field": field},
            ) from exc


register_action(CreateSalesOrder())
register_action(CreateCustomer())
