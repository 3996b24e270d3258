"""The language-model port: every provider generates, streams, counts and probes alike."""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from companion.llm.errors import LLMInvalidOutput

M = TypeVar("M", bound=BaseModel)

# One chat message: {"role": "system" | "user" | "assistant", "content": "..."}.
Message = dict[str, str]
Prompt = str | Sequence[Message]

DEFAULT_MAX_TOKENS = 256
DEFAULT_TEMPERATURE = 0.2


class _Switch:
    allowed = True


class ModelRequestsBlocked(RuntimeError):
    """A real model was called where the switch forbids it (unit tests use the fake)."""


def allow_model_requests(allowed: bool) -> None:
    """Allow or block real model calls process-wide; unit tests block them."""
    _Switch.allowed = allowed


def ensure_model_requests_allowed(kind: str) -> None:
    """Fail loudly, not over to a fallback, when a real model is called while blocked."""
    if not _Switch.allowed:
        raise ModelRequestsBlocked(
            f"Real model requests are blocked here ({kind}); use FakeProvider in unit tests"
        )


@dataclass(frozen=True)
class Generation:
    """One completed generation and what it cost."""

    text: str
    tokens_in: int
    tokens_out: int
    latency_ms: float
    model: str
    provider: str
    cached: bool = False

    def as_cached(self) -> Generation:
        """The same generation, marked as served from the cache."""
        return replace(self, cached=True)


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of a provider's health probe."""

    provider: str
    model: str
    ok: bool
    latency_ms: float
    detail: str = ""


def as_messages(prompt: Prompt) -> list[Message]:
    """A bare string becomes one user message; message lists are copied."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [dict(message) for message in prompt]


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema constraining a structured generation into ``model``."""
    return model.model_json_schema()


def parse_structured(text: str, schema: type[M]) -> M:
    """Validate a model's JSON text into ``schema``; anything else is ``LLMInvalidOutput``."""
    try:
        return schema.model_validate_json(text.strip())
    except ValidationError as exc:
        # The first error is enough to say what went wrong; the raw text rides in details.
        errors = exc.errors()
        reason = errors[0]["msg"] if errors else str(exc)
        raise LLMInvalidOutput(
            f"The model's output is not a valid {schema.__name__}: {reason}",
            raw=text,
            details={"errors": json.loads(exc.json(include_url=False))[:5]},
        ) from exc


def elapsed_ms(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` value)."""
    return (time.perf_counter() - started) * 1000.0


class LLMProvider(ABC):
    """A language model behind one interface; adapters differ only in how they reach it."""

    #: The provider kind, e.g. ``llamacpp``; shown in health and usage.
    kind: str = "base"
    #: How often an invalid structured reply is retried with the error shown to the model.
    structured_retries: int = 0

    @property
    @abstractmethod
    def model(self) -> str:
        """The model this provider generates with."""

    @property
    @abstractmethod
    def context_size(self) -> int:
        """How many tokens (prompt and completion together) the model accepts."""

    @abstractmethod
    def generate(
        self,
        prompt: Prompt,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> Generation:
        """Complete ``prompt`` (a string or chat messages) and return the text and its cost."""

    @abstractmethod
    def generate_json(
        self,
        messages: Prompt,
        json_schema: dict[str, Any],
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = 0.0,
        timeout: float | None = None,
    ) -> Generation:
        """Generate JSON text constrained to ``json_schema`` where the provider supports it."""

    def generate_structured(
        self,
        messages: Prompt,
        schema: type[M],
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = 0.0,
        timeout: float | None = None,
    ) -> M:
        """Generate JSON for ``schema`` and validate it into the pydantic model."""
        prompt = as_messages(messages)
        attempt = 0
        while True:
            generation = self.generate_json(
                prompt,
                schema_of(schema),
                max_tokens=max_tokens,
                temperature=temperature,
                timeout=timeout,
            )
            try:
                return parse_structured(generation.text, schema)
            except LLMInvalidOutput as exc:
                if attempt >= self.structured_retries:
                    raise
                attempt += 1
                # Show the model its mistake once; unconstrained servers often fix it.
                prompt = [
                    *prompt,
                    {"role": "assistant", "content": generation.text},
                    {"role": "user", "content": f"{exc.message}. Reply with JSON only."},
                ]

    @abstractmethod
    def stream(
        self,
        prompt: Prompt,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[str]:
        """Yield the completion piece by piece; closing or cancelling the iterator stops it."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` takes for this model."""

    def count_message_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens of a chat prompt, with a small allowance per message for the template."""
        return sum(self.count_tokens(m.get("content", "")) + 4 for m in messages) + 2

    @abstractmethod
    def health(self) -> ProbeResult:
        """A cheap live check that the model answers."""

    def with_model(self, model: str) -> LLMProvider:
        """The same provider generating with ``model``; refused where it serves only one."""
        from companion.llm.errors import LLMModelNotFound

        raise LLMModelNotFound(
            f"Provider {self.kind!r} serves only {self.model!r}, not {model!r}",
            details={"provider": self.kind, "model": model},
        )

    def close(self) -> None:  # noqa: B027 - optional hook, most providers hold nothing
        """Release connections or handles; a no-op unless the provider holds any."""
