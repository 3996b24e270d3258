"""API-key rotation on 429 for the OpenAI-compatible provider, against a rate-limited API.

llama-cpp-python's server has no per-key rate limits, so a cloud API's limiter is stood in
for by an ``httpx.MockTransport`` that speaks the OpenAI wire format (STYLE 16: a double at
the transport, where the real peer can't do it). Real-server behaviour is in
test_llm_openai_compat.py.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from companion.llm import LLMError, LLMRateLimited
from companion.llm.providers.openai_compat import OpenAICompatProvider
from llmserver import SERVED_MODEL, RemoteFactory

BASE_URL = "http://limited-api.test/v1"
RETRY_AFTER_S = 30


class RateLimitedAPI:
    """An OpenAI-compatible API that answers 429 (Retry-After: 30) to limited keys, as a
    transport."""

    def __init__(self, *limited: str) -> None:
        self.limited = set(limited)
        self.seen: list[str] = []
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.seen.append(key)
        if key in self.limited:
            return httpx.Response(
                429,
                headers={"Retry-After": str(RETRY_AFTER_S)},
                json={"error": {"message": "rate limited"}},
            )
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": [{"id": SERVED_MODEL}]})
        body = json.loads(request.content)
        if body.get("stream"):
            events = [_delta("The office opens"), _delta(" at 9 am.", finish="stop")]
            sse = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
            return httpx.Response(
                200, headers={"Content-Type": "text/event-stream"}, content=sse.encode()
            )
        return httpx.Response(
            200,
            json={
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "At 9 am."},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 12, "completion_tokens": 4},
            },
        )


def _delta(content: str, finish: str | None = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> RateLimitedAPI:
    limited = RateLimitedAPI("key-limited")
    transport = limited.transport

    # The provider takes transport= for its requests, but stream() opens an AsyncClient of its
    # own; give that one the same transport.
    class AsyncClient(httpx.AsyncClient):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(transport=transport, **kwargs)

    monkeypatch.setattr(httpx, "AsyncClient", AsyncClient)
    return limited


def collect(client: OpenAICompatProvider, prompt: str, **kwargs: Any) -> list[str]:
    async def run() -> list[str]:
        return [piece async for piece in client.stream(prompt, **kwargs)]

    return asyncio.run(run())


def test_keys_rotate_on_429_with_a_cooldown(api: RateLimitedAPI, remote: RemoteFactory) -> None:
    now = [0.0]
    client = remote(
        BASE_URL,
        api_keys=["key-limited", "key-good"],
        transport=api.transport,
        clock=lambda: now[0],
    )
    result = client.generate("When does the office open?", max_tokens=8, temperature=0.0)
    assert result.text == "At 9 am." and result.tokens_out == 4
    # The model check met the 429 first and moved on to the next key.
    assert api.seen == ["key-limited", "key-good", "key-good"]
    assert client.keys.cooling() == 1
    # The limited key rests for the server's Retry-After: the next calls skip it.
    api.seen.clear()
    now[0] = RETRY_AFTER_S - 1
    client.generate("Say hi.", max_tokens=2)
    assert "".join(collect(client, "Say hi.", max_tokens=4)) == "The office opens at 9 am."
    assert api.seen == ["key-good", "key-good"]
    # Once the Retry-After has passed, the key is tried again (and cools again on a 429).
    api.seen.clear()
    now[0] = RETRY_AFTER_S + 1
    assert client.keys.cooling() == 0
    client.generate("Say hi.", max_tokens=2)
    client.generate("Say hi.", max_tokens=2)
    assert api.seen.count("key-limited") == 1 and api.seen.count("key-good") == 2
    assert client.keys.cooling() == 1


def test_every_key_limited_is_rate_limited(api: RateLimitedAPI, remote: RemoteFactory) -> None:
    client = remote(BASE_URL, api_keys=["key-limited"], transport=api.transport)
    with pytest.raises(LLMError) as caught:
        client.generate("hi", max_tokens=2)
    assert isinstance(caught.value, LLMRateLimited)
    assert caught.value.status_code == 503
    assert caught.value.details["retry_after_s"] == RETRY_AFTER_S
    # No retry spent on a limit: one request, then the clear error.
    assert api.seen == ["key-limited"]


def test_a_stream_rotates_on_429_and_is_rate_limited_when_every_key_is(
    api: RateLimitedAPI, remote: RemoteFactory
) -> None:
    client = remote(BASE_URL, api_keys=["key-a", "key-b"], transport=api.transport)
    client.generate("hi", max_tokens=2)  # the model check and one call: a, then b
    api.seen.clear()
    api.limited = {"key-a"}
    assert "".join(collect(client, "hi")) == "The office opens at 9 am."
    assert api.seen == ["key-a", "key-b"] and client.keys.cooling() == 1
    api.limited = {"key-a", "key-b"}
    with pytest.raises(LLMRateLimited) as caught:
        collect(client, "hi")
    assert caught.value.status_code == 503
    assert caught.value.details["retry_after_s"] == RETRY_AFTER_S
    assert api.seen[2:] == ["key-b"] and client.keys.cooling() == 2
