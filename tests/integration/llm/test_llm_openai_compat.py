"""The OpenAI-compatible provider against a real server: llama-cpp-python's own, on loopback.

Key rotation on 429 needs a rate-limited API: test_llm_openai_compat_keys.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import BaseModel

from companion.llm import (
    LLMBadResponse,
    LLMModelNotFound,
    LLMService,
    LLMTimeout,
    LLMUnavailable,
    PolicyBook,
    ProviderRegistry,
)
from companion.llm.providers.llamacpp import LlamaCppProvider
from companion.llm.providers.openai_compat import OpenAICompatProvider
from llmserver import SERVED_MODEL, RemoteFactory, Server, free_port, start_server

# Real model calls: quick on an idle machine, seconds each on a loaded 2-core one.
pytestmark = pytest.mark.slow

GROUNDED = [
    {
        "role": "user",
        "content": "Passage: The office opens at 9 am.\n"
        "Question: When does the office open? Answer briefly.",
    }
]


def collect(stream_of: OpenAICompatProvider, prompt: object, **kwargs: object) -> list[str]:
    async def run() -> list[str]:
        return [p async for p in stream_of.stream(prompt, **kwargs)]  # type: ignore[arg-type]

    return asyncio.run(run())


def test_generate(llama_server: Server, remote: RemoteFactory) -> None:
    client = remote(llama_server.base_url)
    result = client.generate(GROUNDED, max_tokens=16, temperature=0.0)
    assert "9" in result.text
    assert result.tokens_in > 10 and 0 < result.tokens_out <= 16
    assert result.model == SERVED_MODEL and result.provider == "openai_compat"


def test_stream_over_sse(llama_server: Server, remote: RemoteFactory) -> None:
    client = remote(llama_server.base_url)
    pieces = collect(client, GROUNDED, max_tokens=12, temperature=0.0)
    assert len(pieces) > 1
    assert "".join(pieces) == client.generate(GROUNDED, max_tokens=12, temperature=0.0).text


def test_closing_the_stream_early_is_clean(llama_server: Server, remote: RemoteFactory) -> None:
    client = remote(llama_server.base_url)

    async def first_two() -> list[str]:
        pieces: list[str] = []
        stream = client.stream("Tell me a long story.", max_tokens=60)
        async for piece in stream:
            pieces.append(piece)
            if len(pieces) == 2:
                break
        await stream.aclose()  # type: ignore[attr-defined]
        return pieces

    assert len(asyncio.run(first_two())) == 2
    # The server is still fine for the next request.
    assert client.generate("Say hi.", max_tokens=3).text


class Invoice(BaseModel):
    customer: str
    amount: int


def test_structured_output_steps_down_to_the_servers_schema_form(
    llama_server: Server, remote: RemoteFactory
) -> None:
    client = remote(llama_server.base_url)
    value = client.generate_structured(
        "Invoice for customer Rahim Traders, amount 5000. Reply as JSON.", Invoice, max_tokens=48
    )
    assert isinstance(value, Invoice)
    # llama-cpp-python's server refuses OpenAI's json_schema form; its own form is kept after.
    assert client._structured_mode == "json_object"


def test_wrong_model_name_is_a_clear_error(llama_server: Server, remote: RemoteFactory) -> None:
    client = remote(llama_server.base_url, model="gpt-4o")
    with pytest.raises(LLMModelNotFound) as caught:
        client.generate("hi", max_tokens=2)
    assert "gpt-4o" in caught.value.message and SERVED_MODEL in caught.value.message
    probe = client.health()
    assert not probe.ok and "gpt-4o" in probe.detail
    assert remote(llama_server.base_url).health().ok


def test_unreachable_base_url_is_unavailable_and_falls_back(
    smol: LlamaCppProvider, remote: RemoteFactory
) -> None:
    dead = remote(f"http://127.0.0.1:{free_port()}/v1", retries=1)
    with pytest.raises(LLMUnavailable, match="Cannot reach"):
        dead.generate("hi", max_tokens=2)
    with pytest.raises(LLMUnavailable):
        collect(dead, "hi", max_tokens=2)
    policies = PolicyBook(
        [
            {
                "providers": {"local": {"kind": "llamacpp"}},
                "use_cases": {"summarize": {"fallback": ["local"], "max_tokens": 12}},
            }
        ]
    )
    llm = LLMService(ProviderRegistry({"default": lambda: dead, "local": lambda: smol}), policies)
    result = llm.generate("summarize", "acme", GROUNDED)
    assert result.provider == "llamacpp" and "9" in result.text
    assert llm.health["default"].snapshot()["error_rate"] == 1.0


def test_read_timeout_is_a_timeout(llama_server: Server, remote: RemoteFactory) -> None:
    client = remote(llama_server.base_url)
    with pytest.raises(LLMTimeout):
        client.generate("Write a long poem about the sea.", max_tokens=300, timeout=0.05)


def test_server_killed_mid_stream(
    model_path: Path, tmp_path: Path, smol: LlamaCppProvider, remote: RemoteFactory
) -> None:
    server = start_server(model_path, tmp_path)
    try:
        client = remote(server.base_url, retries=1)

        async def stream_then_kill() -> list[str]:
            pieces: list[str] = []
            async for piece in client.stream("Write a very long story.", max_tokens=400):
                pieces.append(piece)
                if len(pieces) == 2:
                    server.process.kill()
            return pieces

        with pytest.raises(LLMBadResponse, match="broke off|ended before"):
            asyncio.run(stream_then_kill())
        server.process.wait(timeout=10)
        # Stopped: the next call is a clear unavailability, and the service falls back.
        with pytest.raises(LLMUnavailable):
            client.generate("hi", max_tokens=2)
        policies = PolicyBook(
            [
                {
                    "providers": {"local": {"kind": "llamacpp"}},
                    "use_cases": {"summarize": {"fallback": ["local"], "max_tokens": 4}},
                }
            ]
        )
        registry = ProviderRegistry({"default": lambda: client, "local": lambda: smol})
        assert LLMService(registry, policies).generate("summarize", "x", "hi").text
    finally:
        server.stop()


def test_oversize_prompt_is_refused_raw_and_truncated_by_policy(
    llama_server: Server, remote: RemoteFactory
) -> None:
    # Configured smaller than the server's 2048 so the cut prompt stays quick to evaluate.
    client = remote(llama_server.base_url, context_size=512, retries=0)
    long = "Passage: " + "The warehouse is in Dhaka. " * 700 + "\nQuestion: Where is it?"
    # Sent as is, the server refuses it: a clear error, not a hang or a 500 to our caller.
    with pytest.raises(LLMBadResponse) as caught:
        client.generate(long, max_tokens=4)
    assert caught.value.details["status"] in {400, 500}
    # Through the service the policy cuts it to the context first, and the server answers.
    policies = PolicyBook([{"use_cases": {"summarize": {"max_tokens": 4, "timeout_s": 120}}}])
    llm = LLMService(ProviderRegistry({"default": lambda: client}), policies)
    result = llm.generate("summarize", "acme", long)
    assert 0 < result.tokens_in <= 512 - 4 and result.text
