"""Sentence embeddings: the ``Embedder`` port and its adapters, looked up by name.

``onnx`` (default: int8 all-MiniLM-L6-v2 on onnxruntime, no torch), ``sentence_transformers``
(the same model through torch, optional extra ``embeddings-torch``) and ``fake`` (tests).
Real adapters load their model once per process and are reused.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

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
    """Make another adapter available to ``get_embedder(name)``."""
    _ADAPTERS[name] = factory
    get_embedder.cache_clear()


def available() -> list[str]:
    """Names ``get_embedder`` accepts."""
    return sorted(_ADAPTERS)


@cache
def get_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """The process-wide embedder called ``name``, loaded on first use."""
    try:
        factory = _ADAPTERS[name]
    except KeyError:
        raise EmbeddingModelUnavailable(
            f"unknown embedder {name!r}; choose one of {', '.join(available())}",
            details={"embedder": name},
        ) from None
    return factory()


__all__ = [
    "DEFAULT_EMBEDDER",
    "Embedder",
    "EmbeddingModelUnavailable",
    "FakeEmbedder",
    "Vectors",
    "available",
    "get_embedder",
    "l2_normalise",
    "register",
]
