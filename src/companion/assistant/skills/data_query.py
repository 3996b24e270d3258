"""The data-query skill: entities -> typed query parameters -> a read-only query -> figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from companion.assistant import choices
from companion.assistant.progress import report
from companion.assistant.queries import registry as queries
from companion.assistant.queries.common import month_to_date, resolve_period
from companion.assistant.queries.registry import Period, QueryParams, QueryResult
from companion.assistant.queries.runner import run_query
from companion.assistant.skills.base import Answer, Turn, register
from companion.assistant.skills.unapplied import ID_ENTITIES as _ID_ENTITIES
from companion.assistant.skills.unapplied import (
    offer_labels,
    refusal,
    scope_note,
    scoped_remember,
    unapplied_names,
)
from companion.errors import PermissionDenied
from companion.llm.guard import phrase_answer
from companion.llm.providers.base import Generation

_ASK_FOR = {
    "document_ref": "Which document? Give its number, for example PO-2026-0042 or INV-2026-0107.",
    "customer_id": "Which customer?",
    "supplier_id": "Which supplier?",
    "item_id": "Which product?",
}


def params_from_entities(entities: dict[str, Any], supported: frozenset[str]) -> QueryParams:
    """Typed parameters from understood entities; filters a query does not honour are left out."""
    values: dict[str, Any] = {}
    period = entities.get("period")
    if isinstance(period, dict) and period.get("start") and period.get("end"):
        values["period"] = Period(
            start=dt.date.fromisoformat(str(period["start"])),
            end=dt.date.fromisoformat(str(period["end"])),
            basis=period.get("basis"),
            name=period.get("name"),
        )
    if entities.get("date"):
        values["as_of"] = dt.date.fromisoformat(str(entities["date"]))
    for entity, field_name in _ID_ENTITIES.items():
        found = entities.get(entity)
        if isinstance(found, dict) and found.get("id") is not None:
            values[field_name] = int(found["id"])
    if entities.get("status"):
        values["status"] = str(entities["status"])
    ref = entities.get("document_ref")
    if isinstance(ref, dict):  # the NLU's {text, value, prefix, year, number}
        ref = ref.get("value") or ref.get("text")
    if ref:
        values["document_ref"] = str(ref)
    if entities.get("top_n"):
        values["top_n"] = max(1, min(100, int(entities["top_n"])))
    age = entities.get("age")
    if isinstance(age, dict):  # "overdue by more than 60 days"
        for bound in ("min_days", "max_days"):
            if isinstance(age.get(bound), int) and 0 <= age[bound] <= 36_500:
                values[bound] = age[bound]
    # The NLU reports "over 5,000" as amount_range; older states kept it under amount.
    amount = entities.get("amount_range") or entities.get("amount")
    if isinstance(amount, dict):
        for bound, field_name in (("min", "min_amount"), ("max", "max_amount")):
            if amount.get(bound) is not None:
                values[field_name] = _decimal(amount[bound])
    return QueryParams(**{k: v for k, v in values.items() if k in supported})


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def table_data(result: QueryResult) -> dict[str, Any]:
    """The ``data`` of the chat response: columns, rows, totals, currency, provenance."""
    return {
        "columns": result.columns,
        "rows": [[_plain(v) for v in row] for row in result.rows],
        "totals": {k: _plain(v) for k, v in result.totals.items()},
        "currency": result.currency,
        "provenance": result.provenance.line(),
    }


def _plain(value: Any) -> Any:
    """JSON-ready values: money as a number (its shortest repr keeps the cents), dates ISO."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class DataQuerySkill:
    """Answers the 19 data questions with exact figures from the ledger."""

    name = "data_query"

    def handle(self, turn: Turn) -> Answer:
        spec = queries.get(one_document_intent(turn.intent, turn.entities))
        if spec is None:  # pragma: no cover - every data intent has a query (tested)
            raise LookupError(f"no query for {turn.intent}")
        supported = spec.filters | spec.required
        unknown = unknown_name(turn.entities, supported)
        if unknown is not None:
            return unknown_answer(turn, *unknown)
        ambiguous = ambiguity(turn.entities, supported)
        if ambiguous is not None:
            return ambiguous_answer(turn, *ambiguous)
        unapplied = unapplied_names(turn, spec)
        if unapplied and not spec.lists and turn.ctx.can(spec.permission):
            return refusal(turn, spec, unapplied)
        params = params_from_entities(turn.entities, supported)
        missing = [r for r in sorted(spec.required) if getattr(params, r) is None]
        remember: dict[str, Any] = {"intent": turn.intent, "entities": turn.entities}
        if missing:
            return Answer(
                text=_ASK_FOR.get(missing[0], f"I need the {missing[0]} to answer that."),
                skill="clarify",
                remember={**remember, "awaiting": missing[0]},
            )
        report(turn.progress, "querying")
        try:
            result = run_query(turn.session, turn.ctx, spec, params, turn.today)
        except PermissionDenied as exc:
            return denied_answer(exc)
        data = table_data(result)
        text, usage = phrased(turn, result.summary, data)
        undated = period_note(spec, turn.entities)
        if undated:  # "new customers last quarter": the list as it stands, which says so
            text = f"{undated} {text}"
        ageless = age_note(spec, turn.entities)
        if ageless:  # "stock levels older than 90 days": not narrowed, which is said
            text = f"{ageless} {text}"
            data.setdefault("not_applied", []).append(
                {"entity": "age", "text": str(turn.entities["age"].get("text"))}
            )
        if unapplied:  # a list for the whole company, which says so
            text = f"{scope_note(spec, unapplied)} {text}"
            data.setdefault("not_applied", []).extend(
                {"entity": n.keys[0], "text": n.text} for n in unapplied
            )
            remember = scoped_remember(turn, spec, unapplied)
        return Answer(
            text=text,
            skill=self.name,
            data=data,
            choices=offer_labels(remember),
            remember=remember,
            extra={"llm": usage} if usage else {},
        )


def period_note(spec: queries.QuerySpec, entities: dict[str, Any]) -> str | None:
    """The sentence saying a list can't be narrowed to the period asked about, if it can't.

    "new customers last quarter" asks which customers joined then; the customer list knows
    no such date, so the answer says that, and that it is the list as it stands today.
    """
    period = entities.get("period")
    if not spec.lists or "period" in spec.filters | spec.required or not isinstance(period, dict):
        return None
    params = params_from_entities({"period": period}, frozenset({"period"}))
    if params.period is None:
        return None
    window = resolve_period(params, params.period.end, month_to_date).text()
    return (
        f"I can't narrow the {spec.title} to a period, so this isn't limited to {window}: "
        "it is the list as it stands today."
    )


def age_note(spec: queries.QuerySpec, entities: dict[str, Any]) -> str | None:
    """The sentence saying the answer can't be narrowed to how long something has been so.

    "Sales over more than 60 days" or "stock older than 90 days": the query has no such
    measure, so the answer is the usual one and says it is not limited to the words said.
    """
    age = entities.get("age")
    if not isinstance(age, dict) or {"min_days", "max_days"} & (spec.filters | spec.required):
        return None
    said = str(age.get("text") or "that age")
    return (
        f"I can't narrow the {spec.title} by how long (\u201c{said}\u201d), so this isn't "
        "limited to it:"
    )


def phrased(turn: Turn, text: str, data: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """The answer reworded by the ``chat`` model when policy allows and every figure checks out.

    Not streamed: the figure guard needs the whole text before any of it may be shown.
    """
    llm = turn.language_model()
    company = turn.ctx.company_slug
    if llm is None or not llm.enabled("chat", company):
        return text, None
    report(turn.progress, "generating")
    answer = phrase_answer(llm, company, text, data)
    usage: dict[str, Any] = {
        "use_case": "chat",
        "generated": answer.used_model,
        "fallback_reason": None if answer.used_model else answer.reason,
    }
    if answer.offending:
        usage["offending"] = answer.offending[:10]
    return answer.text, usage | generation_usage(answer.generation)


def generation_usage(generation: Generation | None) -> dict[str, Any]:
    """The model, tokens and time of a generation, for ``usage.llm``."""
    if generation is None:
        return {}
    return {
        "provider": generation.provider,
        "model": generation.model,
        "tokens_in": generation.tokens_in,
        "tokens_out": generation.tokens_out,
        "latency_ms": generation.latency_ms,
        "cached": generation.cached,
    }


# A list question naming one document ("status of PO-2026-0213", read as purchase_orders)
# is a question about that document.
_ONE_DOCUMENT = {"PO": "order_status", "SO": "order_status", "INV": "invoice_status"}


def one_document_intent(intent: str, entities: dict[str, Any]) -> str:
    """The single-document query when a list question names one document, else ``intent``."""
    spec = queries.get(intent)
    ref = entities.get("document_ref")
    if spec is None or "document_ref" in spec.filters or not isinstance(ref, dict):
        return intent
    single = _ONE_DOCUMENT.get(str(ref.get("prefix", "")).upper())
    spec_single = queries.get(single) if single else None
    if single is None or spec_single is None or spec_single.permission != spec.permission:
        return intent
    return single


def ambiguity(entities: dict[str, Any], supported: frozenset[str]) -> tuple[str, list[str]] | None:
    """The first master-data mention that matched several records, with their names."""
    for entity, field_name in _ID_ENTITIES.items():
        found = entities.get(entity)
        if (
            field_name in supported
            and isinstance(found, dict)
            and found.get("id") is None
            and found.get("candidates")
        ):
            return entity, [str(c["name"]) for c in found["candidates"]][:5]
    return None


_COUNTERPART = {"customer": "supplier", "supplier": "customer"}


def ambiguous_answer(turn: Turn, entity: str, names: list[str]) -> Answer:
    """'Which customer do you mean: …?', each name a choice that answers the question."""
    rest = {k: v for k, v in turn.entities.items() if k != entity}
    text = str(turn.entities[entity].get("text") or "")
    offered = [
        (name, turn.intent, {**rest, entity: {"text": text, "id": c["id"], "name": name}})
        for name, c in zip(names, turn.entities[entity]["candidates"], strict=False)
    ]
    asked = {"intent": turn.intent, "entities": turn.entities}
    return Answer(
        text=f"Which {entity.replace('_', ' ')} do you mean: {_either(names)}?",
        skill="clarify",
        choices=names,
        remember={
            "intent": turn.intent,
            "entities": rest,
            "awaiting": entity,
            choices.OFFER: choices.offer(offered, asked),
        },
    )


def unknown_name(
    entities: dict[str, Any], supported: frozenset[str]
) -> tuple[str, list[str], list[str]] | None:
    """A name the question filters by that is no record of the company: (text, kinds, close).

    Only filters the query honours count. A customer question naming one of the company's
    suppliers (or the reverse) names no customer, and is answered like any unknown name.
    """
    text: str | None = None
    kinds: list[str] = []
    close: list[str] = []
    for entity, field_name in _ID_ENTITIES.items():
        found = entities.get(entity)
        if field_name not in supported:
            continue
        if not isinstance(found, dict):
            other = entities.get(_COUNTERPART.get(entity, ""))
            counterpart = _ID_ENTITIES.get(_COUNTERPART.get(entity, ""), "")
            if isinstance(other, dict) and other.get("id") is not None:
                if counterpart not in supported:
                    found = {"text": other.get("text"), "id": None}
        if (
            not isinstance(found, dict)
            or found.get("id") is not None
            or found.get("candidates")
            or not found.get("text")
        ):
            continue
        if text is None:
            text = str(found["text"])
        elif str(found["text"]) != text:
            continue
        kinds.append(entity.replace("_", " "))
        close += [str(s["name"]) for s in found.get("suggestions") or [] if s["name"] not in close]
    return (text, kinds, close[:5]) if text is not None else None


def unknown_answer(turn: Turn, text: str, kinds: list[str], close: list[str]) -> Answer:
    """'I don't know a customer called …', offering the company's close names; nothing is read."""
    said = f"I don't know a {' or '.join(kinds)} called \u201c{text}\u201d."
    keys = {k.replace(" ", "_") for k in kinds}
    rest = {k: v for k, v in turn.entities.items() if k not in keys}
    remember = {"intent": turn.intent, "entities": rest, "awaiting": kinds[0].replace(" ", "_")}
    if close:
        asked = {"intent": turn.intent, "entities": turn.entities}
        offered = [
            (name, turn.intent, {**rest, key: {"text": name, "id": record_id, "name": name}})
            for name, key, record_id in _suggested(turn.entities, keys, close)
        ]
        return Answer(
            text=f"{said} Did you mean {_either(close)}?",
            skill="clarify",
            choices=close,
            remember={**remember, choices.OFFER: choices.offer(offered, asked)},
        )
    return Answer(
        text=f"{said} Check the name, or ask again without it for all of them.",
        skill="clarify",
        remember=remember,
    )


def _suggested(
    entities: dict[str, Any], keys: set[str], names: list[str]
) -> list[tuple[str, str, Any]]:
    """(name, entity key, record id) of each offered name, in the order offered."""
    found: dict[str, tuple[str, str, Any]] = {}
    for key in sorted(keys, key=list(_ID_ENTITIES).index):
        value = entities.get(key)
        for s in (value.get("suggestions") if isinstance(value, dict) else None) or []:
            found.setdefault(str(s["name"]), (str(s["name"]), key, s["id"]))
    return [found[name] for name in names if name in found]


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"


def denied_answer(exc: PermissionDenied) -> Answer:
    """A refusal that says which role has the permission; nothing was read."""
    roles = exc.details.get("roles") or []
    who = f"the {' or '.join(roles)} role" if roles else "a permission you don't have"
    return Answer(
        text=f"Sorry, you can't see that: it needs {who}. Ask someone with that role or an "
        "administrator.",
        skill="denied",
        extra={"permission": exc.details.get("permission"), "roles": roles},
    )


register(*sorted(queries.all_queries()))(DataQuerySkill)
