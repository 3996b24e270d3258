"""The one entry point for model calls: policy, cache, health and fallback per use case."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from companion.llm.admission import ModelGate, current_caller, external_allowed
from companion.llm.cache import ResponseCache, cache_key
from companion.llm.errors import LLMError, LLMPromptTooLong, LLMUnavailable
from companion.llm.health import HealthBoard
from companion.llm.metering import CallMeter, LLMBudgetExceeded, PlannedCall
from companion.llm.policies import PolicyBook, UseCasePolicy
from companion.llm.providers.base import (
    Generation,
    LLMProvider,
    Message,
    ProbeResult,
    Prompt,
    as_messages,
    elapsed_ms,
    parse_structured,
    schema_of,
)
from companion.llm.providers.none import NoneProvider
from companion.llm.truncate import fit_messages

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
ProviderFactory = Callable[[], LLMProvider]


@dataclass(frozen=True)
class Structured(Generic[M]):
    """A validated structured answer and the generation that produced it."""

    value: M
    generation: Generation


class ProviderRegistry:
    """Named providers, each built on first use (loading a model takes a moment).

    With ``idle_release_s`` > 0, a provider not asked for that long is let go (``close``: an
    in-process model's memory is freed once no call holds it) by a background thread, and
    built again by the next call that needs it.
    """

    def __init__(
        self, factories: Mapping[str, ProviderFactory], *, idle_release_s: float = 0
    ) -> None:
        self._factories = {"none": NoneProvider, **factories}
        self._built: dict[str, LLMProvider] = {}
        self._lock = threading.Lock()
        self.idle_release_s = idle_release_s
        self._last_used: dict[str, float] = {}
        self._reaper: threading.Thread | None = None

    def _touch(self, key: str) -> None:
        # Called with self._lock held.
        self._last_used[key] = time.monotonic()
        if self.idle_release_s > 0 and (self._reaper is None or not self._reaper.is_alive()):
            self._reaper = threading.Thread(
                target=self._reap, name="companion-llm-release", daemon=True
            )
            self._reaper.start()

    def _reap(self) -> None:
        while True:
            time.sleep(min(60.0, max(self.idle_release_s / 2, 0.05)))
            self.release_idle()
            with self._lock:
                if not any(not isinstance(p, NoneProvider) for p in self._built.values()):
                    self._reaper = None
                    return

    def release_idle(self, now: float | None = None) -> list[str]:
        """Let go of the providers idle for ``idle_release_s`` (none busy); their names."""
        if self.idle_release_s <= 0:
            return []
        now = time.monotonic() if now is None else now
        released: list[tuple[str, LLMProvider, float]] = []
        with self._lock:
            for key, provider in list(self._built.items()):
                idle = now - self._last_used.get(key, now)
                if isinstance(provider, NoneProvider) or idle < self.idle_release_s:
                    continue
                if getattr(provider, "busy", False):
                    continue
                del self._built[key]
                self._last_used.pop(key, None)
                released.append((key, provider, idle))
        for key, provider, idle in released:
            provider.close()
            log.info(
                "llm.released",
                extra={"provider": key.replace("\x00", " "), "idle_s": round(idle)},
            )
        return [key for key, _, _ in released]

    def names(self) -> list[str]:
        """Every registered provider name."""
        return sorted(self._factories)

    def get(self, name: str) -> LLMProvider:
        """The provider called ``name``, built once."""
        with self._lock:
            provider = self._built.get(name)
            if provider is None:
                factory = self._factories.get(name)
                if factory is None:
                    raise LLMUnavailable(f"No language model provider is named {name!r}")
                provider = factory()
                self._built[name] = provider
            self._touch(name)
            return provider

    def is_none(self, name: str) -> bool:
        """Whether ``name`` is (or would build) the no-model provider, without building it."""
        return self._factories.get(name, NoneProvider) is NoneProvider

    def is_none_chain(self, names: Sequence[str]) -> bool:
        """Whether every provider of ``names`` is the no-model one (no call reaches a model)."""
        return all(self.is_none(name) for name in names)

    def resolve(self, name: str, model: str | None) -> LLMProvider:
        """The provider ``name``, switched to ``model`` when a policy names another one."""
        provider = self.get(name)
        if model is None or model == provider.model:
            return provider
        key = f"{name}\x00{model}"
        with self._lock:
            variant = self._built.get(key)
        if variant is None:
            variant = provider.with_model(model)
        with self._lock:
            variant = self._built.setdefault(key, variant)
            self._touch(key)
        return variant

    def built(self) -> dict[str, LLMProvider]:
        """The providers built so far."""
        with self._lock:
            return dict(self._built)

    def close(self) -> None:
        """Close every built provider and forget it (a later ``get`` builds it again), so
        nothing here keeps an in-process model alive."""
        with self._lock:
            built, self._built = self._built, {}
            self._last_used.clear()
        for provider in built.values():
            provider.close()


class LLMService:
    """Generates for a use case and a company, as the policy says, falling back along its chain.

    Every failure is an ``LLMError``; callers catch it and answer without a model. With a
    ``gate``, a call that reaches a model takes one of its slots (``llm.admission``) or
    fails at once with ``LLMBusy``.
    """

    def __init__(
        self,
        registry: ProviderRegistry,
        policies: PolicyBook,
        *,
        cache: ResponseCache | None = None,
        health: HealthBoard | None = None,
        gate: ModelGate | None = None,
        meter: CallMeter | None = None,
    ) -> None:
        self.registry = registry
        self.meter = meter  # budgets and usage records (llm.metering), wired by bootstrap
        self.policies = policies
        self.cache = cache or ResponseCache()
        self.health = health or HealthBoard(policies.health)
        self.gate = gate
        # Providers marked external (the factory says which): skipped in compliance mode.
        self.external: frozenset[str] = frozenset()

    def policy(self, use_case: str, company: str | int | None = None) -> UseCasePolicy:
        """The effective policy for ``use_case`` in ``company``."""
        return self.policies.policy(use_case, company)

    def enabled(self, use_case: str, company: str | int | None = None) -> bool:
        """Whether the use case may call a model at all (on, and some provider is not none)."""
        policy = self.policy(use_case, company)
        return policy.enabled and not all(self.registry.is_none(n) for n in policy.chain())

    @contextlib.contextmanager
    def admitted(
        self, use_case: str, company: str | int, caller: str | int | None = None
    ) -> Iterator[None]:
        """Hold a model slot for a request made for ``use_case``, queueing for one if need be.

        Raises ``LLMBusy`` (503) or ``LLMUserBusy`` (429) with ``retry_after`` when none is
        had in time; takes nothing when the use case would call no model.
        """
        if self.gate is None or not self.enabled(use_case, company):
            yield
            return
        with self.gate.slot(caller, wait=self.gate.queue_wait_s):
            yield

    def _slot(self, policy: UseCasePolicy) -> contextlib.AbstractContextManager[None]:
        """A free slot for a call that may reach a model; never waits (the caller falls back)."""
        if self.gate is None or self.registry.is_none_chain(policy.chain()):
            return contextlib.nullcontext()
        return self.gate.slot()

    def _run(
        self,
        use_case: str,
        company: str | int,
        messages: list[Message],
        call: Callable[[LLMProvider, list[Message], UseCasePolicy], Generation],
        *,
        data_fingerprint: str,
        variant: Any,
    ) -> Generation:
        policy = self.policy(use_case, company)
        if not policy.enabled:
            raise LLMUnavailable(
                f"The {use_case} use case is switched off by policy",
                details={"use_case": use_case},
            )
        key = cache_key(
            company=company,
            use_case=use_case,
            messages=messages,
            data_fingerprint=data_fingerprint,
            variant=variant,
        )
        if policy.cache_ttl_s:
            hit = self.cache.get(key)
            if hit is not None:
                self._metered_hit(use_case, company, hit)
                return hit
        with self._slot(policy):
            return self._chain(use_case, company, policy, key, messages, call)

    def _chain(
        self,
        use_case: str,
        company: str | int,
        policy: UseCasePolicy,
        key: str,
        messages: list[Message],
        call: Callable[[LLMProvider, list[Message], UseCasePolicy], Generation],
    ) -> Generation:
        """The policy's providers in turn until one answers."""
        attempts: list[LLMError] = []
        for name in policy.chain():
            health = self.health[name]
            tracked = not self.registry.is_none(name)  # "no model" is no fault to count
            if name in self.external and not external_allowed():
                attempts.append(_compliance_refusal(name))
                continue
            if tracked and not health.allow():
                attempts.append(LLMUnavailable(f"{name}: circuit open", details={"provider": name}))
                continue
            started = time.perf_counter()
            try:
                provider = self.registry.resolve(name, policy.model)
                fitted = fit_messages(
                    provider, messages, max_tokens=policy.max_tokens, mode=policy.truncate
                )
                generation = self._metered(use_case, company, provider, fitted, policy, call)
            except (LLMPromptTooLong, LLMBudgetExceeded) as exc:
                attempts.append(exc)  # the prompt or a budget is at fault, not the provider
                if tracked:
                    health.release_trial()
                continue
            except LLMError as exc:
                attempts.append(exc)
                if tracked:
                    health.record_failure(elapsed_ms(started), f"{exc.code}: {exc.message}")
                    log.warning(
                        "llm.provider_failed",
                        extra={"provider": name, "use_case": use_case, "code": exc.code},
                    )
                continue
            except BaseException:
                if tracked:
                    health.release_trial()  # no verdict: never leave a half-open breaker stuck
                raise
            health.record_success(generation.latency_ms, policy.latency_budget_ms)
            self.cache.put(key, generation, policy.cache_ttl_s)
            return generation
        raise _exhausted(use_case, attempts)

    def _planned(
        self,
        use_case: str,
        company: str | int,
        provider: LLMProvider,
        fitted: list[Message],
        max_tokens: int,
    ) -> PlannedCall:
        return PlannedCall(
            use_case=use_case,
            company=company,
            caller=current_caller(),
            provider=provider.kind,
            model=provider.model,
            tokens_in=provider.count_message_tokens(fitted),
            max_tokens=max_tokens,
        )

    def _metered(
        self,
        use_case: str,
        company: str | int,
        provider: LLMProvider,
        fitted: list[Message],
        policy: UseCasePolicy,
        call: Callable[[LLMProvider, list[Message], UseCasePolicy], Generation],
    ) -> Generation:
        """``call`` admitted by the meter (its worst case reserved) and settled after it."""
        if self.meter is None or provider.kind == "none":
            return call(provider, fitted, policy)
        ticket = self.meter.admit(
            self._planned(use_case, company, provider, fitted, policy.max_tokens)
        )
        generation: Generation | None = None
        try:
            generation = call(provider, fitted, policy)
            return generation
        finally:
            self.meter.settle(ticket, generation)

    def _metered_hit(self, use_case: str, company: str | int, hit: Generation) -> None:
        """Tell the meter about a generation served from the cache."""
        if self.meter is None:
            return
        planned = PlannedCall(
            use_case=use_case,
            company=company,
            caller=current_caller(),
            provider=hit.provider,
            model=hit.model,
            tokens_in=hit.tokens_in,
            max_tokens=0,
        )
        self.meter.cached(planned, hit)

    def generate(
        self,
        use_case: str,
        company: str | int,
        messages: Prompt,
        *,
        data_fingerprint: str = "",
        stop: Sequence[str] | None = None,
    ) -> Generation:
        """Text for ``use_case`` by its policy; ``data_fingerprint`` names the data it used."""

        def call(provider: LLMProvider, fitted: list[Message], policy: UseCasePolicy) -> Generation:
            return provider.generate(
                fitted,
                max_tokens=policy.max_tokens,
                temperature=policy.temperature,
                stop=stop,
                timeout=policy.timeout_s,
            )

        return self._run(
            use_case,
            company,
            as_messages(messages),
            call,
            data_fingerprint=data_fingerprint,
            variant={"stop": list(stop or [])},
        )

    def generate_structured(
        self,
        use_case: str,
        company: str | int,
        messages: Prompt,
        schema: type[M],
        *,
        data_fingerprint: str = "",
    ) -> Structured[M]:
        """A pydantic object for ``use_case``; invalid output counts as a failure and falls back."""
        json_schema = schema_of(schema)
        produced: list[M] = []

        def call(provider: LLMProvider, fitted: list[Message], policy: UseCasePolicy) -> Generation:
            started = time.perf_counter()
            value = provider.generate_structured(
                fitted,
                schema,
                max_tokens=policy.max_tokens,
                temperature=policy.temperature,
                timeout=policy.timeout_s,
            )
            text = value.model_dump_json()
            produced.append(value)
            return Generation(
                text=text,
                tokens_in=provider.count_message_tokens(fitted),
                tokens_out=provider.count_tokens(text),
                latency_ms=elapsed_ms(started),
                model=provider.model,
                provider=provider.kind,
            )

        generation = self._run(
            use_case,
            company,
            as_messages(messages),
            call,
            data_fingerprint=data_fingerprint,
            variant={"schema": json_schema},
        )
        # A cached generation carries only text: validate it again into the model.
        value = parse_structured(generation.text, schema) if generation.cached else produced[-1]
        return Structured(value=value, generation=generation)

    async def stream(
        self,
        use_case: str,
        company: str | int,
        messages: Prompt,
        *,
        data_fingerprint: str = "",
    ) -> AsyncIterator[str]:
        """Text pieces for ``use_case``; a provider failing before its first piece falls back.

        Once pieces have gone out, a failure is raised: the answer cannot switch models midway.
        Closing the iterator stops generation.
        """
        policy = self.policy(use_case, company)
        if not policy.enabled:
            raise LLMUnavailable(f"The {use_case} use case is switched off by policy")
        prompt = as_messages(messages)
        key = cache_key(
            company=company,
            use_case=use_case,
            messages=prompt,
            data_fingerprint=data_fingerprint,
            variant={"stop": []},
        )
        if policy.cache_ttl_s:
            hit = self.cache.get(key)
            if hit is not None:
                self._metered_hit(use_case, company, hit)
                yield hit.text
                return
        # A slot by hand, not `with self._slot(...)`: an async generator may be closed from
        # another context, where resetting the slot's context variable would fail.
        gate = self.gate
        if gate is not None and (gate.holding() or self.registry.is_none_chain(policy.chain())):
            gate = None
        caller = current_caller()
        if gate is not None:
            gate.acquire(caller)
        started_all = time.perf_counter()
        try:
            async for piece in self._stream_chain(use_case, company, policy, key, prompt):
                yield piece
        finally:
            if gate is not None:
                gate.release(caller, time.perf_counter() - started_all)

    async def _stream_chain(
        self,
        use_case: str,
        company: str | int,
        policy: UseCasePolicy,
        key: str,
        prompt: list[Message],
    ) -> AsyncIterator[str]:
        """The policy's providers in turn until one streams an answer."""
        attempts: list[LLMError] = []
        for name in policy.chain():
            health = self.health[name]
            tracked = not self.registry.is_none(name)  # "no model" is no fault to count
            if name in self.external and not external_allowed():
                attempts.append(_compliance_refusal(name))
                continue
            if tracked and not health.allow():
                attempts.append(LLMUnavailable(f"{name}: circuit open"))
                continue
            started = time.perf_counter()
            pieces: list[str] = []
            finished = False
            ticket: object = None
            metered = False
            try:
                # Building a provider may load a model: off the event loop.
                provider = await asyncio.to_thread(self.registry.resolve, name, policy.model)
                fitted = fit_messages(
                    provider, prompt, max_tokens=policy.max_tokens, mode=policy.truncate
                )
                if self.meter is not None and tracked:
                    ticket = self.meter.admit(
                        self._planned(use_case, company, provider, fitted, policy.max_tokens)
                    )
                    metered = True
                async for piece in provider.stream(
                    fitted,
                    max_tokens=policy.max_tokens,
                    temperature=policy.temperature,
                    timeout=policy.timeout_s,
                ):
                    pieces.append(piece)
                    yield piece
                finished = True
            except (LLMPromptTooLong, LLMBudgetExceeded) as exc:
                attempts.append(exc)  # the prompt or a budget is at fault, not the provider
                continue
            except LLMError as exc:
                attempts.append(exc)
                if tracked:
                    health.record_failure(elapsed_ms(started), f"{exc.code}: {exc.message}")
                if pieces:
                    raise
                continue
            finally:
                if not finished and tracked:
                    health.release_trial()  # closed by the caller: no verdict on the provider
                if metered and self.meter is not None:
                    # Pieces written before a failure or a close were generated all the same.
                    self.meter.settle(
                        ticket,
                        Generation(
                            text="".join(pieces),
                            tokens_in=provider.count_message_tokens(fitted),
                            tokens_out=len(pieces),
                            latency_ms=elapsed_ms(started),
                            model=provider.model,
                            provider=provider.kind,
                        )
                        if pieces
                        else None,
                    )
            latency = elapsed_ms(started)
            health.record_success(latency, policy.latency_budget_ms)
            text = "".join(pieces)
            self.cache.put(
                key,
                Generation(
                    text=text,
                    tokens_in=provider.count_message_tokens(fitted),
                    tokens_out=len(pieces),
                    latency_ms=latency,
                    model=provider.model,
                    provider=provider.kind,
                ),
                policy.cache_ttl_s,
            )
            return
        raise _exhausted(use_case, attempts)

    def probe(self, name: str = "default") -> ProbeResult:
        """A live health probe of one provider (builds it, loading its model, if needed)."""
        try:
            provider = self.registry.get(name)
        except LLMError as exc:
            return ProbeResult(
                provider=name, model="", ok=False, latency_ms=0.0, detail=exc.message
            )
        return provider.health()

    def status(self, company: str | int | None = None) -> dict[str, Any]:
        """Providers' health and the effective policies, for ``GET /api/v1/ai/status``."""
        return {
            "providers": self.health.snapshot(),
            "configured": self.registry.names(),
            "policies": {
                name: policy.model_dump(mode="json")
                for name, policy in self.policies.policies(company).items()
            },
            "cache": {"entries": len(self.cache), "hits": self.cache.hits},
            "admission": self.gate.snapshot() if self.gate is not None else None,
        }

    def close(self) -> None:
        """Release the providers' connections."""
        self.registry.close()


def _exhausted(use_case: str, attempts: list[LLMError]) -> LLMError:
    """One failure as itself; several as one unavailability listing each."""
    if len(attempts) == 1:
        return attempts[0]
    return LLMUnavailable(
        f"No language model could answer {use_case}: "
        + "; ".join(f"{e.code}: {e.message}" for e in attempts),
        details={"use_case": use_case, "attempts": [e.to_dict()["error"] for e in attempts]},
    )


def _compliance_refusal(name: str) -> LLMUnavailable:
    return LLMUnavailable(
        f"{name}: an external provider, and this company's compliance mode keeps its data "
        "on its own machines",
        details={"provider": name, "reason": "compliance_mode"},
    )
