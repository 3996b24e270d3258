"""The analytics skill: an ad-hoc question answered exactly by the semantic layer, or refused.

Every answer says the period and the filters it used and names the measure's definition;
a question the data can't answer as asked is said so, with nearer questions offered as
such (never silently swapped for them).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from companion.analytics import AnalyticsQuery, AnalyticsResult, Unanswerable, run
from companion.assistant import adhoc, choices
from companion.assistant import adhoc_shapes as shapes
from companion.assistant.answers import AnswerFormat, date_text, period_text
from companion.assistant.progress import report
from companion.assistant.queries.runner import read_only
from companion.assistant.skills import analytics_shapes as shape_answers
from companion.assistant.skills.analytics_shapes import status_words
from companion.assistant.skills.base import Answer, Turn, register
from companion.assistant.skills.data_query import denied_answer
from companion.erp.sales.models import SalesOrderStatus
from companion.erp.sales.rules import TRANSITIONS as SALES_TRANSITIONS
from companion.errors import PermissionDenied

_FILTER_WORD = {
    "customer": "for",
    "supplier": "for",
    "item": "of",
    "warehouse": "at",
    "account": "on",
}
_KIND = {
    "product": "product",
    "customer": "customer",
    "supplier": "supplier",
    "warehouse": "warehouse",
}


def refusal_answer(turn: Turn, refusal: adhoc.Refusal) -> Answer:
    """'I can't …: why.' with the nearer questions offered, each a choice."""
    offers = list(refusal.offers)
    asked = {"intent": adhoc.INTENT, "entities": turn.entities}
    remember: dict[str, Any] = {"intent": adhoc.INTENT, "entities": turn.entities}
    if offers:
        offered = [(label, adhoc.INTENT, {"text": label}) for label in offers]
        remember[choices.OFFER] = choices.offer(offered, asked)
    return Answer(text=refusal.text, skill="clarify", choices=offers or None, remember=remember)


class AnalyticsSkill:
    """Answers ad-hoc measure x dimension questions from the semantic layer."""

    name = "analytics"

    def handle(self, turn: Turn) -> Answer:
        reading = turn.adhoc
        if isinstance(reading, adhoc.Refusal):
            return refusal_answer(turn, reading)
        if isinstance(reading, (shapes.Documents, shapes.Inactive, shapes.Shared)):
            return self._shape(turn, reading)
        if not isinstance(reading, adhoc.Reading):  # pragma: no cover - routed with a reading
            raise LookupError("the analytics skill needs a reading")
        if reading.ambiguous is not None:
            kind, names = reading.ambiguous
            return Answer(
                text=f"Which {_KIND.get(kind, kind)} do you mean: {_either(list(names))}?",
                skill="clarify",
                choices=list(names),
                remember={"intent": adhoc.INTENT, adhoc.STATE_KEY: adhoc.remembered(reading)},
            )
        if reading.unknown is not None:
            kind, text, close = reading.unknown
            said = f"I don't know a {_KIND.get(kind, kind)} called \u201c{text}\u201d."
            more = (
                f" Did you mean {_either(list(close))}?"
                if close
                else (" Check the name, or ask again without it for all of them.")
            )
            return Answer(
                text=said + more,
                skill="clarify",
                choices=list(close) or None,
                remember={"intent": adhoc.INTENT, adhoc.STATE_KEY: adhoc.remembered(reading)},
            )
        report(turn.progress, "querying")
        try:
            with read_only(turn.session):
                result = run(turn.session, turn.ctx, reading.query, turn.today)
                if result.measure.distinct and result.total is None:
                    result = dataclasses.replace(result, total=Decimal(0))  # nobody: a count
        except PermissionDenied as exc:
            return denied_answer(exc)
        except Unanswerable as exc:
            return refusal_answer(turn, adhoc.Refusal(_sentence(exc.message)))
        fmt = AnswerFormat.of(turn.ctx)
        scope = _scope(result, reading, turn.today)
        text = _summary(result, fmt, scope)
        passed = _passed_through(turn, reading.query)
        if passed is not None:
            text = _passed_summary(result, fmt, reading, turn.today, passed)
        return Answer(
            text=text,
            skill=self.name,
            data=_data(result, fmt, reading, scope, turn.now),
            remember={
                "intent": adhoc.INTENT,
                "entities": turn.entities,
                adhoc.STATE_KEY: adhoc.remembered(reading),
            },
        )

    def _shape(
        self, turn: Turn, reading: shapes.Documents | shapes.Inactive | shapes.Shared
    ) -> Answer:
        """A document list, the members with no activity, or a share of the total."""
        named = getattr(reading, "named", None)
        if named is not None:
            unresolved = shape_answers.names_answer(turn, named, adhoc.INTENT)
            if unresolved is not None:
                return unresolved
        report(turn.progress, "querying")
        try:
            with read_only(turn.session):
                if isinstance(reading, shapes.Documents):
                    return shape_answers.documents_answer(turn, reading, self.name)
                if isinstance(reading, shapes.Inactive):
                    return shape_answers.inactive_answer(turn, reading, self.name)
                return shape_answers.share_answer(turn, reading, self.name)
        except PermissionDenied as exc:
            return denied_answer(exc)
        except Unanswerable as exc:
            return refusal_answer(turn, adhoc.Refusal(_sentence(exc.message)))


def _sentence(text: str) -> str:
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _scope(result: AnalyticsResult, reading: adhoc.Reading, today: dt.date) -> str:
    """'in February 2026, for Tangail Traders' — the period and every filter used."""
    if result.start is None or result.end is None:
        when = f"as of {date_text(today)}"
    else:
        when = f"in {_period(result.start, result.end, reading.query.end, reading.defaulted)}"
    filters = [
        f"{_FILTER_WORD.get(k, 'for')} {reading.names.get(k, f'{k} #{v}')}"
        for k, v in sorted(reading.query.filters.items())
    ]
    if reading.query.status:
        filters.append(status_words(reading.query.status))
    return ", ".join([when, *filters])


def _later_statuses(status: str) -> tuple[str, ...]:
    """The sales-order statuses an order at ``status`` can only reach by passing through it
    (a delivered order becomes invoiced), from the order's transitions; cancelled is none."""
    try:
        start = SalesOrderStatus(status)
    except ValueError:
        return ()
    seen: list[str] = []
    todo = [start]
    while todo:
        for nxt in SALES_TRANSITIONS.get(todo.pop(), frozenset()):
            if nxt is not SalesOrderStatus.CANCELLED and nxt.value not in seen:
                seen.append(nxt.value)
                todo.append(nxt)
    return tuple(seen)


def _passed_through(turn: Turn, query: AnalyticsQuery) -> tuple[Decimal, tuple[str, ...]] | None:
    """How many sales orders asked at a status (delivered) have since moved past it
    (invoiced): a count by status alone would miss them. None when no status is passed."""
    if query.measure != "order_count" or not query.status or query.by or query.compare:
        return None
    later = _later_statuses(query.status)
    if not later:
        return None
    total = Decimal(0)
    with read_only(turn.session):
        for status in later:
            found = run(
                turn.session, turn.ctx, query.model_copy(update={"status": status}), turn.today
            )
            total += found.total or Decimal(0)
    return total, later


def _passed_summary(
    result: AnalyticsResult,
    fmt: AnswerFormat,
    reading: adhoc.Reading,
    today: dt.date,
    passed: tuple[Decimal, tuple[str, ...]],
) -> str:
    """'57 sales orders placed in October 2026 have been delivered: 0 still at status
    delivered, 57 since invoiced. An order keeps no delivery date ...'"""
    status = str(reading.query.status)
    later, statuses = passed
    now = result.total or Decimal(0)
    plain = dataclasses.replace(reading, query=reading.query.model_copy(update={"status": None}))
    scope = _scope(result, plain, today).removeprefix("in ")
    n = int(now + later)
    head = fmt.count(n, "sales order")
    return (
        f"{head} placed in {scope} {'has' if n == 1 else 'have'} been {status}: "
        f"{fmt.number(now)} still at status {status} and {fmt.number(later)} since "
        f"{' or '.join(statuses)}. An order keeps no {status} date, so orders are counted "
        "by the date they were placed."
    )


def _period(start: dt.date, end: dt.date, asked_end: dt.date | None, default: str | None) -> str:
    dates = period_text(start, end)
    if default:
        return f"{default} ({dates})"
    if asked_end is not None and asked_end > end:
        return f"{period_text(start, asked_end)} so far ({dates})"
    return dates


def _amount(result: AnalyticsResult, fmt: AnswerFormat, value: Decimal | None) -> str:
    if value is None:
        return "nothing"
    unit = result.measure.unit
    if unit == "money":
        return fmt.money(value)
    if unit == "count":
        return fmt.number(value)
    return fmt.quantity(value)


def _summary(result: AnalyticsResult, fmt: AnswerFormat, scope: str) -> str:
    m = result.measure
    query = result.query
    label = m.label
    qual = f" {m.qualifier}" if m.qualifier and m.unit == "money" else ""
    verb = "were" if label.endswith("s") else "was"
    head = label[0].upper() + label[1:]
    value = result.total
    if query.compare:
        before = result.previous_total
        other = period_text(result.compare_start, result.compare_end)  # type: ignore[arg-type]
        text = (
            f"{head} {scope} {verb} {_amount(result, fmt, value)}{qual}, against "
            f"{_amount(result, fmt, before)} in {other}"
        )
        if value is not None and before is not None:
            change = value - before
            way = "up" if change > 0 else "down" if change < 0 else "unchanged"
            pct = (
                f" ({'+' if change > 0 else ''}{(change * 100 / before).quantize(Decimal('0.1'))}%)"
                if before
                else ""
            )
            text += f": {way} {_amount(result, fmt, abs(change))}{pct}" if change else ": unchanged"
        text += "."
        since = result.records_from
        if since is not None and result.compare_end is not None:
            if since > result.compare_end:
                text += (
                    f" Companion has no {label} recorded before {date_text(since)}, so {other}"
                    " holds none: the change says nothing about growth."
                )
            else:
                text += (
                    f" Companion's records of {label} start on {date_text(since)}, so only"
                    f" {period_text(since, result.compare_end)} of {other} is counted: the"
                    " change is not like for like."
                )
        if query.dimension and result.rows:
            first = result.rows[0]
            largest = _amount(result, fmt, first[1])
            text += f" By {query.dimension}, the largest is {first[0]} at {largest}."
        return text
    if not query.by and m.distinct:
        noun, one, many = _COUNTED.get(m.name, (label, "was counted", "were counted"))
        n = int(value or 0)
        if n == 0:
            return f"No {noun}s {many} {scope}."
        return f"{fmt.count(n, noun)} {one if n == 1 else many} {scope}."
    if not result.rows or (value is not None and value == 0 and not query.by):
        none = "There are no" if m.snapshot else "There were no"
        return f"{none} {label} {scope}." if verb == "were" else f"{head} {scope} was nil."
    if not query.by and m.unit == "count":
        tense = "are" if m.snapshot else "were"  # open invoices now, invoices issued then
        return f"There {tense} {fmt.count(int(value or 0), label.removesuffix('s'))} {scope}."
    if not query.by:
        return f"{head} {scope} {verb} {_amount(result, fmt, value)}{qual}."
    dim = query.dimension or query.grain or ""
    n = len(query.by)
    if query.top:
        word = "Top" if query.order == "desc" else "Bottom"
        listed = "; ".join(
            f"{' '.join(str(c) for c in r[:n])} {_amount(result, fmt, r[n])}" for r in result.rows
        )
        shown = sum((r[n] or Decimal(0) for r in result.rows), Decimal(0))
        share = ""
        if m.additive and value:
            share = (
                f" Together {_amount(result, fmt, shown)} of {_amount(result, fmt, value)}"
                f" ({(shown * 100 / value).quantize(Decimal('0.1'))}%)."
            )
        count = f"{word} {len(result.rows)} {_plural(dim, len(result.rows))}"
        more = "" if len(result.rows) == query.top else f" (only {len(result.rows)} had any)"
        return f"{count} by {label} {scope}{more}: {listed}.{share}"
    best = max((r for r in result.rows if r[n] is not None), key=lambda r: r[n], default=None)
    total = f"{_amount(result, fmt, value)}{qual}"
    unit = _singular(dim)
    if query.dimension and query.grain:
        unit = f"{unit}-{query.grain}"  # 270 customer-months, not 270 customers (93 were)
    groups = fmt.count(result.matched, unit)
    text = f"{head} by {' and '.join(query.by)} {scope}: {total} across {groups}"
    if not m.additive:
        text = f"{head} by {' and '.join(query.by)} {scope}: {total} overall, across {groups}"
    if best is not None:
        name = " ".join(str(c) for c in best[:n])
        text += f"; the highest is {name} at {_amount(result, fmt, best[n])}"
    return text + "."


# How a distinct count is said: "5 customers bought something in October 2026".
_COUNTED = {
    "customers_buying": ("customer", "bought something", "bought something"),
    "customers_paying": ("customer", "paid us", "paid us"),
    "items_sold": ("different item", "was sold", "were sold"),
    "suppliers_paid": ("supplier", "was paid", "were paid"),
}


def _singular(dim: str) -> str:
    return {"status": "status"}.get(dim, dim)


def _plural(dim: str, n: int) -> str:
    if n == 1:
        return dim
    return {"status": "statuses", "day": "days", "quarter": "quarters"}.get(dim, f"{dim}s")


def _data(
    result: AnalyticsResult,
    fmt: AnswerFormat,
    reading: adhoc.Reading,
    scope: str,
    now: dt.datetime | None,
) -> dict[str, Any]:
    """Columns, rows, totals (additive measures), currency, units, chart hint, provenance."""
    m = result.measure
    unit = fmt.currency if m.unit == "money" else m.unit
    units = {c: unit for c in result.columns if c not in (*result.query.by, "change_pct")}
    if "change_pct" in result.columns:
        units["change_pct"] = "%"
    totals: dict[str, Any] = {}
    if (m.additive or m.distinct) and result.total is not None:
        totals[m.name] = float(result.total)
        if result.previous_total is not None:
            totals[f"{m.name}_before"] = float(result.previous_total)
    data: dict[str, Any] = {
        "columns": result.columns,
        "rows": [[_plain(v) for v in row] for row in result.rows],
        "totals": totals,
        "currency": fmt.currency,
        "units": units,
        "measure": m.name,
        "query": reading.query.model_dump(mode="json"),
        "provenance": _provenance(result, scope, now),
    }
    if result.query.by and len(result.rows) > 1:
        x = (
            result.query.grain
            if result.query.grain and not result.query.dimension
            else (result.query.dimension or result.query.grain)
        )
        data["chart"] = {
            "kind": "line" if result.query.grain and not result.query.dimension else "bar",
            "x": x,
            "y": m.name,
        }
    if result.matched > len(result.rows):
        data["matched"] = result.matched
    return data


def _provenance(result: AnalyticsResult, scope: str, now: dt.datetime | None) -> str:
    when = f", as of {now:%Y-%m-%d %H:%M} UTC" if now is not None else ""
    return (
        f"Definition: {result.measure.definition}. Source: {', '.join(result.tables)} "
        f"({scope}){when}."
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"


register(adhoc.INTENT)(AnalyticsSkill)
