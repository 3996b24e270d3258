"""Building the LLM service from settings: the ``default`` provider and the named ones."""

from __future__ import annotations

import logging
import os
from functools import partial

from companion.config import LLMSettings
from companion.llm.admission import ModelGate
from companion.llm.errors import LLMUnavailable
from companion.llm.locate import bundled_model_path, llama_cpp_installed, resolve_model_path
from companion.llm.policies import PolicyBook, ProviderSpec
from companion.llm.privacy import PromptScrubber, private
from companion.llm.providers.base import LLMProvider
from companion.llm.providers.llamacpp import LlamaModels
from companion.llm.providers.none import NoneProvider
from companion.llm.service import LLMService, ProviderFactory, ProviderRegistry

log = logging.getLogger(__name__)


def resolve_provider_kind(settings: LLMSettings) -> str:
    """The default provider's kind, with ``auto`` decided by what is installed."""
    if settings.provider != "auto":
        return settings.provider
    if not llama_cpp_installed():
        return "none"
    if settings.model_path is not None or bundled_model_path() is not None:
        return "llamacpp"
    return "none"


def _llamacpp(
    models: LlamaModels, path: str, n_ctx: int, n_threads: int | None, name: str
) -> LLMProvider:
    from pathlib import Path

    from companion.llm.providers.llamacpp import LlamaCppProvider

    return LlamaCppProvider(Path(path), models=models, n_ctx=n_ctx, n_threads=n_threads, name=name)


def _openai(
    base_url: str,
    model: str,
    keys: list[str],
    timeout_s: float,
    context_size: int,
    name: str,
) -> LLMProvider:
    from companion.llm.providers.openai_compat import OpenAICompatProvider

    return OpenAICompatProvider(
        base_url,
        model,
        api_keys=keys,
        timeout_s=timeout_s,
        context_size=context_size,
        name=name,
    )


def default_provider_factory(settings: LLMSettings, models: LlamaModels) -> ProviderFactory:
    """How to build the ``default`` provider (an in-process model loaded into ``models``);
    a missing model fails here, at startup."""
    kind = resolve_provider_kind(settings)
    if kind == "llamacpp":
        path = resolve_model_path(settings.model_path)
        return partial(_llamacpp, models, str(path), settings.n_ctx, settings.n_threads, "default")
    if kind == "openai_compat":
        if not settings.base_url or not settings.model:
            raise LLMUnavailable(
                "COMPANION_LLM__PROVIDER=openai_compat needs COMPANION_LLM__BASE_URL and "
                "COMPANION_LLM__MODEL",
                details={"setting": "COMPANION_LLM__BASE_URL"},
            )
        return partial(
            _openai,
            settings.base_url,
            settings.model,
            settings.api_key_list(),
            settings.timeout_s,
            settings.context_size,
            "default",
        )
    return NoneProvider


def named_provider_factory(name: str, spec: ProviderSpec, models: LlamaModels) -> ProviderFactory:
    """How to build a provider named in a policy file (in-process models into ``models``)."""
    if spec.kind == "llamacpp":
        path = resolve_model_path(spec.model_path)
        return partial(_llamacpp, models, str(path), spec.n_ctx, spec.n_threads, name)
    if spec.kind == "openai_compat":
        if not spec.base_url or not spec.model:
            raise LLMUnavailable(f"Provider {name!r} needs base_url and model in the policy file")
        raw = os.environ.get(spec.api_keys_env, "") if spec.api_keys_env else ""
        keys = [k.strip() for k in raw.split(",") if k.strip()]
        return partial(
            _openai, spec.base_url, spec.model, keys, spec.timeout_s, spec.context_size, name
        )
    return NoneProvider


def build_llm_service(
    settings: LLMSettings,
    *,
    scrubber: PromptScrubber | None = None,
    llama_models: LlamaModels | None = None,
) -> LLMService:
    """Policies loaded and validated, providers registered (and loaded on first use).

    In-process models are loaded into ``llama_models`` (the container's; without one, a
    cache of this service's own). Providers marked external are wrapped so that prompts
    reach them scrubbed of personal data by ``scrubber``; one marked external with no
    scrubber refuses to start.
    """
    models = llama_models if llama_models is not None else LlamaModels()
    policies = PolicyBook.load(settings.policies_file, company_dir=settings.company_policies_dir)
    factories: dict[str, ProviderFactory] = {"default": default_provider_factory(settings, models)}
    # Provider name -> whether placeholders are put back in its replies.
    external: dict[str, bool] = {"default": settings.restore_pii} if settings.external else {}
    for name, spec in policies.providers.items():
        factories[name] = named_provider_factory(name, spec, models)
        if spec.external:
            external[name] = spec.restore_pii
    for name, restore in external.items():
        if scrubber is None:
            raise LLMUnavailable(
                f"Provider {name!r} is marked external, and no PII scrubber is configured to "
                "keep personal data from it",
                details={"provider": name},
            )
        factories[name] = private(factories[name], scrubber, restore=restore)
    log.info(
        "llm.configured",
        extra={
            "default": resolve_provider_kind(settings),
            "providers": sorted(factories),
            "external": sorted(external),
        },
    )
    gate = ModelGate(
        settings.max_concurrent,
        max_queued=settings.max_queued,
        max_per_user=settings.max_per_user,
        queue_wait_s=settings.queue_wait_s,
    )
    registry = ProviderRegistry(factories, idle_release_s=settings.idle_release_s)
    service = LLMService(registry, policies, gate=gate)
    service.external = frozenset(external)
    return service
