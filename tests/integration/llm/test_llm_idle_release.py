"""An in-process model no call asks for is let go after COMPANION_LLM__IDLE_RELEASE_S, and
loaded again by the next call; a container's dispose lets its models go (the real SmolLM2;
its own cache and context size, so the session's shared model is not the one released)."""

from __future__ import annotations

import gc
import time
import weakref
from functools import partial
from pathlib import Path

from sqlalchemy.engine import Engine

from companion.bootstrap import bootstrap
from companion.config import AuthSettings, LLMSettings, Settings
from companion.llm.providers.llamacpp import LlamaCppProvider, LlamaModels
from companion.llm.service import ProviderRegistry

N_CTX = 256  # not the session fixture's 2048: a model of its own


def registry(
    model_path: Path, idle_s: float, models: LlamaModels | None = None
) -> ProviderRegistry:
    factory = partial(
        LlamaCppProvider,
        model_path,
        models=models or LlamaModels(),
        n_ctx=N_CTX,
        n_threads=1,
        name="default",
    )
    return ProviderRegistry({"default": factory}, idle_release_s=idle_s)


def loaded_here(models: LlamaModels, model_path: Path) -> int:
    return sum(1 for p in models.paths() if p == model_path)


def test_an_idle_model_is_released_and_loaded_again_on_the_next_call(model_path: Path) -> None:
    models = LlamaModels()
    providers = registry(model_path, idle_s=3600, models=models)
    first = providers.get("default")
    assert loaded_here(models, model_path) == 1
    assert providers.release_idle() == []  # just used

    assert providers.release_idle(now=time.monotonic() + 3601) == ["default"]
    assert providers.built() == {}
    assert loaded_here(models, model_path) == 0
    del first
    gc.collect()

    again = providers.get("default")
    assert loaded_here(models, model_path) == 1
    reply = again.generate("Say hi", max_tokens=4, temperature=0.0, timeout=120)
    assert 0 < reply.tokens_out <= 4
    again.close()


def test_a_busy_model_is_not_released(model_path: Path) -> None:
    providers = registry(model_path, idle_s=3600)
    provider = providers.get("default")
    assert isinstance(provider, LlamaCppProvider)
    with provider._hold(timeout=5):  # a call in progress
        assert providers.release_idle(now=time.monotonic() + 7200) == []
    assert providers.release_idle(now=time.monotonic() + 7200) == ["default"]


def test_the_background_release_runs_by_itself(model_path: Path) -> None:
    providers = registry(model_path, idle_s=0.2)
    providers.get("default")
    deadline = time.monotonic() + 30
    while providers.built() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert providers.built() == {}


def test_zero_keeps_the_model(model_path: Path) -> None:
    providers = registry(model_path, idle_s=0)
    provider = providers.get("default")
    assert providers.release_idle(now=time.monotonic() + 10**6) == []
    assert providers.built() == {"default": provider}
    provider.close()


def test_dispose_lets_the_containers_model_go_and_leaves_another_containers(
    model_path: Path, engine: Engine
) -> None:
    settings = Settings(
        auth=AuthSettings(secret_key="llama-dispose-secret-0123456789-abcdefgh"),
        llm=LLMSettings(provider="llamacpp", model_path=model_path, n_ctx=N_CTX, n_threads=1),
    )
    first, second = bootstrap(settings, engine=engine), bootstrap(settings, engine=engine)
    provider = first.llm().registry.get("default")
    assert isinstance(provider, LlamaCppProvider)
    llama = weakref.ref(provider._llama)
    kept = second.llm().registry.get("default")
    assert isinstance(kept, LlamaCppProvider) and kept._llama is not provider._llama
    assert first.llama_models.paths() == [model_path] == second.llama_models.paths()
    del provider
    first.dispose()
    assert first.llama_models.paths() == [] and first.built_llm() is None
    gc.collect()
    assert llama() is None  # nothing holds the model: its memory is freed
    assert second.llama_models.paths() == [model_path]  # the other container's stays
    reply = kept.generate("Say hi", max_tokens=2, temperature=0.0, timeout=120)
    assert 0 < reply.tokens_out <= 2
    second.dispose()
