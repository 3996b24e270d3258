"""``POST /api/v1/ai/chat/stream``: steps, model tokens and the final chat response as SSE.

Runs on the small demo with the real NLU and retriever, on both databases. Knowledge answers
use the real SmolLM2 model in process; the disconnect test uses a scripted slow provider
instead, because whether a model is still writing when the client leaves must not depend on
the machine's speed (the real model stopping when its stream is closed is tested in
tests/integration/llm/test_llm_llamacpp.py).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from companion.assistant.nlu import NLU
from companion.assistant.service import Assistant
from companion.assistant.understanding import CompanyNLU
from companion.bootstrap import Container
from companion.kit.clock import FixedClock
from companion.llm.locate import resolve_model_path
from companion.llm.policies import PolicyBook
from companion.llm.providers.base import DEFAULT_MAX_TOKENS, DEFAULT_TEMPERATURE, Prompt
from companion.llm.providers.fake import FakeProvider
from companion.llm.providers.llamacpp import LlamaCppProvider, LlamaModels
from companion.llm.providers.openai_compat import OpenAICompatProvider
from companion.llm.service import LLMService, ProviderRegistry
from llmserver import SERVED_MODEL, free_port, start_server

STREAM = "/api/v1/ai/chat/stream"
POLICY_QUESTION = "What is the hotel limit per night in Dhaka?"
# Generated answers on (off as shipped), no cache, and room for the slow shared test machine.
POLICIES = """
defaults: {cache_ttl_s: 0, timeout_s: 120, latency_budget_ms: 120000}
use_cases:
  knowledge_answer: {enabled: true}
"""

Event = tuple[str, dict[str, Any]]


def parse_sse(lines: Iterator[str]) -> Iterator[Event]:
    """``(event, data)`` pairs of a text/event-stream body (keep-alive comments skipped)."""
    kind, data = "message", ""
    for line in lines:
        if not line:
            if data:
                yield kind, json.loads(data)
            kind, data = "message", ""
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()


def stream_chat(client: TestClient, headers: dict[str, str], message: str) -> list[Event]:
    with client.stream("POST", STREAM, json={"message": message}, headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(parse_sse(response.iter_lines()))


def statuses(events: Sequence[Event]) -> list[str]:
    return [data["step"] for kind, data in events if kind == "status"]


def final_of(events: Sequence[Event]) -> dict[str, Any]:
    kinds = [kind for kind, _ in events]
    assert kinds.count("final") == 1 and kinds[-1] == "final", kinds
    return events[-1][1]


def service_with(tmp_path: Path, provider: Any) -> LLMService:
    policies = tmp_path / "policies.yml"
    policies.write_text(POLICIES)
    return LLMService(ProviderRegistry({"default": lambda: provider}), PolicyBook.load(policies))


def use_model(container: Container, nlu: NLU, clock: FixedClock, llm: LLMService) -> None:
    """The container's assistant and LLM service, with ``llm`` as the language model."""
    container._llm = llm
    container._assistant = Assistant(
        CompanyNLU(nlu), clock, retriever=container.retriever, llm=container.llm
    )


@pytest.fixture(scope="module")
def smol(llama_models: LlamaModels) -> LlamaCppProvider:
    """The bundled SmolLM2 in process; one thread, since the test machine's cores are shared."""
    return LlamaCppProvider(resolve_model_path(None), models=llama_models, n_ctx=2048, n_threads=1)


def test_a_data_question_streams_its_steps_then_the_same_answer_as_chat(
    chat_client: TestClient, login: Any
) -> None:
    headers = login("finance")
    events = stream_chat(chat_client, headers, "what's our cash balance?")
    assert statuses(events) == ["understanding", "querying", "recording"]
    assert not [e for e in events if e[0] == "token"]  # no model: nothing provisional
    final = final_of(events)
    plain = chat_client.post(
        "/api/v1/ai/chat", json={"message": "what's our cash balance?"}, headers=headers
    ).json()
    assert final["intent"] == plain["intent"] == "cash_balance"
    assert final["message"] == plain["message"]
    assert set(final) == set(plain)
    assert final["usage"]["llm"] is None
    # Recorded like any turn: the conversation holds the question and the answer.
    detail = chat_client.get(
        f"/api/v1/ai/conversations/{final['conversation_id']}", headers=headers
    )
    assert [m["role"] for m in detail.json()["messages"]] == ["user", "assistant"]
    assert detail.json()["messages"][1]["content"] == final["message"]


def test_a_follow_up_continues_the_streamed_conversation(
    chat_client: TestClient, login: Any
) -> None:
    headers = login("finance")
    first = final_of(stream_chat(chat_client, headers, "sales last month"))
    body = {"message": "and the month before?", "conversation_id": first["conversation_id"]}
    with chat_client.stream("POST", STREAM, json=body, headers=headers) as response:
        second = final_of(list(parse_sse(response.iter_lines())))
    assert second["conversation_id"] == first["conversation_id"]
    assert second["intent"] == "sales_summary"
    assert second["entities"]["period"] != first["entities"]["period"]


def test_without_a_model_a_policy_question_streams_no_tokens(
    chat_client: TestClient, login: Any
) -> None:
    events = stream_chat(chat_client, login("finance"), POLICY_QUESTION)
    assert statuses(events) == ["understanding", "retrieving", "recording"]
    final = final_of(events)
    assert final["skill"] == "knowledge" and final["sources"]
    assert final["usage"]["llm"] is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"message": "   "}, 422, "validation_failed"),
        ({"message": "x" * 5000}, 413, "payload_too_large"),
        ({"message": "cash?", "conversation_id": "no-such-conversation"}, 404, "not_found"),
        ({"message": 5}, 422, "validation_failed"),
        ({"text": "cash?"}, 422, "validation_failed"),
    ],
)
def test_bad_requests_are_plain_json_errors_before_any_event(
    chat_client: TestClient, login: Any, body: dict[str, Any], status: int, code: str
) -> None:
    response = chat_client.post(STREAM, json=body, headers=login("finance"))
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == code


def test_unauthenticated_and_other_users_conversations_are_refused(
    chat_client: TestClient, login: Any
) -> None:
    assert chat_client.post(STREAM, json={"message": "cash?"}).status_code == 401
    mine = final_of(stream_chat(chat_client, login("finance"), "what's our cash balance?"))
    body = {"message": "and last month?", "conversation_id": mine["conversation_id"]}
    other = chat_client.post(STREAM, json=body, headers=login("sales"))
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"


@pytest.mark.slow
def test_a_policy_answer_streams_model_tokens_then_a_checked_final_answer(
    demo_container: Container,
    nlu: NLU,
    demo_clock: FixedClock,
    chat_app: FastAPI,
    login: Any,
    smol: LlamaCppProvider,
    tmp_path: Path,
) -> None:
    use_model(demo_container, nlu, demo_clock, service_with(tmp_path, smol))
    with TestClient(chat_app, raise_server_exceptions=False) as client:
        events = stream_chat(client, login("finance"), POLICY_QUESTION)
    assert statuses(events) == ["understanding", "retrieving", "generating", "recording"]
    tokens = "".join(data["text"] for kind, data in events if kind == "token")
    assert tokens.strip()  # the model's text went out while it was written
    final = final_of(events)
    usage = final["usage"]["llm"]
    assert usage["use_case"] == "knowledge_answer"
    assert final["skill"] == "knowledge" and final["sources"]
    if usage["generated"]:
        # Kept only when every [n] it shows names a passage it was given.
        numbers = {s["number"] for s in final["sources"]}
        assert numbers and all(f"[{n}]" in final["message"] for n in numbers)
    else:
        # The extractive answer: quoted sentences from the documents, and why.
        assert usage["fallback_reason"]
        assert final["message"].startswith("From your documents")


class SlowProvider(FakeProvider):
    """Writes a long answer one word every 100 ms and counts the words it was asked for."""

    def __init__(self) -> None:
        super().__init__(["Hotels in Dhaka cost BDT 6,000 per night [1]. " * 60], delay_s=0.1)
        self.pieces = 0
        self.closed = threading.Event()

    async def stream(
        self,
        prompt: Prompt,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[str]:
        try:
            async for piece in super().stream(prompt, max_tokens=max_tokens):
                self.pieces += 1
                yield piece
        finally:
            self.closed.set()


@pytest.fixture
def live_server(chat_app: FastAPI) -> Iterator[str]:
    """The app behind a real uvicorn server on a loopback port, in a thread of this process."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(chat_app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _count_sessions(container: Container) -> Callable[[], int]:
    """The container's sessions counted from now: how many are open."""
    open_now = [0]
    lock = threading.Lock()

    class Counted(Session):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._counted = True
            with lock:
                open_now[0] += 1

        def close(self) -> None:
            try:
                super().close()
            finally:
                if self._counted:
                    self._counted = False
                    with lock:
                        open_now[0] -= 1

    container.session_factory = sessionmaker(class_=Counted, **container.session_factory.kw)
    return lambda: open_now[0]


def test_a_client_that_disconnects_stops_the_model(
    demo_container: Container,
    nlu: NLU,
    demo_clock: FixedClock,
    live_server: str,
    login: Any,
    tmp_path: Path,
) -> None:
    provider = SlowProvider()
    use_model(demo_container, nlu, demo_clock, service_with(tmp_path, provider))
    headers = login("finance")
    open_sessions = _count_sessions(demo_container)

    async def read_until_first_token() -> str:
        async with (
            httpx.AsyncClient(base_url=live_server, timeout=30) as client,
            client.stream(
                "POST", STREAM, json={"message": POLICY_QUESTION}, headers=headers
            ) as response,
        ):
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.startswith("event: token"):
                    return line
        raise AssertionError("no token event")

    assert asyncio.run(read_until_first_token())  # leaving the block closes the connection
    left = time.monotonic()
    assert provider.closed.wait(10), "the model was not stopped"
    # Unstopped, the answer would run to its length cap (~75 words, 7.5 s).
    assert time.monotonic() - left < 3
    assert provider.pieces < 25
    # The turn is still recorded, with the answer given without the model. Its session (in the
    # server's thread) is let finish first: every session of this test shares one connection
    # (savepoints, rolled back after), and two at once on it mix up each other's savepoints.
    deadline = time.monotonic() + 10
    while open_sessions():
        assert time.monotonic() < deadline, "the turn's session was not closed"
        time.sleep(0.05)
    while True:
        listed = httpx.get(f"{live_server}/api/v1/ai/conversations", headers=headers).json()
        if listed["items"]:
            break
        assert time.monotonic() < deadline, "the turn was not recorded"
        time.sleep(0.05)
    detail = httpx.get(
        f"{live_server}/api/v1/ai/conversations/{listed['items'][0]['id']}", headers=headers
    ).json()
    assert detail["messages"][1]["content"].startswith("From your documents")


def remote_service(tmp_path: Path, base_url: str) -> LLMService:
    """An LLM service whose every use case goes to an OpenAI-compatible server (no retries)."""
    provider = OpenAICompatProvider(
        base_url, SERVED_MODEL, retries=0, timeout_s=60.0, connect_timeout_s=2.0
    )
    return service_with(tmp_path, provider)


def test_an_unreachable_model_server_leaves_the_quoted_answer(
    demo_container: Container,
    nlu: NLU,
    demo_clock: FixedClock,
    chat_app: FastAPI,
    login: Any,
    tmp_path: Path,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    use_model(demo_container, nlu, demo_clock, remote_service(tmp_path, closed))
    with TestClient(chat_app, raise_server_exceptions=False) as client:
        events = stream_chat(client, login("finance"), POLICY_QUESTION)
    final = final_of(events)
    assert final["usage"]["llm"]["fallback_reason"] == "provider_failed"
    assert final["message"].startswith("From your documents") and final["sources"]
    assert not [e for e in events if e[0] == "token"]


@pytest.mark.slow
def test_a_model_server_killed_while_answering_leaves_the_quoted_answer(
    demo_container: Container,
    nlu: NLU,
    demo_clock: FixedClock,
    chat_app: FastAPI,
    login: Any,
    tmp_path: Path,
) -> None:
    server = start_server(resolve_model_path(None), tmp_path)
    try:
        use_model(demo_container, nlu, demo_clock, remote_service(tmp_path, server.base_url))
        body = {"message": POLICY_QUESTION}
        with (
            TestClient(chat_app, raise_server_exceptions=False) as client,
            client.stream("POST", STREAM, json=body, headers=login("finance")) as response,
        ):
            events: list[Event] = []
            for event in parse_sse(response.iter_lines()):
                events.append(event)
                if event == ("status", {"step": "generating"}):
                    server.process.kill()  # the request is on its way: the model dies under it
        final = final_of(events)
        usage = final["usage"]["llm"]
        assert usage["generated"] is False and usage["fallback_reason"] == "provider_failed"
        assert final["message"].startswith("From your documents") and final["sources"]
        # The next question is answered too (the dead server is a fault, not a crash).
        with TestClient(chat_app, raise_server_exceptions=False) as client:
            again = final_of(stream_chat(client, login("finance"), POLICY_QUESTION))
        assert again["usage"]["llm"]["fallback_reason"] == "provider_failed"
        health = demo_container.llm().health["default"].snapshot()
        assert health["consecutive_failures"] >= 2 and health["last_error"], health
    finally:
        server.stop()
