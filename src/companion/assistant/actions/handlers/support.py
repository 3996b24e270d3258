"""What the sales, finance and operations handlers share: slots from entities, previews.

Parameters are JSON-able (ids as ints, Decimals as strings) because the framework stores
them in the conversation between turns and on the pending confirmation.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session

from companion.assistant.actions.base import Ask
from companion.assistant.answers import AnswerFormat
from companion.assistant.nlu.entities.docrefs import extract_document_refs, format_ref
from companion.assistant.nlu.entities.master import MasterData
from companion.assistant.understanding import turn_master
from companion.erp.documents import DocLineIn
from companion.erp.items import repository as items_repo
from companion.erp.items.models import Warehouse
from companion.erp.ledger import repository as ledger_repo
from companion.errors import BusinessRuleViolation, ValidationFailed
from companion.kit.money import money
from companion.tenancy.context import RequestContext

_OTHER_WAREHOUSE = re.compile(
    r"\b(?:the\s+)?other\s+(?:warehouse|depot|store|one|location)\b", re.I
)
_REASON = re.compile(
    r"\b(?:because(?:\s+of)?|reason\s*(?:is|:|-)?|due\s+to|as\s+(?:it|they)\s+(?:was|were|is|are))"
    r"\s+(?P<reason>.+)$",
    re.IGNORECASE,
)
# Reasons people give for a stock count change, written as they would be recorded.
REASON_WORDS = {
    "damaged": "Damaged",
    "damage": "Damaged",
    "broken": "Damaged",
    "expired": "Expired",
    "lost": "Lost",
    "missing": "Missing in count",
    "stolen": "Theft",
    "theft": "Theft",
    "found": "Found in count",
    "recount": "Count correction",
    "stock count": "Count correction",
    "stocktake": "Count correction",
    "count": "Count correction",
    "correction": "Count correction",
    "sample": "Samples",
    "samples": "Samples",
    "returned": "Customer return",
    "return": "Customer return",
}
_REASON_WORD = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, REASON_WORDS), key=len, reverse=True)) + r")\b", re.I
)


H = TypeVar("H")
R = TypeVar("R")


def checked(
    fn: Callable[[H, Session, RequestContext, dict[str, Any]], R],
) -> Callable[[H, Session, RequestContext, dict[str, Any]], R]:
    """Parameters sent straight to the API may be missing or malformed: a 422, never a 500."""

    @functools.wraps(fn)
    def wrapper(self: H, session: Session, ctx: RequestContext, params: dict[str, Any]) -> R:
        try:
            return fn(self, session, ctx, params)
        except KeyError as exc:
            raise ValidationFailed(
                f"The parameter '{exc.args[0]}' is missing", details={"missing": exc.args[0]}
            ) from exc
        except ValidationError as exc:  # a model the handler built (pydantic's text is long)
            first = exc.errors(include_url=False)[0]
            field = ".".join(str(part) for part in first["loc"])
            raise ValidationFailed(
                f"Invalid parameters: {field} {first['msg'].lower()}", details={"field": field}
            ) from exc
        except (ValueError, TypeError) as exc:
            raise ValidationFailed(f"Invalid parameters: {exc}") from exc
        except ArithmeticError as exc:
            # decimal.InvalidOperation's text is a list of classes, not a sentence.
            raise ValidationFailed(
                "Invalid parameters: a number is too large or not a number",
                details={"reason": "bad_number"},
            ) from exc

    return wrapper


def day(params: dict[str, Any]) -> dt.date:
    """The business date the turn gave (``date``), or today when sent without one."""
    raw = params.get("date")
    return dt.date.fromisoformat(str(raw)) if raw else dt.datetime.now(dt.UTC).date()


def master_data(session: Session, ctx: RequestContext) -> MasterData:
    """The caller's company's names, for finding products in a sentence (those the turn's
    understanding used, when it did)."""
    return turn_master(session, ctx)


def dec(value: Any) -> Decimal | None:
    """A stored parameter back as a Decimal (None stays None)."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise BusinessRuleViolation(f"{value!r} is not a number") from exc


def fmt(ctx: RequestContext) -> AnswerFormat:
    """Money and quantities as the caller's company writes them."""
    return AnswerFormat.of(ctx)


def take_party(params: dict[str, Any], entities: dict[str, Any], kind: str) -> bool:
    """Copy a resolved (or ambiguous) customer/supplier/warehouse/bank entity into params.

    Stores ``<kind>_id`` and ``<kind>_name``, or ``<kind>_candidates`` when several records
    match about equally well. Returns True when this turn named one.
    """
    entity = entities.get(kind)
    if not isinstance(entity, dict):
        return False
    if entity.get("id") is not None:
        params[f"{kind}_id"] = int(entity["id"])
        params[f"{kind}_name"] = entity.get("name")
        params.pop(f"{kind}_candidates", None)
        return True
    candidates = entity.get("candidates") or []
    if candidates:
        params[f"{kind}_candidates"] = [
            {"id": int(c["id"]), "name": c["name"]} for c in candidates if c.get("id") is not None
        ]
        return True
    return False


def candidates_ask(params: dict[str, Any], kind: str, what: str) -> tuple[str, list[str]] | None:
    """("Which customer did you mean?", names) while an entity is ambiguous."""
    candidates = params.get(f"{kind}_candidates")
    if not candidates:
        return None
    return f"Which {what} did you mean?", [str(c["name"]) for c in candidates]


def active_warehouses(session: Session, ctx: RequestContext) -> list[Warehouse]:
    """The company's active warehouses, by code."""
    return items_repo.active_warehouses(session, ctx)


def warehouse_label(warehouse: Warehouse) -> str:
    """``Dhaka Central Warehouse (DHK)``."""
    return f"{warehouse.name} ({warehouse.code})"


def take_warehouse(
    session: Session,
    ctx: RequestContext,
    params: dict[str, Any],
    entities: dict[str, Any],
    text: str,
) -> None:
    """The warehouse named this turn; "the other warehouse" switches when there are two."""
    if take_party(params, entities, "warehouse"):
        return
    if not _OTHER_WAREHOUSE.search(text):
        return
    current = params.get("warehouse_id")
    others = [w for w in active_warehouses(session, ctx) if w.id != current]
    if len(others) == 1:
        params["warehouse_id"] = others[0].id
        params["warehouse_name"] = others[0].name
        params.pop("warehouse_candidates", None)
    else:
        params.pop("warehouse_id", None)
        params.pop("warehouse_name", None)
        params["warehouse_candidates"] = [{"id": w.id, "name": w.name} for w in others]


def warehouse_choices(session: Session, ctx: RequestContext, params: dict[str, Any]) -> list[str]:
    """Names to offer for "Which warehouse?" (the ambiguous ones, else every active one)."""
    if params.get("warehouse_candidates"):
        return [str(c["name"]) for c in params["warehouse_candidates"]]
    return [w.name for w in active_warehouses(session, ctx)]


def default_warehouse_id(session: Session, ctx: RequestContext) -> int | None:
    """The company's only active warehouse; None when it has several (ask) or none."""
    warehouses = active_warehouses(session, ctx)
    return warehouses[0].id if len(warehouses) == 1 else None


def _refs(entities: dict[str, Any], text: str) -> list[dict[str, Any]]:
    refs = entities.get("document_refs")
    if isinstance(refs, list) and refs:
        return [r for r in refs if isinstance(r, dict)]
    ref = entities.get("document_ref")
    if isinstance(ref, dict):
        return [ref]
    if isinstance(ref, list) and ref:
        return [r for r in ref if isinstance(r, dict)]
    return [r.to_dict() for r in extract_document_refs(text)]


def document_numbers(
    entities: dict[str, Any], text: str, today: dt.date, prefixes: tuple[str, ...]
) -> list[str]:
    """Every document reference of one of ``prefixes``, in the order written.

    "invoice 7" means this year's INV-…-0007; a bare "#7" means the first prefix.
    """
    out: list[str] = []
    for ref in _refs(entities, text):
        prefix = ref.get("prefix") or prefixes[0]
        if prefix in prefixes and ref.get("number") is not None:
            number = format_ref(prefix, int(ref.get("year") or today.year), int(ref["number"]))
            if number not in out:
                out.append(number)
    return out


def document_number(
    entities: dict[str, Any], text: str, today: dt.date, prefixes: tuple[str, ...]
) -> str | None:
    """The first document reference of one of ``prefixes``, if any."""
    found = document_numbers(entities, text, today, prefixes)
    return found[0] if found else None


def reason_in(text: str) -> str | None:
    """The reason given in the text ("because it was damaged", "reason: recount", "expired")."""
    match = _REASON.search(text)
    if match:
        reason = match.group("reason").strip(" .")
        return reason[:1].upper() + reason[1:] if reason else None
    word = _REASON_WORD.search(text)
    return REASON_WORDS[word.group(1).lower()] if word else None


def voucher_preview(session: Session, ctx: RequestContext, voucher_id: int) -> list[dict[str, Any]]:
    """A voucher's lines as the preview shows them: account, debit, credit."""
    voucher = ledger_repo.get_voucher(session, ctx, voucher_id)
    return [
        {
            "account": f"{line.account.code} {line.account.name}",
            "debit": str(money(line.debit)),
            "credit": str(money(line.credit)),
        }
        for line in voucher.lines
    ]


def bank_balance(session: Session, ctx: RequestContext, bank_account_id: int) -> Decimal:
    """A bank account's balance from its GL account."""
    for row in ledger_repo.bank_balances(session, ctx):
        if row.bank_account.id == bank_account_id:
            return Decimal(row.balance)
    return Decimal("0.00")


def lines_ask(params: dict[str, Any], what: str) -> Ask | None:
    """The next question about an order's lines: which product, how many."""
    pending = params.get("product_candidates")
    if pending:
        return Ask(
            "product",
            f"Which product did you mean by '{pending['text']}'?",
            [str(c["name"]) for c in pending["candidates"]],
        )
    lines = params.get("lines") or []
    if not lines:
        unknown = params.get("unknown_product")
        if unknown:
            return Ask(
                "product",
                f"I couldn't find a product called '{unknown}'. Which product should {what} "
                "have, and how many?",
            )
        return Ask("product", f"Which products should {what} have, and how many of each?")
    for line in lines:
        if line.get("quantity") is None:
            return Ask("quantity", f"How many units of {line['name']}?")
    return None


def doc_lines(params: dict[str, Any]) -> list[DocLineIn]:
    """The order's lines as the ERP services take them; a bad value is a clear 422."""
    discount = dec(params.get("discount_pct")) or Decimal("0")
    tax = dec(params.get("tax_rate"))
    out: list[DocLineIn] = []
    for n, line in enumerate(params.get("lines") or [], start=1):
        line_tax = dec(line.get("tax_rate"))
        try:
            out.append(
                DocLineIn(
                    item_id=int(line["item_id"]),
                    quantity=dec(line.get("quantity")),
                    unit_price=dec(line.get("unit_price")),
                    discount_pct=discount,
                    tax_rate=line_tax if line_tax is not None else tax,
                )
            )
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            field = ".".join(str(part) for part in first["loc"])
            raise ValidationFailed(
                f"Line {n} ({line.get('name')}): {field} {first['msg'].lower()}",
                details={"line": n, "field": field},
            ) from exc
    return out


def has_tracked(session: Session, ctx: RequestContext, params: dict[str, Any]) -> bool:
    """Whether any line is a stocked item (and so needs a warehouse)."""
    ids = [int(line["item_id"]) for line in params.get("lines") or []]
    return any(item.is_tracked for item in items_repo.items_by_ids(session, ctx, ids).values())


def warehouse_ask(
    session: Session, ctx: RequestContext, params: dict[str, Any], question: str
) -> Ask | None:
    """Ask for a warehouse when the lines need one and the company has several."""
    if params.get("warehouse_candidates"):
        return Ask("warehouse", question, warehouse_choices(session, ctx, params))
    if params.get("warehouse_id") is not None or not has_tracked(session, ctx, params):
        return None
    if default_warehouse_id(session, ctx) is not None:
        return None
    return Ask("warehouse", question, warehouse_choices(session, ctx, params))
