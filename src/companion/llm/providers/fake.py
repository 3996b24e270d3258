"""A scripted provider for tests: fixed replies, failures on cue, a "liar" that alters figures."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from companion.llm.errors import LLMError
from companion.llm.providers.base import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_TEMPERATURE,
    Generation,
    LLMProvider,
    Message,
    ProbeResult,
    Prompt,
    as_messages,
    elapsed_ms,
)

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

Script = Callable[[list[Message]], str]


def lie_about_numbers(text: str) -> str:
    """Every number in ``text`` with its first digit changed, the way a careless model errs."""

    def bump(match: re.Match[str]) -> str:
        digits = match.group(0)
        return str((int(digits[0]) + 1) % 10) + digits[1:]

    return _NUMBER.sub(bump, text)


class FakeProvider(LLMProvider):
    """Replies from a script; records every call. Raises queued errors before replying.

    Modes: ``replies`` (the given texts in turn, the last one repeating), ``echo`` (the last
    user message), ``liar`` (the last user message with every number altered), or a callable
    taking the messages.
    """

    kind = "fake"

    def __init__(
        self,
        replies: Sequence[str] | Script = ("OK",),
        *,
        mode: str = "replies",
        name: str = "fake",
        model: str = "fake-model",
        context_size: int = 2048,
        delay_s: float = 0.0,
        healthy: bool = True,
    ) -> None:
        if mode not in {"replies", "echo", "liar"}:
            raise ValueError(f"unknown fake mode {mode!r}")
        self.kind = name
        self._replies = replies
        self._mode = mode
        self._model = model
        self._context_size = context_size
        self.delay_s = delay_s
        self.healthy = healthy
        self.calls: list[dict[str, Any]] = []
        self.errors: list[LLMError] = []
        self._turn = 0

    @property
    def model(self) -> str:
        return self._model

    @property
    def context_size(self) -> int:
        return self._context_size

    def fail_next(self, *errors: LLMError) -> None:
        """Raise these errors on the next calls, one per call, before replying again."""
        self.errors.extend(errors)

    def _reply(self, messages: list[Message]) -> str:
        if self.errors:
            raise self.errors.pop(0)
        last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        if callable(self._replies):
            return self._replies(messages)
        if self._mode == "echo":
            return last_user
        if self._mode == "liar":
            return lie_about_numbers(last_user)
        reply = self._replies[min(self._turn, len(self._replies) - 1)]
        self._turn += 1
        return reply

    def _run(self, prompt: Prompt, kind: str, **params: Any) -> Generation:
        started = time.perf_counter()
        messages = as_messages(prompt)
        self.calls.append({"kind": kind, "messages": messages, **params})
        if self.delay_s:
            time.sleep(self.delay_s)
        text = self._reply(messages)
        max_tokens = int(params.get("max_tokens", DEFAULT_MAX_TOKENS))
        words = text.split(" ")
        if len(words) > max_tokens:
            text = " ".join(words[:max_tokens])
        return Generation(
            text=text,
            tokens_in=self.count_message_tokens(messages),
            tokens_out=self.count_tokens(text),
            latency_ms=elapsed_ms(started),
            model=self._model,
            provider=self.kind,
        )

    def generate(
        self,
        prompt: Prompt,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> Generation:
        return self._run(
            prompt, "generate", max_tokens=max_tokens, temperature=temperature, stop=stop
        )

    def generate_json(
        self,
        messages: Prompt,
        json_schema: dict[str, Any],
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = 0.0,
        timeout: float | None = None,
    ) -> Generation:
        return self._run(messages, "json", max_tokens=max_tokens, schema=json_schema)

    async def stream(
        self,
        prompt: Prompt,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[str]:
        generation = self._run(prompt, "stream", max_tokens=max_tokens)
        words = generation.text.split(" ")
        for index, word in enumerate(words):
            await asyncio.sleep(self.delay_s)
            yield word if index == 0 else " " + word

    def count_tokens(self, text: str) -> int:
        # Whitespace words stand in for tokens: predictable numbers for truncation tests.
        return len(text.split())

    def health(self) -> ProbeResult:
        return ProbeResult(
            provider=self.kind,
            model=self._model,
            ok=self.healthy,
            latency_ms=0.0,
            detail="" if self.healthy else "scripted unhealthy",
        )
