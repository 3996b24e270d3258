"""The real small model, in process and behind llama-cpp-python's OpenAI-compatible server.

The model (98 MB) is loaded once per session; the server is started once per session on a
free loopback port and stopped at the end. Tests that kill a server start their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.llm.locate import resolve_model_path
from companion.llm.providers.llamacpp import LlamaCppProvider, LlamaModels
from companion.llm.providers.openai_compat import OpenAICompatProvider
from llmserver import SERVED_MODEL, RemoteFactory, Server, start_server


@pytest.fixture(scope="session")
def model_path() -> Path:
    return resolve_model_path(None)


@pytest.fixture(scope="session")
def smol(model_path: Path, llama_models: LlamaModels) -> LlamaCppProvider:
    """SmolLM2-135M in process; one thread, since the test machine's cores are shared."""
    return LlamaCppProvider(model_path, models=llama_models, n_ctx=2048, n_threads=1)


@pytest.fixture(scope="session")
def llama_server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(model_path, tmp_path_factory.mktemp("llama-server"))
    yield server
    server.stop()


@pytest.fixture
def remote() -> Iterator[RemoteFactory]:
    """Makes OpenAI-compatible providers (quick backoff) and closes them after the test."""
    made: list[OpenAICompatProvider] = []

    def make(base_url: str, model: str = SERVED_MODEL, **kwargs: object) -> OpenAICompatProvider:
        options: dict[str, object] = {"backoff_s": 0.01, "timeout_s": 120.0, **kwargs}
        provider = OpenAICompatProvider(base_url, model, **options)  # type: ignore[arg-type]
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()
