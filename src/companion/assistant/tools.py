"""Tool choice: when NLU is unsure, a model picks one data query or action, with arguments.

Each tool has a JSON schema: the data queries' from their registered filters (ids replaced
by the names people say, resolved later like any NLU entity), the actions' from the
entities their handlers gather. Only the tools the caller passes (those its roles may
use) are offered, and generation is constrained to their schemas; the choice is validated
again here. It decides nothing: the caller runs it through the same permission checks and
confirmation flow as an NLU intent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from companion.assistant.nlu.entities.docrefs import extract_document_refs
from companion.assistant.nlu.entities.master import MasterData, match_master
from companion.llm.errors import LLMError
from companion.llm.service import LLMService

log = logging.getLogger(__name__)

USE_CASE = "tool_choice"
DOCUMENT_REF_PATTERN = r"^[A-Z]{2,4}-[0-9]{4}-[0-9]{3,6}$"

ACTION_TOOLS: tuple[str, ...] = (
    "approve_purchase_order",
    "reject_purchase_order",
    "create_sales_order",
    "create_customer",
    "post_ar_invoice",
    "record_payment",
    "create_purchase_order",
    "adjust_inventory",
    "void_document",
)


# A plain JSON number in the schema (pydantic would also offer any string for a Decimal),
# so that constrained decoding can only write digits; validated as a Decimal.
Number = Annotated[Decimal, WithJsonSchema({"type": "number", "minimum": 0})]


class PeriodArg(BaseModel):
    """An inclusive date range."""

    model_config = ConfigDict(extra="forbid")

    start: dt.date
    end: dt.date


# Every argument a tool may take: (type, field), all optional unless a tool requires it.
ARGUMENTS: dict[str, tuple[Any, Any]] = {
    "period": (PeriodArg | None, Field(default=None, description="Dates, inclusive")),
    "as_of": (dt.date | None, Field(default=None, description="As of this date")),
    "customer": (str | None, Field(default=None, min_length=1, max_length=120)),
    "supplier": (str | None, Field(default=None, min_length=1, max_length=120)),
    "product": (str | None, Field(default=None, min_length=1, max_length=120)),
    "warehouse": (str | None, Field(default=None, min_length=1, max_length=120)),
    "bank_account": (str | None, Field(default=None, min_length=1, max_length=120)),
    "status": (str | None, Field(default=None, min_length=1, max_length=40)),
    "document_ref": (
        str | None,
        Field(default=None, pattern=DOCUMENT_REF_PATTERN, description="e.g. PO-2026-0042"),
    ),
    "min_amount": (Number | None, Field(default=None, ge=0, max_digits=18, decimal_places=2)),
    "max_amount": (Number | None, Field(default=None, ge=0, max_digits=18, decimal_places=2)),
    "top_n": (int | None, Field(default=None, ge=1, le=100)),
    "min_days": (
        int | None,
        Field(default=None, ge=0, le=36_500, description="At least this many days old/overdue"),
    ),
    "max_days": (
        int | None,
        Field(default=None, ge=0, le=36_500, description="At most this many days old/overdue"),
    ),
    "quantity": (Number | None, Field(default=None, gt=0, max_digits=18, decimal_places=4)),
    "unit_price": (Number | None, Field(default=None, ge=0, max_digits=18, decimal_places=4)),
    "amount": (Number | None, Field(default=None, gt=0, max_digits=18, decimal_places=2)),
    "reason": (str | None, Field(default=None, min_length=1, max_length=200)),
}

# A query filter names the record by id; the model names it as the user did.
_FILTER_ARGUMENT = {
    "customer_id": "customer",
    "supplier_id": "supplier",
    "item_id": "product",
    "warehouse_id": "warehouse",
    "bank_account_id": "bank_account",
}

# The entities each action's handler gathers (its slots); a missing one is asked for later.
ACTION_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "approve_purchase_order": ("document_ref",),
    "reject_purchase_order": ("document_ref", "reason"),
    "create_sales_order": ("customer", "product", "quantity", "unit_price", "warehouse"),
    "create_customer": ("customer",),
    "post_ar_invoice": ("customer", "product", "quantity", "unit_price"),
    "record_payment": ("document_ref", "customer", "supplier", "amount"),
    "create_purchase_order": ("supplier", "product", "quantity", "unit_price", "warehouse"),
    "adjust_inventory": ("product", "warehouse", "quantity", "reason"),
    "void_document": ("document_ref", "reason"),
}
ACTION_DESCRIPTIONS = {
    "approve_purchase_order": "Approve a purchase order",
    "reject_purchase_order": "Reject a purchase order, with a reason",
    "create_sales_order": "Create a sales order for a customer",
    "create_customer": "Create a new customer",
    "post_ar_invoice": "Post an invoice to a customer",
    "record_payment": "Record a payment against an invoice or bill",
    "create_purchase_order": "Create a purchase order to a supplier",
    "adjust_inventory": "Adjust the stock of a product in a warehouse",
    "void_document": "Void a posted document",
}


@dataclass(frozen=True)
class ToolSpec:
    """One tool a model may choose: its kind, the permission it needs, its arguments."""

    name: str
    kind: Literal["query", "action"]
    description: str
    permission: str
    arguments: type[BaseModel]

    def json_schema(self) -> dict[str, Any]:
        """The OpenAI-style function description of this tool."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters": self.arguments.model_json_schema(),
        }


class ToolChoice(BaseModel):
    """The tool a model chose and its validated arguments (unset ones left out)."""

    model_config = ConfigDict(frozen=True)

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)


def _arguments_model(tool: str, names: Iterable[str], required: Iterable[str]) -> type[BaseModel]:
    must = set(required)
    fields: dict[str, Any] = {}
    for name in names:
        kind, info = ARGUMENTS[name]
        if name in must:
            # Required: the same constraints, no default, and not nullable.
            inner = next(a for a in kind.__args__ if a is not type(None))
            fields[name] = (inner, Field(..., **_constraints(info)))
        else:
            fields[name] = (kind, info)
    model: type[BaseModel] = create_model(
        f"{tool}_arguments", __config__=ConfigDict(extra="forbid"), **fields
    )
    return model


def _constraints(info: Any) -> dict[str, Any]:
    """The keyword arguments that rebuild a field's constraints without its default."""
    out: dict[str, Any] = {}
    for meta in info.metadata:
        for key in ("pattern", "min_length", "max_length", "ge", "gt", "le", "lt"):
            value = getattr(meta, key, None)
            if value is not None:
                out[key] = value
    if info.description:
        out["description"] = info.description
    return out


def _query_specs() -> dict[str, ToolSpec]:
    from companion.assistant.queries.registry import all_queries

    specs: dict[str, ToolSpec] = {}
    for intent, query in sorted(all_queries().items()):
        names = [_FILTER_ARGUMENT.get(f, f) for f in sorted(query.filters)]
        required = [_FILTER_ARGUMENT.get(f, f) for f in query.required]
        specs[intent] = ToolSpec(
            name=intent,
            kind="query",
            description=query.description,
            permission=query.permission,
            arguments=_arguments_model(intent, names, required),
        )
    return specs


def _action_specs() -> dict[str, ToolSpec]:
    from companion.assistant.actions.base import action_for

    specs: dict[str, ToolSpec] = {}
    for action in ACTION_TOOLS:
        handler = action_for(action)
        specs[action] = ToolSpec(
            name=action,
            kind="action",
            description=ACTION_DESCRIPTIONS[action],
            permission=handler.permission if handler is not None else "ai.use",
            arguments=_arguments_model(action, ACTION_ARGUMENTS[action], ()),
        )
    return specs


_SPECS: dict[str, ToolSpec] = {}


def tool_specs() -> dict[str, ToolSpec]:
    """Every tool: the data queries of the registry and the actions of the contract."""
    if not _SPECS:
        _SPECS.update({**_query_specs(), **_action_specs()})
    return dict(_SPECS)


def tool_schemas(names: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """OpenAI-style function schemas of the named tools (all when ``names`` is None)."""
    specs = tool_specs()
    chosen = specs if names is None else {n: specs[n] for n in names if n in specs}
    return [spec.json_schema() for spec in chosen.values()]


@lru_cache(maxsize=64)
def _choice_model(names: tuple[str, ...]) -> type[RootModel[Any]]:
    specs = tool_specs()
    calls = tuple(
        create_model(
            f"call_{name}",
            __config__=ConfigDict(extra="forbid"),
            tool=(Literal[name], ...),  # type: ignore[arg-type]
            arguments=(specs[name].arguments, ...),
        )
        for name in names
    )
    root = calls[0] if len(calls) == 1 else Union[calls]  # noqa: UP007 - built at run time
    model: type[RootModel[Any]] = RootModel[root]  # type: ignore[valid-type]
    return model


def choice_model(names: Sequence[str]) -> type[RootModel[Any]]:
    """The structured-output model: one of ``names`` with its own arguments (built once)."""
    return _choice_model(tuple(names))


SYSTEM = (
    "You route a request in a business assistant to exactly one tool. Pick the tool that "
    "does what the user asks and fill in only the arguments the request states; leave out "
    "anything it does not say. Dates are YYYY-MM-DD.{today}\nTools:\n{tools}"
)


def build_prompt(
    text: str, names: Sequence[str], today: dt.date | None = None
) -> list[dict[str, str]]:
    """The tool list with descriptions and arguments, and the user's request."""
    specs = tool_specs()
    lines = []
    for name in names:
        spec = specs[name]
        args = ", ".join(spec.arguments.model_fields) or "none"
        lines.append(f"- {name}: {spec.description} (arguments: {args})")
    when = f" Today is {today.isoformat()}." if today else ""
    return [
        {"role": "system", "content": SYSTEM.format(today=when, tools="\n".join(lines))},
        {"role": "user", "content": f"Request: {text}\nWhich tool? Reply with JSON."},
    ]


MAX_OFFERED = 8


def shortlist(text: str, names: Sequence[str], limit: int = MAX_OFFERED) -> list[str]:
    """The tools whose names and descriptions share most words with ``text``, best first.

    A shorter list keeps the prompt and the grammar small; putting the likeliest tool
    first helps small models, which lean towards the first option.
    """
    from companion.knowledge.answers import terms

    specs = tool_specs()
    wanted = terms(text)

    def overlap(name: str) -> int:
        spec = specs[name]
        return len(wanted & terms(f"{name.replace('_', ' ')} {spec.description}"))

    ranked = sorted(names, key=lambda n: (-overlap(n), names.index(n)))
    return ranked[:limit]


def choose_tool(
    llm: LLMService,
    company: str | int,
    text: str,
    allowed_tools: Sequence[str],
    *,
    today: dt.date | None = None,
) -> ToolChoice | None:
    """The tool a model picks among ``allowed_tools`` for ``text``, or None if it can't."""
    specs = tool_specs()
    names = [n for n in dict.fromkeys(allowed_tools) if n in specs]
    if not names or not llm.enabled(USE_CASE, company):
        return None
    names = shortlist(text, names)
    model = choice_model(names)
    try:
        structured = llm.generate_structured(
            USE_CASE,
            company,
            build_prompt(text, names, today),
            model,
            data_fingerprint=",".join(names),
        )
    except LLMError as exc:
        log.info("llm.tool_choice_failed", extra={"code": exc.code})
        return None
    call = structured.value.root
    return validate_choice(call.tool, call.arguments.model_dump(mode="json"), names)


def validate_choice(
    tool: str, arguments: dict[str, Any], allowed_tools: Sequence[str]
) -> ToolChoice | None:
    """A choice checked against the allowed tools and the tool's schema; None if invalid."""
    spec = tool_specs().get(tool)
    if spec is None or tool not in allowed_tools:
        return None
    try:
        checked = spec.arguments.model_validate(arguments)
    except ValidationError:
        return None
    return ToolChoice(tool=tool, arguments=checked.model_dump(exclude_none=True))


_MASTER_ARGUMENTS = ("customer", "supplier", "product", "warehouse", "bank_account")


def entities_from_choice(choice: ToolChoice, master: MasterData) -> dict[str, Any]:
    """The chosen tool's arguments as NLU entities, names resolved in the caller's company.

    The skill that handles the tool then treats them like any understood message: an
    unknown or ambiguous name is asked about, a missing argument is asked for.
    """
    args = choice.arguments
    entities: dict[str, Any] = {}
    for kind in _MASTER_ARGUMENTS:
        if args.get(kind):
            entities[kind] = _resolved_name(str(args[kind]), kind, master)
    if args.get("document_ref"):
        refs = extract_document_refs(str(args["document_ref"]))
        if refs:
            entities["document_ref"] = refs[0].to_dict()
    period = args.get("period")
    if isinstance(period, dict):
        entities["period"] = {"start": str(period["start"]), "end": str(period["end"])}
    if args.get("as_of"):
        entities["date"] = str(args["as_of"])
    if args.get("min_amount") is not None or args.get("max_amount") is not None:
        entities["amount_range"] = {
            "min": _number(args.get("min_amount")),
            "max": _number(args.get("max_amount")),
        }
    if args.get("min_days") is not None or args.get("max_days") is not None:
        low, high = args.get("min_days"), args.get("max_days")
        said = " to ".join(str(d) for d in (low, high) if d is not None) + " days"
        entities["age"] = {"min_days": low, "max_days": high, "text": said}
    for key in ("quantity", "unit_price", "amount"):
        if args.get(key) is not None:
            entities[key] = _number(args[key])
    for key in ("top_n", "status", "reason"):
        if args.get(key) is not None:
            entities[key] = args[key]
    return entities


def _number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _resolved_name(name: str, kind: str, master: MasterData) -> dict[str, Any]:
    """The master record ``name`` matches best, as the NLU would report it."""
    matches = match_master(name, master, kinds=(kind,))
    if not matches:
        return {"text": name, "id": None, "name": None}
    return max(matches, key=lambda m: (m.end - m.start, m.score)).to_dict()
