"""Language models in chat: tool choice for unsure messages, guarded phrasing, generated answers.

The model is a scripted ``FakeProvider`` here: these tests check what the assistant does with
a model's output (permission checks, confirmation, the figure guard, citation checks), which
must not depend on what a small real model happens to write. The real model in chat is
exercised in test_chat_stream.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.assistant.nlu import NLU
from companion.assistant.service import Assistant
from companion.assistant.understanding import CompanyNLU
from companion.bootstrap import Container
from companion.erp.parties.models import Customer
from companion.kit.clock import FixedClock
from companion.llm.policies import PolicyBook
from companion.llm.providers.base import Message
from companion.llm.providers.fake import FakeProvider
from companion.llm.service import LLMService, ProviderRegistry

# A message the NLU cannot place: only a model could make sense of it.
UNSURE = "blorp the zingle for me"
ALL_ON = """
defaults: {cache_ttl_s: 0}
use_cases:
  chat: {enabled: true}
  tool_choice: {enabled: true}
  knowledge_answer: {enabled: true}
"""


def ask(client: TestClient, headers: dict[str, str], message: str, **extra: Any) -> Any:
    body = {"message": message, **extra}
    response = client.post("/api/v1/ai/chat", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def with_model(
    demo_container: Container, nlu: NLU, demo_clock: FixedClock, chat_app: FastAPI, tmp_path: Path
) -> Callable[..., tuple[FakeProvider, TestClient]]:
    """The chat app with a scripted model behind every use case (policies: ``policies``)."""

    def make(provider: FakeProvider, policies: str = ALL_ON) -> tuple[FakeProvider, TestClient]:
        path = tmp_path / "policies.yml"
        path.write_text(policies)
        demo_container._llm = LLMService(
            ProviderRegistry({"default": lambda: provider}), PolicyBook.load(path)
        )
        demo_container._assistant = Assistant(
            CompanyNLU(nlu), demo_clock, retriever=demo_container.retriever, llm=demo_container.llm
        )
        return provider, TestClient(chat_app, raise_server_exceptions=False)

    return make


def choose(tool: str, **arguments: Any) -> Callable[[list[Message]], str]:
    """A model that picks ``tool`` for tool-choice prompts and echoes anything else."""

    def reply(messages: list[Message]) -> str:
        if "Which tool?" in messages[-1]["content"]:
            return json.dumps({"tool": tool, "arguments": arguments})
        return messages[-1]["content"]

    return reply


def a_customer(session: Session) -> Customer:
    return session.scalars(select(Customer).order_by(Customer.id)).first()  # type: ignore[return-value]


def tool_prompts(provider: FakeProvider) -> list[Any]:
    return [c for c in provider.calls if c["kind"] == "json"]


def test_an_unsure_message_is_answered_with_the_tool_a_model_picks(
    with_model: Any, login: Any, demo_session: Session
) -> None:
    customer = a_customer(demo_session)
    provider, client = with_model(FakeProvider(choose("customer_balance", customer=customer.name)))
    with client:
        body = ask(client, login("finance"), UNSURE)
    assert body["intent"] == "customer_balance" and body["skill"] == "data_query"
    assert body["entities"]["customer"]["id"] == customer.id  # the name, resolved like NLU's
    assert customer.name in body["message"]
    llm = body["usage"]["llm"]
    assert llm["use_case"] == "tool_choice" and llm["tool"] == "customer_balance"
    assert llm["nlu_intent"] == "out_of_scope"
    assert len(tool_prompts(provider)) == 1


def test_only_tools_the_caller_may_use_are_offered_and_accepted(
    with_model: Any, login: Any
) -> None:
    # A sales user may not see the cash balance: the tool is not offered, and a model that
    # names it anyway is ignored.
    provider, client = with_model(FakeProvider(choose("cash_balance")))
    with client:
        body = ask(client, login("sales"), UNSURE)
    assert body["intent"] == "out_of_scope" and body["skill"] == "dialogue"
    assert body["data"] is None
    prompt = tool_prompts(provider)[0]["messages"][0]["content"]
    assert "- cash_balance:" not in prompt and "- top_customers:" in prompt


def test_a_chosen_action_waits_for_confirmation_like_any_other(
    with_model: Any, login: Any, demo_session: Session
) -> None:
    customer = a_customer(demo_session)
    _, client = with_model(FakeProvider(choose("create_customer", customer="Zingle Traders")))
    with client:
        body = ask(client, login("sales"), UNSURE)
        assert body["intent"] == "create_customer"
        pending = body["pending_confirmation"]
        assert pending and pending["action"] == "create_customer"
        # Nothing was written before "yes".
        assert (
            demo_session.scalar(select(Customer).where(Customer.name == "Zingle Traders")) is None
        )
        done = ask(client, login("sales"), "yes", conversation_id=body["conversation_id"])
    assert "Zingle Traders" in done["message"]
    assert customer.company_id == demo_session.scalar(
        select(Customer.company_id).where(Customer.name == "Zingle Traders")
    )


def test_confident_messages_and_small_talk_never_ask_the_model(with_model: Any, login: Any) -> None:
    provider, client = with_model(FakeProvider(choose("cash_balance")))
    with client:
        assert ask(client, login("finance"), "what's our cash balance?")["intent"] == "cash_balance"
        assert ask(client, login("finance"), "hello")["intent"] == "greet"
    assert tool_prompts(provider) == []


def test_models_stay_out_of_chat_answers_in_the_shipped_policies(
    with_model: Any, login: Any
) -> None:
    provider, client = with_model(FakeProvider(choose("cash_balance")), policies="version: 1\n")
    with client:
        body = ask(client, login("finance"), UNSURE)
        assert body["intent"] == "out_of_scope"
        assert ask(client, login("finance"), "what's our cash balance?")["usage"]["llm"] is None
        policy = ask(client, login("finance"), "What is the hotel limit per night in Dhaka?")
        assert policy["skill"] == "knowledge" and policy["usage"]["llm"] is None
    assert provider.calls == []


def test_a_model_that_fails_leaves_the_unsure_answer(with_model: Any, login: Any) -> None:
    provider, client = with_model(FakeProvider(["this is not json"]))
    with client:
        body = ask(client, login("finance"), UNSURE)
    assert body["intent"] == "out_of_scope" and body["skill"] == "dialogue"


def test_phrasing_that_keeps_every_figure_is_shown(with_model: Any, login: Any) -> None:
    provider, client = with_model(FakeProvider(mode="echo"))
    with client:
        body = ask(client, login("finance"), "what's our cash balance?")
    llm = body["usage"]["llm"]
    assert llm["use_case"] == "chat" and llm["generated"] is True
    assert provider.calls  # the model was asked


def test_a_lying_model_is_caught_and_the_exact_answer_shown(with_model: Any, login: Any) -> None:
    _, honest = with_model(FakeProvider(["unused"]), policies="version: 1\n")
    with honest:
        exact = ask(honest, login("finance"), "what's our cash balance?")["message"]
    _, client = with_model(FakeProvider(mode="liar"))
    with client:
        body = ask(client, login("finance"), "what's our cash balance?")
    assert body["message"] == exact
    llm = body["usage"]["llm"]
    assert llm["generated"] is False and llm["fallback_reason"] == "guard_rejected"
    assert llm["offending"]


def test_a_generated_policy_answer_cites_the_passages_it_was_given(
    with_model: Any, login: Any
) -> None:
    reply = "Staff may spend up to BDT 6,000 per night on a hotel in Dhaka [1]."
    _, client = with_model(FakeProvider([reply]))
    with client:
        body = ask(client, login("finance"), "What is the hotel limit per night in Dhaka?")
    llm = body["usage"]["llm"]
    assert body["skill"] == "knowledge" and llm["use_case"] == "knowledge_answer"
    assert llm["generated"] is True, llm
    assert body["message"].startswith(reply)
    assert [s["number"] for s in body["sources"]] == [1]


def test_a_policy_answer_citing_a_passage_it_was_not_given_falls_back(
    with_model: Any, login: Any
) -> None:
    _, client = with_model(FakeProvider(["Hotels cost BDT 6,000 per night [7]."]))
    with client:
        body = ask(client, login("finance"), "What is the hotel limit per night in Dhaka?")
    llm = body["usage"]["llm"]
    assert llm["generated"] is False and llm["fallback_reason"] == "unknown_citation"
    assert body["message"].startswith("From your documents")
