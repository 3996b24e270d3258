"""Tool choice: schemas from the query registry and the actions, validation, fallbacks."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from companion.assistant.queries.registry import all_queries
from companion.assistant.tools import (
    ACTION_TOOLS,
    build_prompt,
    choice_model,
    choose_tool,
    shortlist,
    tool_schemas,
    tool_specs,
    validate_choice,
)
from companion.llm import FakeProvider, LLMService, LLMTimeout, PolicyBook, ProviderRegistry

ALLOWED = ["cash_balance", "order_status", "purchase_orders", "approve_purchase_order"]


def llm_with(
    tmp_path: Path, provider: FakeProvider, policy: str = "enabled: true, cache_ttl_s: 0"
) -> LLMService:
    path = tmp_path / "policies.yml"
    path.write_text(f"use_cases:\n  tool_choice: {{{policy}}}\n", encoding="utf-8")
    return LLMService(ProviderRegistry({"default": lambda: provider}), PolicyBook.load(path))


def reply(tool: str, **arguments: object) -> str:
    return json.dumps({"tool": tool, "arguments": arguments})


def test_every_query_and_action_is_a_tool() -> None:
    specs = tool_specs()
    assert set(specs) == set(all_queries()) | set(ACTION_TOOLS)
    assert (
        specs["cash_balance"].kind == "query" and specs["cash_balance"].permission == "finance.read"
    )
    assert specs["approve_purchase_order"].kind == "action"
    assert specs["approve_purchase_order"].permission == "procurement.approve"


def test_query_filters_become_named_arguments() -> None:
    schemas = {s["name"]: s for s in tool_schemas()}
    orders = schemas["purchase_orders"]["parameters"]
    # Ids are replaced by the names people say; the registry's filters decide which.
    assert set(orders["properties"]) == {
        "period",
        "status",
        "supplier",
        "product",
        "warehouse",
        "min_amount",
        "max_amount",
        "top_n",
        "min_days",
        "max_days",
    }
    assert orders["additionalProperties"] is False
    status = schemas["order_status"]["parameters"]
    assert status["required"] == ["document_ref"]
    assert status["properties"]["document_ref"]["pattern"].startswith("^[A-Z]")
    assert set(schemas["adjust_inventory"]["parameters"]["properties"]) == {
        "product",
        "warehouse",
        "quantity",
        "reason",
    }
    assert schemas["record_payment"]["parameters"]["properties"]["amount"]["anyOf"][0] == {
        "type": "number",
        "minimum": 0,
    }


def test_choice_schema_offers_only_the_allowed_tools() -> None:
    schema = json.dumps(choice_model(["cash_balance", "order_status"]).model_json_schema())
    assert '"const": "cash_balance"' in schema and '"const": "order_status"' in schema
    assert "approve_purchase_order" not in schema
    prompt = build_prompt("approve PO-2026-0042", ["order_status"], dt.date(2026, 11, 23))
    assert "- order_status:" in prompt[0]["content"] and "cash_balance" not in prompt[0]["content"]
    assert "Today is 2026-11-23." in prompt[0]["content"]


def test_a_valid_choice_is_returned_with_typed_arguments(tmp_path: Path) -> None:
    provider = FakeProvider(
        [
            reply(
                "purchase_orders",
                supplier="Padma Steel",
                min_amount=50000,
                period={"start": "2026-10-01", "end": "2026-10-31"},
                status=None,
            )
        ]
    )
    choice = choose_tool(llm_with(tmp_path, provider), "acme", "big steel POs last month", ALLOWED)
    assert choice is not None and choice.tool == "purchase_orders"
    assert choice.arguments == {
        "supplier": "Padma Steel",
        "min_amount": Decimal("50000"),
        "period": {"start": dt.date(2026, 10, 1), "end": dt.date(2026, 10, 31)},
    }
    call = provider.calls[0]
    assert call["kind"] == "json"
    offered = json.dumps(call["schema"])
    assert all(f'"const": "{name}"' in offered for name in ALLOWED)
    assert '"const": "void_document"' not in offered


@pytest.mark.parametrize(
    "bad",
    [
        reply("void_document", document_ref="INV-2026-0001"),  # not allowed for this caller
        reply("order_status"),  # document_ref is required
        reply("order_status", document_ref="the big one"),  # not a document reference
        reply("purchase_orders", top_n=1000),  # out of range
        reply("cash_balance", customer="Rahim"),  # not an argument of this tool
        '{"tool": "cash_balance", "arguments": ',  # cut off
        "I think you want the cash balance.",
    ],
)
def test_invalid_choices_give_none(tmp_path: Path, bad: str) -> None:
    provider = FakeProvider([bad])
    assert choose_tool(llm_with(tmp_path, provider), "acme", "something", ALLOWED) is None
    assert len(provider.calls) == 1


def test_no_model_call_without_policy_or_allowed_tools(tmp_path: Path) -> None:
    provider = FakeProvider([reply("cash_balance")])
    off = llm_with(tmp_path, provider, "enabled: false")
    assert choose_tool(off, "acme", "cash?", ALLOWED) is None
    assert choose_tool(llm_with(tmp_path, provider), "acme", "cash?", []) is None
    assert choose_tool(llm_with(tmp_path, provider), "acme", "cash?", ["no_such_tool"]) is None
    assert provider.calls == []


def test_provider_failure_gives_none(tmp_path: Path) -> None:
    provider = FakeProvider([reply("cash_balance")])
    provider.fail_next(LLMTimeout("slow"))
    assert choose_tool(llm_with(tmp_path, provider), "acme", "cash?", ALLOWED) is None


def test_validate_choice_checks_tool_and_arguments() -> None:
    ok = validate_choice("create_sales_order", {"customer": "Karim", "quantity": "5"}, ACTION_TOOLS)
    assert ok is not None and ok.arguments == {"customer": "Karim", "quantity": Decimal("5")}
    assert validate_choice("create_sales_order", {"quantity": -1}, ACTION_TOOLS) is None
    assert validate_choice("create_sales_order", {}, ["cash_balance"]) is None


def test_shortlist_puts_the_likeliest_tools_first() -> None:
    names = list(tool_specs())
    assert shortlist("how much cash is in the bank", names)[0] == "cash_balance"
    assert shortlist("show overdue invoices for Rahim", names)[0] == "overdue_invoices"
    assert len(shortlist("anything", names)) == 8
