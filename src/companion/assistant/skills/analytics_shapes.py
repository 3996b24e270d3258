"""Answers to the shapes of ``assistant.adhoc_shapes``: document lists, members with no
activity, a figure's share of the total. Each says its headline, the period and filters
used, and names the definition it counts by, like the analytics skill's answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from companion.analytics.documents import DocumentResult, list_documents
from companion.analytics.members import Share, inactive, share
from companion.assistant.adhoc_shapes import Documents, Inactive, Named, Shared
from companion.assistant.answers import AnswerFormat, period_text
from companion.assistant.skills.base import Answer, Turn

_KIND = {"product": "product", "item": "item", "customer": "customer", "supplier": "supplier"}


def names_answer(turn: Turn, named: Named, intent: str) -> Answer | None:
    """'Which customer do you mean …?' or 'I don't know a customer called …', or None."""
    remember = {"intent": intent, "entities": turn.entities}
    if named.ambiguous is not None:
        kind, names = named.ambiguous
        return Answer(
            text=f"Which {_KIND.get(kind, kind)} do you mean: {either(list(names))}?",
            skill="clarify",
            choices=list(names),
            remember=remember,
        )
    if named.unknown is not None:
        kind, text, close = named.unknown
        said = f"I don't know a {_KIND.get(kind, kind)} called \u201c{text}\u201d."
        more = (
            f" Did you mean {either(list(close))}?"
            if close
            else " Check the name, or ask again without it for all of them."
        )
        return Answer(
            text=said + more, skill="clarify", choices=list(close) or None, remember=remember
        )
    return None


def documents_answer(turn: Turn, reading: Documents, skill: str) -> Answer:
    """The documents listed or ranked, with the count and totals of every match."""
    result = list_documents(turn.session, turn.ctx, reading.query, turn.today)
    fmt = AnswerFormat.of(turn.ctx)
    kind = result.kind
    query = result.query
    plural = f"{kind.label}s"
    scope = _doc_scope(result, reading, fmt)
    rows = result.rows
    if not rows:
        text = f"There are no {plural} {scope}."
    elif reading.last is not None:
        party = reading.party_name or rows[0][1]
        text = (
            f"{party} last {reading.last} on {rows[0][2]:%d %b %Y}: {_doc_line(rows[0], fmt)}."
            f" ({fmt.count(result.matched, kind.label)} {scope} in all.)"
        )
    elif query.top is not None:
        word = {"largest": "largest", "smallest": "smallest"}.get(query.order, "latest")
        listed = "; ".join(_doc_line(r, fmt) for r in rows)
        if query.top == 1:
            text = f"The {word} {kind.label} {scope} is {listed}."
        else:
            text = f"The {len(rows)} {word} {plural} {scope}: {listed}."
            if len(rows) < query.top:
                text += f" Only {len(rows)} matched."
        text += f" ({fmt.count(result.matched, kind.label)} matched in all.)"
    else:
        shown = "" if result.matched <= len(rows) else f"; the {len(rows)} newest are listed"
        open_part = (  # the amounts are net of tax, what is still owed includes it
            f" net of tax, {fmt.money(result.open_total)} still open with tax"
            if result.open_total is not None
            else ""
        )
        text = (
            f"{fmt.count(result.matched, kind.label)} {scope}, "
            f"{fmt.money(result.total)} in all{open_part}{shown}."
        )
        if len(rows) <= 5:
            text += " " + "; ".join(_doc_line(r, fmt) for r in rows) + "."
    if reading.misnamed is not None:
        what, name = reading.misnamed
        text = (
            f"{name} is {'an' if what == 'item' else 'a'} {what}, and {plural} aren't listed by "
            f"{what}: I can't filter them by {name}. " + text
        )
    columns = result.columns
    data: dict[str, Any] = {
        "columns": columns,
        "rows": [[_plain(v) for v in r] for r in rows],
        "totals": {
            "amount": float(result.total),
            **({"open_amount": float(result.open_total)} if result.open_total is not None else {}),
        },
        "currency": fmt.currency,
        "units": {c: fmt.currency for c in columns if c in ("amount", "open_amount")},
        "documents": query.kind,
        "query": query.model_dump(mode="json"),
        "matched": result.matched,
        "provenance": f"Definition: {kind.definition}. Source: {kind.figure} ({scope}).",
    }
    return Answer(
        text=text,
        skill=skill,
        data=data,
        remember={"intent": skill, "entities": turn.entities},
    )


def _doc_line(row: list[Any], fmt: AnswerFormat) -> str:
    number, party, day, status, amount = row[:5]
    line = f"{number} ({party or 'no party'}, {day:%d %b %Y}) {fmt.money(Decimal(amount))}"
    if len(row) > 5 and row[5] is not None and Decimal(row[5]) > 0:
        # An invoice's or bill's amount is net of tax, what is still owed includes the tax:
        # "BDT 75,230.00, BDT 86,514.50 open" read as more owed than billed.
        line += f" net of tax, {fmt.money(Decimal(row[5]))} still open with tax"
    elif status:
        line += f", {str(status).replace('_', ' ')}"
    return line


def _doc_scope(result: DocumentResult, reading: Documents, fmt: AnswerFormat) -> str:
    query = result.query
    parts: list[str] = []
    if result.start is not None and result.end is not None:
        dates = period_text(result.start, result.end)
        parts.append(f"in {reading.defaulted} ({dates})" if reading.defaulted else f"in {dates}")
    if reading.party_name:
        word = "for" if result.kind.party_word == "customer" else "from"
        parts.append(f"{word} {reading.party_name}")
    if query.status:
        parts.append(status_words(query.status))
    elif query.open_only:
        parts.append("still open")
    fmt_min = fmt.money(query.min_amount) if query.min_amount is not None else None
    fmt_max = fmt.money(query.max_amount) if query.max_amount is not None else None
    if fmt_min and fmt_max:
        parts.append(f"of {fmt_min} to {fmt_max}")
    elif fmt_min:
        parts.append(f"of {fmt_min} or more")
    elif fmt_max:
        parts.append(f"of {fmt_max} or less")
    return ", ".join(parts)


def inactive_answer(turn: Turn, reading: Inactive, skill: str) -> Answer:
    """The members with none of the measure in the period, counted and listed."""
    result = inactive(turn.session, turn.ctx, reading.query, turn.today)
    fmt = AnswerFormat.of(turn.ctx)
    member = result.query.member
    dates = period_text(result.start, result.end)
    when = f"{reading.defaulted} ({dates})" if reading.defaulted else dates
    label = result.measure.label
    if not result.rows:
        text = f"Every active {member} had {label} in {when}."
    else:
        names = "; ".join(_member_line(r, fmt) for r in result.rows[:20])
        more = f" (the first 20 of {result.matched} listed)" if result.matched > 20 else ""
        text = (
            f"{fmt.count(result.matched, member)} of {result.active} active had no {label} in "
            f"{when}{more}: {names}."
        )
    data = {
        "columns": result.columns,
        "rows": [[_plain(v) for v in r] for r in result.rows],
        "totals": {"count": result.matched, "active": result.active},
        "units": {"stock_on_hand": "quantity"} if "stock_on_hand" in result.columns else {},
        "measure": result.measure.name,
        "query": result.query.model_dump(mode="json"),
        "matched": result.matched,
        "provenance": (
            f"Active {member}s with no row of {label} in {when}. Definition: "
            f"{result.measure.definition}. Source: {', '.join(result.tables)}."
        ),
    }
    return Answer(text=text, skill=skill, data=data, remember={"intent": skill})


def _member_line(row: list[Any], fmt: AnswerFormat) -> str:
    if len(row) > 1 and row[1] is not None and Decimal(row[1]) > 0:
        return f"{row[0]} ({fmt.quantity(Decimal(row[1]))} in stock)"
    return str(row[0])


def share_answer(turn: Turn, reading: Shared, skill: str) -> Answer:
    """The part, the whole and the part's share of it."""
    found: Share = share(turn.session, turn.ctx, reading.query, turn.today)
    fmt = AnswerFormat.of(turn.ctx)
    part, whole = found.part, found.whole
    label = part.measure.label
    whose = ", ".join(reading.names.values()) or "that filter"
    start, end = part.start, part.end
    dates = period_text(start, end) if start and end else ""
    when = f"{reading.defaulted} ({dates})" if reading.defaulted else dates
    mine = part.total or Decimal(0)
    total = whole.total or Decimal(0)
    if found.pct is None:
        text = f"There were no {label} at all in {when}, so {whose} has no share of them."
    else:
        text = (
            f"{whose} accounted for {fmt.money(mine)} of {fmt.money(total)} {label} in {when}: "
            f"{found.pct}%."
        )
    data = {
        "columns": ["part", part.measure.name, "total", "share_pct"],
        "rows": [[whose, float(mine), float(total), _plain(found.pct)]],
        "totals": {part.measure.name: float(total)},
        "currency": fmt.currency,
        "units": {part.measure.name: fmt.currency, "total": fmt.currency, "share_pct": "%"},
        "measure": part.measure.name,
        "query": reading.query.model_dump(mode="json"),
        "provenance": (
            f"Definition: {part.measure.definition}. Share = {label} for {whose} / {label} for "
            f"the whole company in {when}. Source: {', '.join(part.tables)}."
        ),
    }
    return Answer(text=text, skill=skill, data=data, remember={"intent": skill})


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def either(names: list[str]) -> str:
    """'A', 'A or B', 'A, B or C'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"


# Statuses no record holds: each is worked out (invoicing.is_overdue, the open statuses) and
# said as what it means, never as a stored status.
_COMPUTED_STATUS = {
    "overdue": "past their due date",
    "unpaid": "not yet paid in full",
    "open": "still open",
}


def status_words(status: str) -> str:
    """'with status delivered', or what a computed status means ('past their due date')."""
    return _COMPUTED_STATUS.get(status, f"with status {status.replace('_', ' ')}")
