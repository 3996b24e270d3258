"""A deterministic, model-free embedder for unit tests: hashed bag of words."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from companion.llm.embeddings.base import Vectors, empty_vectors, l2_normalise

_WORD = re.compile(r"\w+", re.UNICODE)


class FakeEmbedder:
    """Texts sharing words get similar vectors; the same text always gets the same vector."""

    def __init__(self, dim: int = 256) -> None:
        self._dim = dim
        self.calls = 0

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def name(self) -> str:
        return f"fake:bow-{self._dim}"

    def embed(self, texts: list[str]) -> Vectors:
        """One unit vector per text (a zero row for a text without words)."""
        self.calls += 1
        if not texts:
            return empty_vectors(self._dim)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
                slot = int.from_bytes(digest[:4], "little") % self._dim
                out[row, slot] += 1.0 if digest[4] & 1 else -1.0
        return l2_normalise(out)
