"""Chat turns under budgets and rate limits, through the ASGI app with the real NLU.

The model is a scripted ``FakeProvider`` priced through the settings' price table (the
budgets are what is tested, not the model); a message the NLU cannot place makes the
assistant ask it for a tool, which is the model call metered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from companion.assistant.nlu import NLU
from companion.assistant.service import Assistant
from companion.assistant.understanding import CompanyNLU
from companion.bootstrap import Container
from companion.config import BudgetCaps, ModelPrice, RateLimitSettings, UsageSettings
from companion.kit.clock import FixedClock
from companion.llm.policies import PolicyBook
from companion.llm.providers.base import Message
from companion.llm.providers.fake import FakeProvider
from companion.llm.service import LLMService, ProviderRegistry

UNSURE = "blorp the zingle for me"
CHAT = "/api/v1/ai/chat"
POLICIES = """
providers:
  free: {kind: none}
defaults: {cache_ttl_s: 0}
use_cases:
  tool_choice: {enabled: true, max_tokens: 64, fallback: [free]}
"""
PRICE = ModelPrice(input_per_1k=Decimal("0.5"), output_per_1k=Decimal("1.5"))


def pick_cash(messages: list[Message]) -> str:
    return json.dumps({"tool": "cash_balance", "arguments": {}})


Setup = Callable[..., TestClient]


@pytest.fixture
def metered(
    demo_container: Container, nlu: NLU, demo_clock: FixedClock, chat_app: FastAPI, tmp_path: Path
) -> Setup:
    """The chat app with a priced model, budgets and rate limits as the test says."""

    def make(
        caps: BudgetCaps | None = None,
        chat_per_user: str = "100 per minute",
        company_caps: dict[str, BudgetCaps] | None = None,
    ) -> TestClient:
        settings = demo_container.settings
        settings.usage = UsageSettings(
            prices={"fake": PRICE},
            budgets=caps or BudgetCaps(),
            company_budgets=company_caps or {},
            soft_ratio=0.8,
        )
        # Built again from these settings (the counters themselves stay in the database).
        demo_container._usage = demo_container._rate_limiter = None
        settings.rate_limits = RateLimitSettings(chat_per_user=chat_per_user)
        path = tmp_path / "policies.yml"
        path.write_text(POLICIES)
        free = FakeProvider([json.dumps({"tool": "cash_balance", "arguments": {}})], name="local")
        registry = ProviderRegistry(
            {"default": lambda: FakeProvider(pick_cash), "free": lambda: free}
        )
        demo_container._llm = LLMService(
            registry, PolicyBook.load(path), meter=demo_container.usage_meter()
        )
        demo_container._assistant = Assistant(
            CompanyNLU(nlu),
            demo_clock,
            retriever=demo_container.retriever,
            llm=demo_container.llm,
            usage=demo_container.usage_meter(),
        )
        return TestClient(chat_app, raise_server_exceptions=False)

    return make


def chat(client: TestClient, headers: dict[str, str], message: str = UNSURE) -> Any:
    return client.post(CHAT, json={"message": message}, headers=headers)


def test_a_turn_reports_its_model_use_and_the_company_sees_it(metered: Setup, login: Any) -> None:
    with metered() as client:
        r = chat(client, login("finance"))
        assert r.status_code == 200, r.text
        usage = r.json()["usage"]
        assert r.json()["intent"] == "cash_balance"
        assert usage["model_calls"] == 1 and usage["tokens_in"] > 0 and usage["tokens_out"] > 0
        expected = (usage["tokens_in"] * 0.5 + usage["tokens_out"] * 1.5) / 1000
        assert usage["cost"] == pytest.approx(expected, abs=1e-6)
        assert usage["currency"] == "USD" and usage["warnings"] is None
        summary = client.get("/api/v1/ai/usage/summary", headers=login("finance")).json()
        assert (summary["turns"], summary["model_calls"]) == (1, 1)
        assert summary["cost"] == pytest.approx(expected, abs=1e-6)
        by_model = client.get(
            "/api/v1/ai/usage/breakdown", params={"by": "use_case"}, headers=login("finance")
        ).json()["rows"]
        assert [(row["key"], row["calls"]) for row in by_model] == [("tool_choice", 1)]


def test_a_reached_hard_cap_is_a_429_naming_the_limit_and_its_reset(
    metered: Setup, login: Any
) -> None:
    with metered(company_caps={"acme": BudgetCaps(company_day_tokens=0)}) as client:
        r = chat(client, login("finance"), "what is our cash balance?")
        assert r.status_code == 429
        error = r.json()["error"]
        assert error["code"] == "budget_exceeded"
        assert error["details"]["limit"] == "company_day_tokens"
        # Acme keeps Dhaka time: its day ends at 18:00 UTC, eight hours after 10:00 UTC.
        assert error["details"]["resets_at"] == "2026-03-15T18:00:00+00:00"
        assert int(r.headers["Retry-After"]) == 8 * 3600 + 1
        assert "resets at 2026-03-15T18:00:00+00:00" in error["message"]
        # The stream refuses the same way before it opens, as plain JSON.
        s = client.post(f"{CHAT}/stream", json={"message": "hi"}, headers=login("finance"))
        assert s.status_code == 429 and s.json()["error"]["code"] == "budget_exceeded"
        # Another company's budgets are its own.
        assert chat(client, login("gfinance"), "what is our cash balance?").status_code == 200


def test_past_a_cost_cap_the_local_policy_answers_with_the_free_model(
    metered: Setup, login: Any
) -> None:
    caps = BudgetCaps(company_day_cost=Decimal("0"), on_hard_cap="local")
    with metered(caps) as client:
        r = chat(client, login("finance"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["intent"] == "cash_balance"  # the free model chose the tool
        assert body["usage"]["model_calls"] == 1 and body["usage"]["cost"] == 0
        assert body["usage"]["refused"][0]["limit"] == "company_day_cost"


def test_the_soft_cap_warns_in_usage_before_the_hard_cap(metered: Setup, login: Any) -> None:
    with metered() as client:
        first = chat(client, login("finance")).json()["usage"]
    used = first["tokens_in"] + first["tokens_out"]
    # A day of 1.15 x what was used: 87% used, and no room for another worst case.
    with metered(BudgetCaps(user_day_tokens=int(used * 1.15))) as client:
        r = chat(client, login("finance"))
        assert r.status_code == 200, r.text
        usage = r.json()["usage"]
        (warning,) = usage["warnings"]
        assert warning["limit"] == "user_day_tokens" and warning["ratio"] >= 0.8
        assert usage["model_calls"] == 0 and usage["refused"][0]["limit"] == "user_day_tokens"


def test_the_chat_rate_limit_is_a_429_with_retry_after(metered: Setup, login: Any) -> None:
    with metered(chat_per_user="2 per minute") as client:
        codes = [chat(client, login("finance"), "hello").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        r = chat(client, login("finance"), "hello")
        assert r.json()["error"]["code"] == "chat_rate_limited"
        assert 0 < int(r.headers["Retry-After"]) <= 60
        # Per user: another user is not held up.
        assert chat(client, login("ceo", "acme"), "hello").status_code == 200
