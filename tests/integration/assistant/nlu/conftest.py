"""The shipped NLU on the real default (ONNX) embedder, trained once per run (~25 s) into the
root conftest's ``nlu_cache``, which the chat end-to-end tests and the demo command share."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.assistant.nlu import NLU
from companion.llm.embeddings import DEFAULT_EMBEDDER, EmbedderCache


@pytest.fixture(scope="session")
def real_nlu(nlu_cache: Path, embedders: EmbedderCache) -> NLU:
    """The shipped data on the default (ONNX) embedder."""
    return NLU.load(cache_dir=nlu_cache, embedder=embedders.get(DEFAULT_EMBEDDER))
