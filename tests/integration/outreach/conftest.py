"""The real small model for the outreach test that uses it (loaded once per session)."""

from __future__ import annotations

import pytest

from companion.llm.locate import resolve_model_path
from companion.llm.providers.llamacpp import LlamaCppProvider, LlamaModels


@pytest.fixture(scope="session")
def smol(llama_models: LlamaModels) -> LlamaCppProvider:
    """SmolLM2-135M in process; one thread, since the test machine's cores are shared."""
    return LlamaCppProvider(resolve_model_path(None), models=llama_models, n_ctx=2048, n_threads=1)
