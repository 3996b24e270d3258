"""The embedder port: text in, L2-normalised float32 vectors out."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from companion.errors import ServiceUnavailable

Vectors = npt.NDArray[np.float32]
# A [start, end) range of characters in a text.
Span = tuple[int, int]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors of a fixed dimension."""

    @property
    def dim(self) -> int: ...

    @property
    def name(self) -> str: ...

    def embed(self, texts: list[str]) -> Vectors: ...


@runtime_checkable
class SpanEmbedder(Embedder, Protocol):
    """An embedder that also pools spans of each text from the same model pass."""

    def embed_spans(
        self, texts: list[str], spans: Sequence[Sequence[Span]]
    ) -> tuple[Vectors, list[Vectors]]: ...


class EmbeddingModelUnavailable(ServiceUnavailable):
    """A model file is missing, damaged, or its runtime is not installed."""

    code = "embedding_model_unavailable"


def l2_normalise(matrix: npt.NDArray[np.floating]) -> Vectors:
    """Rows scaled to unit length (all-zero rows stay zero), as float32."""
    out = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.asarray(out / np.maximum(norms, 1e-12), dtype=np.float32)


def empty_vectors(dim: int) -> Vectors:
    """The (0, dim) result for an empty batch."""
    return np.zeros((0, dim), dtype=np.float32)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: Path, sha256: str, *, install_hint: str) -> Path:
    """Return ``path`` if it exists with the pinned sha256, else a clear error."""
    if not path.is_file():
        raise EmbeddingModelUnavailable(
            f"model file {path} is missing; {install_hint}",
            details={"path": str(path)},
        )
    actual = sha256_of(path)
    if actual != sha256:
        raise EmbeddingModelUnavailable(
            f"model file {path} has sha256 {actual}, expected {sha256}; {install_hint}",
            details={"path": str(path), "sha256": actual, "expected": sha256},
        )
    return path
