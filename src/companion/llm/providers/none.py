"""The provider for "no language model": every call is unavailable, so callers fall back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from companion.llm.errors import LLMUnavailable
from companion.llm.providers.base import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_TEMPERATURE,
    Generation,
    LLMProvider,
    ProbeResult,
    Prompt,
)

REASON = "No language model is configured (COMPANION_LLM__PROVIDER=none)"


class NoneProvider(LLMProvider):
    """Always unavailable: the grounded and extractive paths answer instead."""

    kind = "none"

    @property
    def model(self) -> str:
        return "none"

    @property
    def context_size(self) -> int:
        return 0

    def generate(
        self,
        prompt: Prompt,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> Generation:
        raise LLMUnavailable(REASON)

    def generate_json(
        self,
        messages: Prompt,
        json_schema: dict[str, Any],
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = 0.0,
        timeout: float | None = None,
    ) -> Generation:
        raise LLMUnavailable(REASON)

    async def stream(
        self,
        prompt: Prompt,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[str]:
        raise LLMUnavailable(REASON)
        yield ""  # pragma: no cover - makes this an async generator

    def count_tokens(self, text: str) -> int:
        # A rough word count, so callers can still budget prompts with no model at all.
        return len(text.split())

    def health(self) -> ProbeResult:
        return ProbeResult(
            provider=self.kind, model="none", ok=False, latency_ms=0.0, detail=REASON
        )
