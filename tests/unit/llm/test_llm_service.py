"""LLMService with scripted providers: policy, fallback, breaker, cache, truncation, streams."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import BaseModel

from companion.llm import (
    Breaker,
    FakeProvider,
    LLMError,
    LLMInvalidOutput,
    LLMPromptTooLong,
    LLMService,
    LLMTimeout,
    LLMUnavailable,
    PolicyBook,
    ProviderRegistry,
)
from companion.llm.providers.fake import lie_about_numbers
from companion.llm.truncate import SAFETY_MARGIN, fit_messages

QUESTION = [{"role": "user", "content": "what is the travel policy?"}]


def book(tmp_path: Path, text: str) -> PolicyBook:
    path = tmp_path / "policies.yml"
    path.write_text(text, encoding="utf-8")
    return PolicyBook.load(path)


SITE = """
providers:
  backup: {kind: none}
health: {failure_threshold: 2, cooldown_s: 60}
use_cases:
  summarize:
    provider: default
    fallback: [backup2]
    cache_ttl_s: 0
  knowledge_answer:
    enabled: true
    cache_ttl_s: 300
"""


def service(
    tmp_path: Path, primary: FakeProvider, backup: FakeProvider | None = None, site: str = SITE
) -> LLMService:
    factories = {"default": lambda: primary}
    if backup is not None:
        factories["backup2"] = lambda: backup
    text = site if backup is not None else site.replace("fallback: [backup2]", "fallback: []")
    text = text.replace("  backup: {kind: none}", "  backup: {kind: none}\n  backup2: {kind: none}")
    return LLMService(ProviderRegistry(factories), book(tmp_path, text))


def test_generate_follows_the_policy(tmp_path: Path) -> None:
    primary = FakeProvider(["Bookings 14 days ahead."])
    llm = service(tmp_path, primary)
    result = llm.generate("summarize", "acme", QUESTION)
    assert result.text == "Bookings 14 days ahead." and result.provider == "fake"
    call = primary.calls[0]
    assert call["max_tokens"] == 256 and call["temperature"] == 0.2


def test_fallback_chain_is_used_when_the_provider_fails(tmp_path: Path) -> None:
    primary = FakeProvider(["never"], name="primary")
    backup = FakeProvider(["from backup"], name="backup")
    primary.fail_next(LLMTimeout("slow"))
    llm = service(tmp_path, primary, backup)
    result = llm.generate("summarize", "acme", QUESTION)
    assert result.text == "from backup" and result.provider == "backup"
    assert llm.health["default"].consecutive_failures == 1
    assert llm.health["backup2"].snapshot()["calls"] == 1


def test_breaker_opens_and_the_open_provider_is_skipped(tmp_path: Path) -> None:
    primary = FakeProvider(["primary ok"], name="primary")
    backup = FakeProvider(["backup ok"], name="backup")
    primary.fail_next(LLMTimeout("1"), LLMTimeout("2"))
    llm = service(tmp_path, primary, backup)
    llm.generate("summarize", "acme", QUESTION)
    llm.generate("summarize", "acme", QUESTION)
    assert llm.health["default"].breaker is Breaker.OPEN
    calls_before = len(primary.calls)
    result = llm.generate("summarize", "acme", QUESTION)
    assert result.provider == "backup"
    assert len(primary.calls) == calls_before  # not even tried while open
    providers = {p["provider"]: p for p in llm.status()["providers"]}
    assert providers["default"]["breaker"] == "open"
    assert providers["backup2"]["status"] == "healthy"


def test_every_provider_failing_is_one_clear_error(tmp_path: Path) -> None:
    primary = FakeProvider(name="primary")
    backup = FakeProvider(name="backup")
    primary.fail_next(LLMTimeout("slow"))
    backup.fail_next(LLMUnavailable("down"))
    llm = service(tmp_path, primary, backup)
    with pytest.raises(LLMUnavailable) as caught:
        llm.generate("summarize", "acme", QUESTION)
    assert [a["code"] for a in caught.value.details["attempts"]] == [
        "llm_timeout",
        "llm_unavailable",
    ]


def test_disabled_use_case_never_calls_a_model(tmp_path: Path) -> None:
    primary = FakeProvider()
    llm = service(tmp_path, primary)
    assert not llm.enabled("chat", "acme")
    with pytest.raises(LLMUnavailable):
        llm.generate("chat", "acme", QUESTION)
    assert primary.calls == []


def test_cache_hit_is_marked_and_scoped_by_company_and_data(tmp_path: Path) -> None:
    primary = FakeProvider(["first", "second", "third", "fourth"])
    llm = service(tmp_path, primary)
    first = llm.generate("knowledge_answer", "acme", QUESTION, data_fingerprint="kb-v1")
    again = llm.generate("knowledge_answer", "acme", QUESTION, data_fingerprint="kb-v1")
    assert not first.cached and again.cached and again.text == "first"
    other_company = llm.generate("knowledge_answer", "globex", QUESTION, data_fingerprint="kb-v1")
    assert not other_company.cached and other_company.text == "second"
    new_data = llm.generate("knowledge_answer", "acme", QUESTION, data_fingerprint="kb-v2")
    assert not new_data.cached and new_data.text == "third"
    assert len(primary.calls) == 3


class Person(BaseModel):
    name: str
    age: int


def test_structured_output_is_validated(tmp_path: Path) -> None:
    llm = service(tmp_path, FakeProvider(['{"name": "Bob", "age": 30}']))
    result = llm.generate_structured("summarize", "acme", QUESTION, Person)
    assert result.value == Person(name="Bob", age=30)


def test_invalid_json_raises_alone_and_falls_back_with_a_chain(tmp_path: Path) -> None:
    liar = FakeProvider(["{not json"], name="bad")
    with pytest.raises(LLMInvalidOutput) as caught:
        service(tmp_path, liar).generate_structured("summarize", "acme", QUESTION, Person)
    assert caught.value.raw == "{not json"
    wrong_shape = FakeProvider(['{"name": "Bob"}'], name="bad")
    good = FakeProvider(['{"name": "Ann", "age": 41}'], name="good")
    llm = service(tmp_path, wrong_shape, good)
    result = llm.generate_structured("summarize", "acme", QUESTION, Person)
    assert result.value.name == "Ann" and result.generation.provider == "good"
    assert llm.health["default"].snapshot()["error_rate"] == 1.0


def test_structured_retry_shows_the_model_its_error() -> None:
    provider = FakeProvider(["{oops", '{"name": "Bob", "age": 3}'])
    provider.structured_retries = 1
    assert provider.generate_structured(QUESTION, Person).age == 3
    retry_messages = provider.calls[1]["messages"]
    assert retry_messages[-2] == {"role": "assistant", "content": "{oops"}
    assert "not a valid Person" in retry_messages[-1]["content"]


def test_prompt_is_truncated_to_the_context_never_over() -> None:
    provider = FakeProvider(context_size=200)
    history = [{"role": "system", "content": "Be brief."}]
    for turn in range(30):
        history.append({"role": "user", "content": f"question {turn} " + "word " * 10})
        history.append({"role": "assistant", "content": "answer " * 10})
    history.append({"role": "user", "content": "the last question"})
    fitted = fit_messages(provider, history, max_tokens=64)
    assert provider.count_message_tokens(fitted) <= 200 - 64 - SAFETY_MARGIN
    assert fitted[0]["content"] == "Be brief."
    assert fitted[-1]["content"] == "the last question"
    assert len(fitted) < len(history)


def test_one_oversize_message_is_cut_in_the_middle() -> None:
    provider = FakeProvider(context_size=120)
    long = "start " + "passage " * 500 + "question?"
    fitted = fit_messages(provider, [{"role": "user", "content": long}], max_tokens=40)
    text = fitted[0]["content"]
    assert provider.count_message_tokens(fitted) <= 120 - 40 - SAFETY_MARGIN
    assert text.startswith("start") and text.endswith("question?") and "[...]" in text


def test_error_mode_refuses_an_oversize_prompt(tmp_path: Path) -> None:
    provider = FakeProvider(context_size=100)
    with pytest.raises(LLMPromptTooLong):
        fit_messages(
            provider, [{"role": "user", "content": "w " * 500}], max_tokens=10, mode="error"
        )
    site = SITE + "  draft_email:\n    truncate: error\n"
    llm = service(tmp_path, provider, site=site)
    with pytest.raises(LLMPromptTooLong):
        llm.generate("draft_email", "acme", [{"role": "user", "content": "w " * 500}])
    assert provider.calls == []


def test_stream_falls_back_before_the_first_piece(tmp_path: Path) -> None:
    primary = FakeProvider(["never"], name="primary")
    primary.fail_next(LLMUnavailable("down"))
    backup = FakeProvider(["streamed from backup"], name="backup")
    llm = service(tmp_path, primary, backup)

    async def collect() -> list[str]:
        return [piece async for piece in llm.stream("summarize", "acme", QUESTION)]

    assert "".join(asyncio.run(collect())) == "streamed from backup"


def test_stream_is_cached_whole(tmp_path: Path) -> None:
    primary = FakeProvider(["one two three", "other"])
    llm = service(tmp_path, primary)

    async def collect() -> list[str]:
        return [p async for p in llm.stream("knowledge_answer", "acme", QUESTION)]

    assert asyncio.run(collect()) == ["one", " two", " three"]
    assert asyncio.run(collect()) == ["one two three"]
    assert len(primary.calls) == 1


def test_none_provider_is_unavailable_everywhere() -> None:
    from companion.llm import NoneProvider

    none = NoneProvider()
    with pytest.raises(LLMUnavailable):
        none.generate("hi")

    async def consume() -> None:
        async for _ in none.stream("hi"):
            pass

    with pytest.raises(LLMError):
        asyncio.run(consume())
    assert not none.health().ok


def test_liar_mode_changes_every_figure() -> None:
    liar = FakeProvider(mode="liar")
    text = liar.generate("Cash is BDT 1,234,567.00 across 3 accounts").text
    assert text == "Cash is BDT 2,234,567.00 across 4 accounts"
    assert lie_about_numbers("9 items") == "0 items"


def test_policy_model_switches_or_is_refused_clearly(tmp_path: Path) -> None:
    from companion.llm import LLMModelNotFound
    from companion.llm.providers.openai_compat import OpenAICompatProvider

    remote = OpenAICompatProvider("http://127.0.0.1:9/v1", "small", api_keys=["k"])
    registry = ProviderRegistry({"default": lambda: remote, "fake": lambda: FakeProvider()})
    big = registry.resolve("default", "big")
    assert big.model == "big" and remote.model == "small"
    assert registry.resolve("default", "big") is big
    assert big.keys is remote.keys  # type: ignore[attr-defined]  # cooldowns shared
    with pytest.raises(LLMModelNotFound):
        registry.resolve("fake", "gpt-4o")
    registry.close()


def test_an_oversize_prompt_is_no_fault_of_the_provider(tmp_path: Path) -> None:
    from companion.llm.health import HealthBoard

    now = [0.0]
    primary = FakeProvider(["ok"], context_size=1000)
    site = SITE + "  draft_email:\n    truncate: error\n"
    site = site.replace("failure_threshold: 2", "failure_threshold: 1")
    policies = book(tmp_path, site.replace("fallback: [backup2]", "fallback: []"))
    llm = LLMService(
        ProviderRegistry({"default": lambda: primary}),
        policies,
        health=HealthBoard(policies.health, clock=lambda: now[0]),
    )
    primary.fail_next(LLMTimeout("slow"))
    with pytest.raises(LLMTimeout):
        llm.generate("draft_email", "acme", "hi")
    assert llm.health["default"].breaker is Breaker.OPEN
    now[0] = 61  # past the cooldown: half-open, one trial allowed
    with pytest.raises(LLMPromptTooLong):
        llm.generate("draft_email", "acme", "w " * 2000)
    # The trial was handed back, not spent: the next call is the trial and closes the breaker.
    assert llm.generate("draft_email", "acme", "hi").text == "ok"
    assert llm.health["default"].breaker is Breaker.CLOSED
