"""The in-process llama.cpp provider with the real SmolLM2 model."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from companion.llm import (
    FakeProvider,
    LLMInvalidOutput,
    LLMService,
    LLMTimeout,
    PolicyBook,
    ProviderRegistry,
)
from companion.llm.providers.llamacpp import LlamaCppProvider, LlamaModels, grammar_schema

# Real model calls: quick on an idle machine, seconds each on a loaded 2-core one.
pytestmark = pytest.mark.slow

GROUNDED = [
    {
        "role": "user",
        "content": "Passage: The office opens at 9 am.\n"
        "Question: When does the office open? Answer briefly.",
    }
]


def test_answers_a_short_grounded_question(smol: LlamaCppProvider) -> None:
    result = smol.generate(GROUNDED, max_tokens=16, temperature=0.0)
    assert "9" in result.text
    assert result.provider == "llamacpp" and result.model.startswith("SmolLM2")
    assert 0 < result.tokens_out <= 16
    assert result.tokens_in >= smol.count_tokens(GROUNDED[0]["content"])
    assert result.latency_ms > 0 and not result.cached


def test_model_is_loaded_once_per_path(
    smol: LlamaCppProvider, model_path: Path, llama_models: LlamaModels
) -> None:
    again = LlamaCppProvider(model_path, models=llama_models, n_ctx=2048, n_threads=1)
    assert llama_models.load(model_path, n_ctx=2048, n_threads=1).llama is smol._llama
    assert again._llama is smol._llama


class Invoice(BaseModel):
    customer: str
    amount: int


def test_structured_output_is_valid_json_of_the_schema(smol: LlamaCppProvider) -> None:
    value = smol.generate_structured(
        "Invoice for customer Rahim Traders, amount 5000. Reply as JSON.",
        Invoice,
        max_tokens=48,
    )
    assert isinstance(value, Invoice)
    assert value.customer.strip() != ""


def test_cut_off_structured_output_is_a_clear_error(smol: LlamaCppProvider) -> None:
    # Three tokens cannot finish the object: the grammar kept it JSON-shaped, validation fails.
    with pytest.raises(LLMInvalidOutput) as caught:
        smol.generate_structured("Invoice for Rahim, amount 5000.", Invoice, max_tokens=3)
    assert caught.value.raw.startswith("{")


def test_invalid_json_falls_back_to_the_local_model(smol: LlamaCppProvider) -> None:
    broken = FakeProvider(['{"customer": "x"'], name="broken")
    registry = ProviderRegistry({"default": lambda: broken, "local": lambda: smol})
    policies = PolicyBook(
        [
            {
                "providers": {"local": {"kind": "llamacpp"}},
                "use_cases": {
                    "tool_choice": {
                        "provider": "default",
                        "fallback": ["local"],
                        "max_tokens": 48,
                        "temperature": 0.0,
                    }
                },
            }
        ]
    )
    llm = LLMService(registry, policies)
    result = llm.generate_structured("tool_choice", "acme", "Invoice for Rahim, 5000.", Invoice)
    assert result.generation.provider == "llamacpp"
    assert isinstance(result.value, Invoice)


def test_stream_yields_pieces_and_cancelling_stops_generation(smol: LlamaCppProvider) -> None:
    async def first_pieces() -> list[str]:
        pieces: list[str] = []
        stream = smol.stream("Tell me a long story about a cat.", max_tokens=400)
        async for piece in stream:
            pieces.append(piece)
            if len(pieces) == 3:
                break
        await stream.aclose()  # type: ignore[attr-defined]
        return pieces

    before = smol._llama.n_tokens
    pieces = asyncio.run(first_pieces())
    assert len(pieces) == 3 and all(pieces)
    # The worker stops at its next token and releases the model, long before 400 tokens.
    deadline = time.monotonic() + 5
    while smol.busy and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not smol.busy
    assert smol._llama.n_tokens - before < 60


def test_a_cancelled_task_stops_the_stream(smol: LlamaCppProvider) -> None:
    async def run() -> int:
        seen = 0

        async def consume() -> None:
            nonlocal seen
            async for _ in smol.stream("Write a very long poem.", max_tokens=400):
                seen += 1

        task = asyncio.create_task(consume())
        while seen < 2:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return seen

    seen = asyncio.run(run())
    deadline = time.monotonic() + 5
    while smol.busy and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen >= 2 and not smol.busy


def test_stream_text_matches_generate(smol: LlamaCppProvider) -> None:
    async def collect() -> str:
        return "".join([p async for p in smol.stream(GROUNDED, max_tokens=12, temperature=0.0)])

    assert asyncio.run(collect()) == smol.generate(GROUNDED, max_tokens=12, temperature=0.0).text


def test_count_tokens(smol: LlamaCppProvider) -> None:
    assert smol.count_tokens("") == 0
    assert smol.count_tokens("hello world") == 2
    assert smol.count_tokens("hello world " * 50) > smol.count_tokens("hello world")
    assert smol.context_size == 2048


def test_timeout_is_a_clear_error(smol: LlamaCppProvider) -> None:
    with pytest.raises(LLMTimeout):
        smol.generate("Write a very long poem about the sea.", max_tokens=400, timeout=0.01)


def test_a_busy_model_times_out_waiting(smol: LlamaCppProvider) -> None:
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with smol._hold(None):
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    try:
        with pytest.raises(LLMTimeout, match="busy"):
            smol.generate("hi", max_tokens=2, timeout=0.05)
    finally:
        release.set()
        holder.join()


def test_health_probe(smol: LlamaCppProvider) -> None:
    probe = smol.health()
    assert probe.ok and probe.provider == "llamacpp" and probe.latency_ms > 0


def test_service_with_the_real_model_truncates_and_caches(
    model_path: Path, llama_models: LlamaModels
) -> None:
    # A 512-token context keeps the test quick; the same file, loaded once more.
    small = LlamaCppProvider(model_path, models=llama_models, n_ctx=512, n_threads=1)
    policies = PolicyBook(
        [{"use_cases": {"summarize": {"max_tokens": 8, "cache_ttl_s": 60, "timeout_s": 120}}}]
    )
    llm = LLMService(ProviderRegistry({"default": lambda: small}), policies)
    # Far over the context: cut to fit, never sent over it (llama.cpp would refuse it).
    long = "Passage: " + "The warehouse is in Dhaka. " * 150 + "\nQuestion: Where is it?"
    assert small.count_tokens(long) > small.context_size
    first = llm.generate("summarize", "acme", long, data_fingerprint="doc-1")
    second = llm.generate("summarize", "acme", long, data_fingerprint="doc-1")
    assert first.tokens_in <= small.context_size - 8 and not first.cached
    assert second.cached and second.text == first.text


def test_prompt_over_the_context_is_a_clear_error_not_a_crash(smol: LlamaCppProvider) -> None:
    from companion.llm import LLMBadResponse

    long = "The warehouse is in Dhaka. " * 500
    with pytest.raises(LLMBadResponse, match="refused"):
        smol.generate(long, max_tokens=4)
    assert not smol.busy
    assert smol.generate(GROUNDED, max_tokens=4, temperature=0.0).text  # still usable


class LongFields(BaseModel):
    subject: str = Field(max_length=4000)
    body: str = Field(max_length=4000)


def test_long_string_limits_do_not_blow_up_the_grammar(smol: LlamaCppProvider) -> None:
    # Spelled out in the grammar, maxLength 4000 nested 4000 optional characters and crashed
    # the sampler; the limit is checked on the result instead.
    draft = smol.generate_structured(
        "Write a two-line e-mail reminding Rahim to pay invoice INV-2026-0001.",
        LongFields,
        max_tokens=80,
    )
    assert isinstance(draft, LongFields)
    assert grammar_schema(LongFields.model_json_schema())["properties"]["body"] == {
        "title": "Body",
        "type": "string",
    }
