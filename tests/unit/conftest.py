"""The unit tier runs on fakes only: no model is called, and none is even loaded.

``make test-fast`` runs this tier on every change, so a test that reaches for the ONNX
embedder, the torch embedder or llama.cpp fails here at once instead of quietly spending
seconds (or the ~25 s of training the shipped NLU); such tests live in ``tests/integration``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from companion.llm.embeddings import onnx, sbert
from companion.llm.providers import llamacpp
from companion.llm.providers.base import ModelRequestsBlocked, allow_model_requests


def _refuse(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ModelRequestsBlocked(
            f"Unit tests load no model ({what}); use a fake, or move the test to tests/integration"
        )

    return refuse


@contextmanager
def models_blocked() -> Iterator[None]:
    """Real model calls fail loudly, and so does loading a model."""
    allow_model_requests(False)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(onnx.OnnxEmbedder, "__init__", _refuse("the ONNX embedder"))
            patch.setattr(llamacpp, "load_model", _refuse("a llama.cpp model"))
            # The torch adapter's own import check runs first (a unit test covers its
            # message); this is the step right before it reads the weights.
            patch.setattr(sbert, "_quiet_transformers", _refuse("the sentence-transformers model"))
            yield
    finally:
        allow_model_requests(True)


# Hooks, not an autouse fixture: session- and module-scoped fixtures are set up before any
# function-scoped one, and a session-scoped block would outlive this folder. Conftest hooks
# see only this folder's tests, and they wrap every fixture set up or torn down for them.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    with models_blocked():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    with models_blocked():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    with models_blocked():
        return (yield)
