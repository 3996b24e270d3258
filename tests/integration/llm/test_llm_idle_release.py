"""An in-process model no call asks for is let go after COMPANION_LLM__IDLE_RELEASE_S, and
loaded again by the next call (the real SmolLM2; its own context size, so the session's
shared model is not the one released)."""

from __future__ import annotations

import gc
import time
from functools import partial
from pathlib import Path

from companion.llm.providers.llamacpp import LlamaCppProvider, loaded_models
from companion.llm.service import ProviderRegistry

N_CTX = 256  # not the session fixture's 2048: a model of its own


def registry(model_path: Path, idle_s: float) -> ProviderRegistry:
    factory = partial(LlamaCppProvider, model_path, n_ctx=N_CTX, n_threads=1, name="default")
    return ProviderRegistry({"default": factory}, idle_release_s=idle_s)


def loaded_here(model_path: Path) -> int:
    return sum(1 for p in loaded_models() if p == model_path)


def test_an_idle_model_is_released_and_loaded_again_on_the_next_call(model_path: Path) -> None:
    providers = registry(model_path, idle_s=3600)
    before = loaded_here(model_path)
    first = providers.get("default")
    assert loaded_here(model_path) == before + 1
    assert providers.release_idle() == []  # just used

    assert providers.release_idle(now=time.monotonic() + 3601) == ["default"]
    assert providers.built() == {}
    assert loaded_here(model_path) == before
    del first
    gc.collect()

    again = providers.get("default")
    assert loaded_here(model_path) == before + 1
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
