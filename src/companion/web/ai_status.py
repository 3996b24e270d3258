"""``GET /api/v1/ai/status``: the language-model providers, their health, and the policies.

Cheap by design: it reads health figures and policies and never loads a model or calls
one (a provider not used yet shows ``loaded: false``); ``none`` reads "no model configured".
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from companion.llm.service import LLMService
from companion.tenancy.context import RequestContext
from companion.web.deps import ContainerDep, require

router = APIRouter(prefix="/ai", tags=["assistant"])

AiUser = Annotated[RequestContext, Depends(require("ai.use"))]
NO_MODEL = "no model configured"


class ProviderStatus(BaseModel):
    """One provider: what it runs, whether it is loaded, its health and breaker."""

    name: str
    kind: str | None
    model: str | None
    loaded: bool
    detail: str | None
    status: str
    breaker: str
    calls: int
    error_rate: float
    latency_ms_p50: float | None
    latency_ms_p95: float | None
    consecutive_failures: int
    last_error: str | None


class PolicySummary(BaseModel):
    """A use case's effective policy, and whether a model can serve it."""

    enabled: bool
    active: bool  # enabled and some provider in the chain has a model
    provider: str
    model: str | None
    fallback: list[str]
    stream: bool
    temperature: float
    max_tokens: int
    timeout_s: float
    latency_budget_ms: int
    cache_ttl_s: int


class AiStatus(BaseModel):
    """The answer of ``GET /api/v1/ai/status``."""

    model_available: bool  # some configured provider has a model (loaded or not)
    providers: list[ProviderStatus]
    policies: dict[str, PolicySummary]
    cache: dict[str, int]


def provider_status(llm: LLMService, name: str) -> ProviderStatus:
    """Health figures of ``name`` with what it runs, without building it."""
    health = llm.health[name].snapshot()
    built = llm.registry.built().get(name)
    if llm.registry.is_none(name):
        kind, model, detail = "none", None, NO_MODEL
    elif built is not None:
        kind, model, detail = built.kind, built.model, None
    else:
        kind, model, detail = None, None, "not loaded yet (loads on first use)"
    return ProviderStatus(
        name=name,
        kind=kind,
        model=model,
        loaded=built is not None and kind != "none",
        detail=detail,
        status=str(health["status"]),
        breaker=str(health["breaker"]),
        calls=int(health["calls"]),
        error_rate=float(health["error_rate"]),
        latency_ms_p50=health["latency_ms_p50"],
        latency_ms_p95=health["latency_ms_p95"],
        consecutive_failures=int(health["consecutive_failures"]),
        last_error=health["last_error"],
    )


def ai_status(llm: LLMService, company: str | int) -> AiStatus:
    """The providers, their health, and the company's effective policies."""
    status: dict[str, Any] = llm.status(company)
    policies = {
        name: PolicySummary(
            enabled=policy.enabled,
            active=llm.enabled(name, company),
            provider=policy.provider,
            model=policy.model,
            fallback=list(policy.fallback),
            stream=policy.stream,
            temperature=policy.temperature,
            max_tokens=policy.max_tokens,
            timeout_s=policy.timeout_s,
            latency_budget_ms=policy.latency_budget_ms,
            cache_ttl_s=policy.cache_ttl_s,
        )
        for name, policy in llm.policies.policies(company).items()
    }
    providers = [provider_status(llm, name) for name in status["configured"]]
    return AiStatus(
        model_available=any(not llm.registry.is_none(p.name) for p in providers),
        providers=providers,
        policies=policies,
        cache={k: int(v) for k, v in status["cache"].items()},
    )


@router.get("/status", response_model=AiStatus)
def get_ai_status(ctx: AiUser, container: ContainerDep) -> AiStatus:
    """Language-model providers, health, circuit breakers and the effective policies."""
    return ai_status(container.llm(), ctx.company_slug)
