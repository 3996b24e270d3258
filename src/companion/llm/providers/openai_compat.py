"""Any server speaking the OpenAI chat-completions wire format: llama.cpp, Ollama, vLLM, ...

Keys rotate on 429 (each cools down for the server's ``Retry-After`` or a default), transient
failures retry with exponential backoff, and structured output asks for a ``json_schema``
response format, stepping down to llama.cpp's ``json_object`` + schema form when refused.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx

from companion.llm.errors import (
    LLMBadResponse,
    LLMError,
    LLMModelNotFound,
    LLMRateLimited,
    LLMTimeout,
    LLMUnavailable,
)
from companion.llm.providers.base import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_TEMPERATURE,
    Generation,
    LLMProvider,
    ProbeResult,
    Prompt,
    as_messages,
    elapsed_ms,
    ensure_model_requests_allowed,
)

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class KeyRing:
    """API keys taken in turn, skipping any that are cooling down after a 429."""

    def __init__(self, keys: Sequence[str], *, cooldown_s: float, clock: Clock) -> None:
        self._keys = [k for k in keys if k]
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._until: dict[str, float] = {}
        self._next = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    def take(self) -> str | None:
        """The next usable key (None when no keys are configured); all cooling -> 429."""
        if not self._keys:
            return None
        with self._lock:
            now = self._clock()
            for offset in range(len(self._keys)):
                index = (self._next + offset) % len(self._keys)
                key = self._keys[index]
                if self._until.get(key, 0.0) <= now:
                    self._next = (index + 1) % len(self._keys)
                    return key
            wait = min(self._until.values()) - now
        raise LLMRateLimited(
            f"Every API key is rate-limited; the first is usable again in {math.ceil(wait)} s",
            details={"retry_after_s": math.ceil(wait), "keys": len(self._keys)},
        )

    def cool(self, key: str | None, retry_after_s: float | None) -> None:
        """Rest ``key`` for the server's Retry-After, else the default cooldown."""
        if key is None:
            return
        with self._lock:
            self._until[key] = self._clock() + (retry_after_s or self._cooldown_s)

    def cooling(self) -> int:
        """How many keys are resting now."""
        now = self._clock()
        return sum(1 for until in self._until.values() if until > now)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", error))[:300]
    return str(error or body)[:300]


class OpenAICompatProvider(LLMProvider):
    """A remote or loopback OpenAI-compatible server (``base_url`` ends in ``/v1``)."""

    kind = "openai_compat"
    structured_retries = 1

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_keys: Sequence[str] = (),
        timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        retries: int = 2,
        backoff_s: float = 0.5,
        key_cooldown_s: float = 60.0,
        context_size: int = 4096,
        name: str = "openai_compat",
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.kind = name
        self.base_url = base_url.rstrip("/")
        self._model = model
        self._timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
        self._connect_timeout_s = connect_timeout_s
        self._retries = retries
        self._backoff_s = backoff_s
        self._context_size = context_size
        self._sleep = sleep
        self.keys = KeyRing(api_keys, cooldown_s=key_cooldown_s, clock=clock)
        self._transport = transport
        self._client = httpx.Client(timeout=self._timeout, transport=transport)
        self._model_checked = False
        # "json_schema" (OpenAI, vLLM, Ollama) until a server refuses it, then llama.cpp's form.
        self._structured_mode = "json_schema"

    @property
    def model(self) -> str:
        return self._model

    @property
    def context_size(self) -> int:
        return self._context_size

    def close(self) -> None:
        self._client.close()

    def with_model(self, model: str) -> OpenAICompatProvider:
        """Another model on the same server, sharing this provider's keys and their cooldowns."""
        sibling = copy.copy(self)
        sibling._model = model
        sibling._model_checked = False
        sibling._client = httpx.Client(timeout=self._timeout, transport=self._transport)
        return sibling

    # -- requests -------------------------------------------------------------------------

    def _headers(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _timeout_for(self, timeout: float | None) -> httpx.Timeout:
        if timeout is None:
            return self._timeout
        return httpx.Timeout(timeout, connect=min(self._connect_timeout_s, timeout))

    def _unreachable(self, exc: Exception) -> LLMError:
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            return LLMTimeout(
                f"{self.base_url} did not answer in time",
                details={"provider": self.kind, "base_url": self.base_url},
            )
        return LLMUnavailable(
            f"Cannot reach the language model server at {self.base_url}: {exc}",
            details={"provider": self.kind, "base_url": self.base_url},
        )

    def _refusal(self, response: httpx.Response) -> LLMError:
        message = _error_text(response)
        details = {"provider": self.kind, "status": response.status_code, "model": self._model}
        if response.status_code == 404 and "model" in message.lower():
            return LLMModelNotFound(
                f"The server does not serve model {self._model!r}: {message}", details=details
            )
        return LLMBadResponse(
            f"The language model server refused the request ({response.status_code}): {message}",
            details=details,
        )

    def _send(
        self, method: str, path: str, payload: dict[str, Any] | None, timeout: float | None
    ) -> httpx.Response:
        """A request with key rotation on 429 and backoff on connection errors and 5xx."""
        ensure_model_requests_allowed(self.kind)
        attempt = 0
        rotations = 0
        while True:
            key = self.keys.take()
            try:
                response = self._client.request(
                    method,
                    f"{self.base_url}{path}",
                    json=payload,
                    headers=self._headers(key),
                    timeout=self._timeout_for(timeout),
                )
            except httpx.ConnectTimeout as exc:
                # A host that leaves a connection unanswered for the whole connect timeout
                # (down, or a firewall dropping packets) will not answer the next try either:
                # no retries, so one call waits one connect timeout, not three.
                raise self._unreachable(exc) from exc
            except httpx.TransportError as exc:
                error: LLMError = self._unreachable(exc)
            else:
                if response.status_code == 429:
                    self.keys.cool(key, _retry_after(response))
                    rotations += 1
                    # Another key may be fresh: try it at once, without spending a retry.
                    if rotations < max(len(self.keys), 1):
                        continue
                    error = LLMRateLimited(
                        "The language model server is rate-limiting every key",
                        details={"provider": self.kind, "retry_after_s": _retry_after(response)},
                    )
                elif response.status_code >= 500:
                    error = self._refusal(response)
                    if "response_format" in response.text:
                        raise error  # a capability refusal, not a transient fault
                elif response.status_code >= 400:
                    raise self._refusal(response)
                else:
                    return response
            if attempt >= self._retries or isinstance(error, LLMTimeout):
                raise error
            self._sleep(self._backoff_s * (2**attempt))
            attempt += 1

    def _check_model(self) -> None:
        """Once: the configured model must be among the server's models, when it lists them."""
        if self._model_checked:
            return
        try:
            response = self._send("GET", "/models", None, None)
        except LLMBadResponse:
            response = None  # a server without the listing: the first call will tell
        if response is not None:
            try:
                ids = [str(m.get("id")) for m in response.json().get("data", [])]
            except (ValueError, AttributeError):
                ids = []
            if ids and self._model not in ids:
                raise LLMModelNotFound(
                    f"The server at {self.base_url} does not serve model {self._model!r} "
                    f"(it serves {', '.join(ids[:10])})",
                    details={"provider": self.kind, "model": self._model, "available": ids[:10]},
                )
        self._model_checked = True

    def _chat(
        self,
        prompt: Prompt,
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str] | None,
        timeout: float | None,
        response_format: dict[str, Any] | None = None,
    ) -> Generation:
        started = time.perf_counter()
        self._check_model()
        payload: dict[str, Any] = {
            "model": self._model,
            "messages": as_messages(prompt),
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if stop:
            payload["stop"] = list(stop)
        if response_format is not None:
            payload["response_format"] = response_format
        response = self._send("POST", "/chat/completions", payload, timeout)
        try:
            body = response.json()
            text = body["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMBadResponse(
                f"The language model server sent an unreadable reply: {response.text[:200]}",
                details={"provider": self.kind},
            ) from exc
        usage = body.get("usage") or {}
        return Generation(
            text=str(text),
            tokens_in=int(usage.get("prompt_tokens") or 0),
            tokens_out=int(usage.get("completion_tokens") or 0),
            latency_ms=elapsed_ms(started),
            model=str(body.get("model") or self._model),
            provider=self.kind,
        )

    # -- the port -------------------------------------------------------------------------

    def generate(
        self,
        prompt: Prompt,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> Generation:
        return self._chat(
            prompt, max_tokens=max_tokens, temperature=temperature, stop=stop, timeout=timeout
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
        if self._structured_mode == "json_schema":
            try:
                return self._chat(
                    messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    stop=None,
                    timeout=timeout,
                    response_format={
                        "type": "json_schema",
                        "json_schema": {"name": "output", "schema": json_schema},
                    },
                )
            except LLMBadResponse as exc:
                if exc.details.get("status") not in {400, 422, 500}:
                    raise
                log.info("llm.structured_fallback", extra={"provider": self.kind})
                self._structured_mode = "json_object"
        return self._chat(
            messages,
            max_tokens=max_tokens,
            temperature=temperature,
            stop=None,
            timeout=timeout,
            response_format={"type": "json_object", "schema": json_schema},
        )

    async def stream(
        self,
        prompt: Prompt,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[str]:
        ensure_model_requests_allowed(self.kind)
        if not self._model_checked:
            await asyncio.to_thread(self._check_model)  # once; keeps the event loop free
        payload: dict[str, Any] = {
            "model": self._model,
            "messages": as_messages(prompt),
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if stop:
            payload["stop"] = list(stop)
        rotations = 0
        async with httpx.AsyncClient(timeout=self._timeout_for(timeout)) as client:
            while True:
                key = self.keys.take()
                try:
                    async with client.stream(
                        "POST",
                        f"{self.base_url}/chat/completions",
                        json=payload,
                        headers=self._headers(key),
                    ) as response:
                        if response.status_code == 429:
                            self.keys.cool(key, _retry_after(response))
                            rotations += 1
                            if rotations < max(len(self.keys), 1):
                                continue
                            raise LLMRateLimited(
                                "The language model server is rate-limiting every key",
                                details={"provider": self.kind},
                            )
                        if response.status_code >= 400:
                            await response.aread()
                            raise self._refusal(response)
                        async for piece in self._sse_pieces(response):
                            yield piece
                        return
                except httpx.TransportError as exc:
                    raise self._unreachable_midstream(exc) from exc

    def _unreachable_midstream(self, exc: httpx.TransportError) -> LLMError:
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            return self._unreachable(exc)
        if isinstance(exc, httpx.TimeoutException):
            return LLMTimeout(
                f"{self.base_url} stopped sending tokens", details={"provider": self.kind}
            )
        return LLMBadResponse(
            f"The stream from {self.base_url} broke off: {exc}", details={"provider": self.kind}
        )

    async def _sse_pieces(self, response: httpx.Response) -> AsyncIterator[str]:
        """Content deltas of an SSE chat stream; a stream that ends before [DONE] is an error."""
        finished = False
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                choice = json.loads(data)["choices"][0]
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise LLMBadResponse(
                    f"Unreadable stream event: {data[:200]}", details={"provider": self.kind}
                ) from exc
            piece = (choice.get("delta") or {}).get("content")
            if piece:
                yield str(piece)
            finished = finished or bool(choice.get("finish_reason"))
        if not finished:
            raise LLMBadResponse(
                f"The stream from {self.base_url} ended before it finished",
                details={"provider": self.kind},
            )

    def count_tokens(self, text: str) -> int:
        # The wire format has no tokenizer endpoint; three characters a token over-counts
        # English text a little, which is the safe side for fitting a context.
        return math.ceil(len(text) / 3)

    def health(self) -> ProbeResult:
        started = time.perf_counter()
        try:
            self._model_checked = False
            self._check_model()
        except LLMError as exc:
            return ProbeResult(
                provider=self.kind,
                model=self._model,
                ok=False,
                latency_ms=elapsed_ms(started),
                detail=exc.message,
            )
        return ProbeResult(
            provider=self.kind, model=self._model, ok=True, latency_ms=elapsed_ms(started)
        )
