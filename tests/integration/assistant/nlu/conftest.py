"""The shipped NLU on the real default (ONNX) embedder (trained once per machine, cached in
pytest's cache dir; ~25 s the first time)."""

from __future__ import annotations

import pytest

from companion.assistant.nlu import NLU


@pytest.fixture(scope="session")
def real_nlu(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> NLU:
    """The shipped data on the default (ONNX) embedder; the first run trains (~25 s)."""
    cache = getattr(pytestconfig, "cache", None)  # absent under `-p no:cacheprovider`
    folder = cache.mkdir("companion-nlu-model") if cache else tmp_path_factory.mktemp("nlu-model")
    return NLU.load(cache_dir=folder)
