"""Sentence embeddings: the ``Embedder`` port and its adapters, looked up by name.

``onnx`` (default: int8 all-MiniLM-L6-v2 on onnxruntime, no torch), ``sentence_transformers``
(the same model through torch, optional extra ``embeddings-torch``) and ``fake`` (tests).
``load_embedder(name)`` loads a new one; an ``EmbedderCache`` keeps one per name. The
process's cache belongs to the composition root (``bootstrap.Container.embedder``), which
creates and disposes it; tests give a container their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from companion.llm.embeddings.base import (
    Embedder,
    EmbeddingModelUnavailable,
    Vectors,
    l2_normalise,
)
from companion.llm.embeddings.fake import FakeEmbedder

DEFAULT_EMBEDDER = "onnx"


def _onnx() -> Embedder:
    from companion.llm.embeddings.onnx import OnnxEmbedder

    return OnnxEmbedder()


def _sentence_transformers() -> Embedder:
    from companion.llm.embeddings.sbert import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


def _fake() -> Embedder:
    return FakeEmbedder()


_ADAPTERS: dict[str, Callable[[], Embedder]] = {
    "onnx": _onnx,
    "sentence_transformers": _sentence_transformers,
    "fake": _fake,
}


def register(name: str, factory: Callable[[], Embedder]) -> None:
    """Make another adapter available to ``load_embedder(name)``."""
    _ADAPTERS[name] = factory


def available() -> list[str]:
    """Names ``load_embedder`` accepts."""
    return sorted(_ADAPTERS)


def load_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """A newly loaded embedder called ``name`` (a model load: keep it, or use a cache)."""
    try:
        factory = _ADAPTERS[name]
    except KeyError:
        raise EmbeddingModelUnavailable(
            f"unknown embedder {name!r}; choose one of {', '.join(available())}",
            details={"embedder": name},
        ) from None
    return factory()


class EmbedderCache:
    """One embedder per name, loaded on first use and shared by whoever holds the cache."""

    def __init__(self, loader: Callable[[str], Embedder] = load_embedder) -> None:
        self._loader = loader
        self._loaded: dict[str, Embedder] = {}
        self._lock = threading.Lock()

    def get(self, name: str = DEFAULT_EMBEDDER) -> Embedder:
        """The embedder called ``name``, loaded by the first caller (others wait for it)."""
        with self._lock:
            embedder = self._loaded.get(name)
            if embedder is None:
                embedder = self._loaded[name] = self._loader(name)
            return embedder

    def loaded(self) -> list[str]:
        """Names loaded so far."""
        with self._lock:
            return sorted(self._loaded)

    def clear(self) -> None:
        """Forget every loaded embedder (their memory is freed once nothing else holds them)."""
        with self._lock:
            self._loaded.clear()


__all__ = [
    "DEFAULT_EMBEDDER",
    "Embedder",
    "EmbeddingModelUnavailable",
    "EmbedderCache",
    "FakeEmbedder",
    "Vectors",
    "available",
    "l2_normalise",
    "load_embedder",
    "register",
]
