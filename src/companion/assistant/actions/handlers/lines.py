"""Order lines from the user's words: "10 units of Widget and 5 Copper Wire at 450 each".

Products are found with the caller's company's master data (``nlu.entities.master``). Each
product takes its quantity from the words just before it ("10 units of", "5", "qty 3") or
right after it ("x 10", "to 8", "10 units"), and its price from the words after it ("at 450
each", "@ 380"). Document numbers and dates are blanked first, so "INV-2026-0005" or
"on 5 March" never reads as a quantity. Pure functions: no database, fully unit-tested.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from companion.assistant.nlu.entities.amounts import MONEY
from companion.assistant.nlu.entities.docrefs import extract_document_refs
from companion.assistant.nlu.entities.master import MasterData, MasterMatch, match_master
from companion.assistant.nlu.entities.numbers import NUMBER, WORD_NUMBERS, mask, scaled_value
from companion.assistant.nlu.entities.periods import extract_dates
from companion.assistant.nlu.entities.quantities import UNITS

_WORDNUM = "|".join(sorted(WORD_NUMBERS, key=len, reverse=True))
_QTY = rf"(?P<num>{NUMBER}|{_WORDNUM})"
# "10 units of ", "5 ", "3x ", "qty 4 of the " right before a product name.
_BEFORE = re.compile(
    rf"(?<![\w.,\-/]){_QTY}\s*(?:(?:{UNITS})\b)?\s*(?:x\s*)?(?:of\s+)?(?:the\s+)?$",
    re.IGNORECASE,
)
# " x 10", " to 8", ": 3", " - 12 units", " qty 10" right after a product name.
_AFTER = re.compile(
    rf"^\s*(?:(?:x|×|\*|to|qty|quantity|:|=|-)\s*)?{_QTY}(?![\d.,])\s*(?:(?:{UNITS})\b)?",
    re.IGNORECASE,
)
_PRICE = re.compile(
    r"(?:\bat\b|@|\bprice(?:d)?\b(?:\s+(?:at|of))?|\bfor\b)\s*"
    rf"(?P<m>{MONEY.replace('?P<', '?P<m_')})"
    r"\s*(?P<per>each|apiece|a piece|per\s+\w+|/\s*\w+|a\s+(?:unit|piece))?",
    re.IGNORECASE,
)
_JOIN = re.compile(r"\s*(?:,|;|\band\b|&|\bplus\b|\balso\b|\bwith\b)\s*", re.IGNORECASE)
_REMOVE = re.compile(r"\b(?:remove|drop|delete|without|take\s+(?:off|out)|cancel)\b", re.I)
_DISCOUNT = re.compile(
    r"(?:(?P<a>\d+(?:\.\d+)?)\s*%\s*(?:discount|off)\b|\bdiscount\s*(?:of|at)?\s*(?P<b>\d+(?:\.\d+)?)\s*%"
    r"|\b(?P<none>no\s+discount)\b)",
    re.IGNORECASE,
)
_TAX = re.compile(
    r"(?:(?P<a>\d+(?:\.\d+)?)\s*%\s*(?:tax|vat)\b|\b(?:tax|vat)\s*(?:of|at)?\s*(?P<b>\d+(?:\.\d+)?)\s*%"
    r"|\b(?P<none>no\s+(?:tax|vat)|tax[- ]free|vat[- ]free|without\s+(?:tax|vat))\b)",
    re.IGNORECASE,
)
_BARE = re.compile(
    rf"^\s*(?:make\s+it\s+|it'?s\s+|just\s+)?{_QTY}\s*(?:(?:{UNITS})\b)?\s*\.?\s*$", re.I
)
_LONE = re.compile(rf"(?<![\w.,\-/])([+-]?(?:{NUMBER}))(?![\w.,%])")
# "10 units of Unobtainium": a quantity followed by words the catalogue does not know.
_UNKNOWN = re.compile(
    rf"(?<![\w.,\-/]){_QTY}\s*(?:(?:{UNITS})\b)?\s*(?:x\s*)?(?:of\s+)?"
    r"(?P<name>[A-Za-z][\w\-]*(?:\s+(?!at\b|for\b|to\b|and\b|from\b|in\b)[A-Za-z0-9][\w\-]*){0,3})",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LineMention:
    """One product named in the text, with what was said about it."""

    text: str
    item_id: int | None  # None when several products match about equally well
    name: str | None
    quantity: Decimal | None
    unit_price: Decimal | None
    candidates: tuple[tuple[int, str], ...] = ()


def blank_refs_and_dates(text: str, today: dt.date, keep: Sequence[tuple[int, int]] = ()) -> str:
    """``text`` with document numbers and dates blanked (offsets kept), except ``keep`` spans.

    A product name may look like a date ("Rice Cooker 1.8L"), so products are matched
    first and their spans kept.
    """
    work = blank_refs(text)
    for start, end in extract_dates(work, today=today).spans:
        if not any(start < k_end and k_start < end for k_start, k_end in keep):
            work = mask(work, start, end)
    return work


def blank_refs(text: str) -> str:
    """``text`` with document numbers blanked (offsets kept)."""
    work = text
    for ref in extract_document_refs(work):
        work = mask(work, ref.start, ref.end)
    return work


def number(raw: str) -> Decimal | None:
    """``10``, ``1,200``, ``2.5`` or ``ten`` as a Decimal."""
    word = raw.strip().lower()
    if word in WORD_NUMBERS:
        return Decimal(WORD_NUMBERS[word])
    return scaled_value(raw, None)


def bare_quantity(text: str) -> Decimal | None:
    """The number of a reply that is only a quantity ("120", "make it 120 units")."""
    match = _BARE.match(text)
    return number(match.group("num")) if match else None


def lone_number(text: str, today: dt.date) -> Decimal | None:
    """The only number in a short reply ("remove 3", "change it to 8 please"), else None."""
    found = _LONE.findall(blank_refs_and_dates(text, today))
    return number(found[0]) if len(found) == 1 else None


def price_in(text: str, *, need_each: bool = False) -> Decimal | None:
    """A unit price ("at 450 each", "@ 380", "at ৳250"); "for 15,000" alone is a total."""
    for match in _PRICE.finditer(text):
        head = match.group(0).lstrip().lower()
        each = bool(match.group("per")) or head.startswith("@")
        if head.startswith("for") and not match.group("per"):
            continue
        if need_each and not each:
            continue
        value = scaled_value(
            match.group("m_num"), match.group("m_glued") or match.group("m_spaced")
        )
        if value is not None:
            return value
    return None


def percent(pattern: re.Pattern[str], text: str) -> Decimal | None:
    """The percentage a discount or tax phrase names; "no discount"/"tax free" is zero."""
    match = pattern.search(text)
    if match is None:
        return None
    if match.group("none"):
        return Decimal("0")
    return Decimal(match.group("a") or match.group("b"))


def discount_in(text: str) -> Decimal | None:
    """An order discount ("5% discount", "discount of 10%", "no discount")."""
    return percent(_DISCOUNT, text)


def tax_in(text: str) -> Decimal | None:
    """A tax rate for every line ("7.5% VAT", "tax at 5%", "tax free")."""
    return percent(_TAX, text)


def is_removal(text: str) -> bool:
    """Whether the user asks to take products off the order."""
    return bool(_REMOVE.search(text))


def product_matches(text: str, master: MasterData) -> list[MasterMatch]:
    """Product mentions, leaving out words that read better as another kind of name."""
    every = match_master(text, master)
    others = [m for m in every if m.kind != "product"]
    return [
        m
        for m in every
        if m.kind == "product"
        and not any(o.start < m.end and m.start < o.end and o.score > m.score for o in others)
    ]


def parse_lines(text: str, master: MasterData, today: dt.date) -> list[LineMention]:
    """Every product the text names, with the quantity and price said for each."""
    matches = product_matches(_blank_percentages(blank_refs(text)), master)
    if not matches:
        return []
    work = _blank_percentages(
        blank_refs_and_dates(text, today, keep=[(m.start, m.end) for m in matches])
    )
    prefixes, suffixes = _segments(work, matches)
    out: list[LineMention] = []
    for match, prefix, suffix in zip(matches, prefixes, suffixes, strict=True):
        quantity = _quantity_before(prefix)
        after = _AFTER.match(suffix)
        if quantity is None and after is not None:
            quantity = number(after.group("num"))
        price = price_in(suffix[after.end() :] if after else suffix)
        if match.record is not None:
            out.append(
                LineMention(match.text, int(match.record.id), match.record.name, quantity, price)
            )
        else:
            out.append(
                LineMention(
                    match.text,
                    None,
                    None,
                    quantity,
                    price,
                    tuple((int(r.id), r.name) for r, _ in match.candidates),
                )
            )
    return out


def unknown_product(text: str, master: MasterData, today: dt.date) -> str | None:
    """The name in "10 units of Unobtainium" when it matches no product of the company."""
    if product_matches(_blank_percentages(blank_refs(text)), master):
        return None
    work = _blank_percentages(blank_refs_and_dates(text, today))
    match = _UNKNOWN.search(work)
    if match is None:
        return None
    name = match.group("name").strip()
    if re.fullmatch(rf"(?:{UNITS}|each|more|less|of|more units)", name, re.IGNORECASE):
        return None
    return name


def merge_lines(
    lines: list[dict[str, Any]],
    mentions: list[LineMention],
    text: str,
    *,
    quantity: Decimal | None,
    unit_price: Decimal | None,
) -> list[dict[str, Any]]:
    """The order's lines after this turn: new products added, named ones corrected.

    ``quantity``/``unit_price`` are what the turn said without naming a product ("make it
    120 units", "at 500 each"): they correct the line still missing a quantity, else the
    last line talked about.
    """
    result = [dict(line) for line in lines]
    if mentions and is_removal(text):
        gone = {m.item_id for m in mentions if m.item_id is not None}
        return [line for line in result if line["item_id"] not in gone]
    resolved = [m for m in mentions if m.item_id is not None]
    for mention in resolved:
        line = next((ln for ln in result if ln["item_id"] == mention.item_id), None)
        if line is None:
            line = {"item_id": mention.item_id, "name": mention.name, "quantity": None}
            line["unit_price"] = None
            result.append(line)
        if mention.quantity is not None:
            line["quantity"] = str(mention.quantity)
        if mention.unit_price is not None:
            line["unit_price"] = str(mention.unit_price)
        _touch(result, line)
    if not resolved and result:
        target = next((ln for ln in result if ln.get("quantity") is None), None)
        if quantity is not None:
            line = target or _last_touched(result)
            line["quantity"] = str(abs(quantity))
            _touch(result, line)
        if unit_price is not None:
            line = _last_touched(result)
            line["unit_price"] = str(unit_price)
    return result


def _touch(lines: list[dict[str, Any]], line: dict[str, Any]) -> None:
    top = max((int(ln.get("touched", 0)) for ln in lines), default=0)
    line["touched"] = top + 1


def _last_touched(lines: list[dict[str, Any]]) -> dict[str, Any]:
    return max(lines, key=lambda ln: int(ln.get("touched", 0)))


def _blank_percentages(text: str) -> str:
    work = text
    for pattern in (_DISCOUNT, _TAX):
        for match in pattern.finditer(work):
            work = mask(work, match.start(), match.end())
    return work


def _segments(work: str, matches: list[MasterMatch]) -> tuple[list[str], list[str]]:
    """The words before and after each product, split where one line ends and the next begins."""
    prefixes = [_JOIN.split(work[: matches[0].start])[-1]]
    suffixes: list[str] = []
    for here, nxt in zip(matches, matches[1:], strict=False):
        between = work[here.end : nxt.start]
        joint = _JOIN.search(between)
        if joint is not None:
            suffixes.append(between[: joint.start()])
            prefixes.append(between[joint.end() :])
            continue
        before = _BEFORE.search(between)
        cut = before.start() if before is not None else len(between)
        suffixes.append(between[:cut])
        prefixes.append(between[cut:])
    suffixes.append(work[matches[-1].end :])
    return prefixes, suffixes


def _quantity_before(prefix: str) -> Decimal | None:
    match = _BEFORE.search(prefix)
    return number(match.group("num")) if match else None


def gather_lines(
    params: dict[str, Any],
    text: str,
    entities: dict[str, Any],
    master: MasterData,
    today: dt.date,
) -> None:
    """Update ``params["lines"]`` (and the product questions pending) from this turn."""
    mentions = parse_lines(text, master, today)
    pending = params.get("product_candidates")
    if pending:
        # The reply to "Which product did you mean?" keeps what was said with the question.
        ids = {int(c["id"]) for c in pending["candidates"]}
        picked = [m for m in mentions if m.item_id in ids]
        if picked:
            params.pop("product_candidates")
            first = picked[0]
            mentions[mentions.index(first)] = LineMention(
                first.text,
                first.item_id,
                first.name,
                first.quantity
                if first.quantity is not None
                else number_or_none(pending, "quantity"),
                first.unit_price
                if first.unit_price is not None
                else number_or_none(pending, "unit_price"),
            )
    quantity = unit_price = None
    if not mentions:
        raw_qty = entities.get("quantity")
        quantity = Decimal(str(raw_qty)) if raw_qty is not None else bare_quantity(text)
        if quantity is None and price_in(text) is None:
            quantity = lone_number(text, today)
        raw_price = entities.get("unit_price")
        unit_price = Decimal(str(raw_price)) if raw_price is not None else price_in(text)
    params["lines"] = merge_lines(
        list(params.get("lines") or []), mentions, text, quantity=quantity, unit_price=unit_price
    )
    ambiguous = next((m for m in mentions if m.item_id is None), None)
    if ambiguous is not None:
        params["product_candidates"] = {
            "text": ambiguous.text,
            "quantity": str(ambiguous.quantity) if ambiguous.quantity is not None else None,
            "unit_price": str(ambiguous.unit_price) if ambiguous.unit_price is not None else None,
            "candidates": [{"id": i, "name": n} for i, n in ambiguous.candidates],
        }
    unknown = None if mentions else unknown_product(text, master, today)
    if unknown:
        params["unknown_product"] = unknown
    elif mentions:
        params.pop("unknown_product", None)
    discount = discount_in(text)
    if discount is not None:
        params["discount_pct"] = str(discount)
    tax = tax_in(text)
    if tax is not None:
        params["tax_rate"] = str(tax)


def number_or_none(values: dict[str, Any], key: str) -> Decimal | None:
    """``values[key]`` as a Decimal, None when absent."""
    raw = values.get(key)
    return Decimal(str(raw)) if raw is not None else None
