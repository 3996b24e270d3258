"""Personal data kept from external providers: a port for a scrubber and a provider wrapper.

A provider marked ``external`` (a cloud API, a server another party runs) is wrapped in
``PrivateProvider``: every prompt it is sent has its personal data replaced with typed
placeholders (``<EMAIL_1>``) first, and the placeholders in its reply are put back when the
provider's policy allows (``restore_pii``). ``llm`` knows no detector: the scrubber is a
port, filled by the composition root with governance's PII redactor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol

from companion.llm.providers.base import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_TEMPERATURE,
    Generation,
    LLMProvider,
    Message,
    ProbeResult,
    Prompt,
    as_messages,
)

Restore = Callable[[str], str]


class PromptScrubber(Protocol):
    """Replaces personal data in texts with placeholders numbered across all of them."""

    def scrub(self, texts: Sequence[str]) -> tuple[list[str], Restore]:
        """The texts scrubbed, and a function putting the values back into a reply."""
        ...


def _keep(text: str) -> str:
    return text


class _StreamRestorer:
    """Restores placeholders in a stream, holding back a piece that may end mid-placeholder."""

    # Longest placeholder held back: "<" + type + "_" + number + ">".
    _HOLD = 24

    def __init__(self, restore: Restore) -> None:
        self._restore = restore
        self._pending = ""

    def feed(self, piece: str) -> str:
        text = self._pending + piece
        cut = text.rfind("<")
        if cut >= 0 and ">" not in text[cut:] and len(text) - cut <= self._HOLD:
            self._pending = text[cut:]
            text = text[:cut]
        else:
            self._pending = ""
        return self._restore(text) if text else ""

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return self._restore(text) if text else ""


class PrivateProvider(LLMProvider):
    """An external provider that never sees personal data: prompts scrubbed, replies restored."""

    def __init__(self, inner: LLMProvider, scrubber: PromptScrubber, *, restore: bool) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.structured_retries = inner.structured_retries
        self._scrubber = scrubber
        self._restore = restore

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def context_size(self) -> int:
        return self.inner.context_size

    def _scrubbed(self, prompt: Prompt) -> tuple[list[Message], Restore]:
        messages = as_messages(prompt)
        texts, restore = self._scrubber.scrub([m.get("content", "") for m in messages])
        scrubbed = [{**m, "content": text} for m, text in zip(messages, texts, strict=True)]
        return scrubbed, restore if self._restore else _keep

    def _restored(self, generation: Generation, restore: Restore) -> Generation:
        text = restore(generation.text)
        if text == generation.text:
            return generation
        return Generation(
            text=text,
            tokens_in=generation.tokens_in,
            tokens_out=generation.tokens_out,
            latency_ms=generation.latency_ms,
            model=generation.model,
            provider=generation.provider,
            cached=generation.cached,
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
        """The inner provider's completion of the scrubbed prompt, placeholders put back."""
        messages, restore = self._scrubbed(prompt)
        generation = self.inner.generate(
            messages, max_tokens=max_tokens, temperature=temperature, stop=stop, timeout=timeout
        )
        return self._restored(generation, restore)

    def generate_json(
        self,
        messages: Prompt,
        json_schema: dict[str, Any],
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = 0.0,
        timeout: float | None = None,
    ) -> Generation:
        """JSON from the inner provider for the scrubbed prompt, placeholders put back."""
        scrubbed, restore = self._scrubbed(messages)
        generation = self.inner.generate_json(
            scrubbed, json_schema, max_tokens=max_tokens, temperature=temperature, timeout=timeout
        )
        return self._restored(generation, restore)

    async def stream(
        self,
        prompt: Prompt,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[str]:
        """The inner provider's stream for the scrubbed prompt, placeholders put back."""
        messages, restore = self._scrubbed(prompt)
        restorer = _StreamRestorer(restore)
        pieces = self.inner.stream(
            messages, max_tokens=max_tokens, temperature=temperature, stop=stop, timeout=timeout
        )
        try:
            async for piece in pieces:
                out = restorer.feed(piece)
                if out:
                    yield out
            tail = restorer.flush()
            if tail:
                yield tail
        finally:
            closer = getattr(pieces, "aclose", None)
            if closer is not None:
                await closer()

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def count_message_tokens(self, messages: Sequence[Message]) -> int:
        return self.inner.count_message_tokens(messages)

    def health(self) -> ProbeResult:
        return self.inner.health()

    def with_model(self, model: str) -> LLMProvider:
        return PrivateProvider(self.inner.with_model(model), self._scrubber, restore=self._restore)

    def close(self) -> None:
        self.inner.close()


def private(
    factory: Callable[[], LLMProvider], scrubber: PromptScrubber, *, restore: bool
) -> Callable[[], LLMProvider]:
    """A provider factory whose providers are wrapped in ``PrivateProvider``."""

    def build() -> LLMProvider:
        return PrivateProvider(factory(), scrubber, restore=restore)

    return build
