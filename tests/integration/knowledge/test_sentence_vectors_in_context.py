"""Sentence vectors pooled from the chunk's own model pass (shipped), on the real model."""

from __future__ import annotations

import numpy as np
import pytest

from companion.config import RagSettings
from companion.knowledge.index.local import LocalIndex
from companion.knowledge.retrieval import (
    CALIBRATIONS,
    ChunkDoc,
    Retriever,
    evidence_sentences,
    vectors_by,
)
from companion.llm.embeddings import FakeEmbedder, load_embedder
from companion.llm.embeddings.onnx import OnnxEmbedder

HEADING = "Travel policy > Hotels"
SHORT = (
    f"{HEADING}\nHotels in Dhaka cost BDT 6,000 a night. Staff wear formal clothes on client "
    "visits. The fire alarm is tested every Monday at noon."
)
RULES = [f"Rule {i} says staff of grade {i} take {i + 10} days of leave a year." for i in range(30)]
LONG = HEADING + "\n" + " ".join(RULES)
# One "sentence" longer than any window: cut between words there, so no window holds it.
RUN_ON = HEADING + "\n" + " ".join(f"item{i} costs {i} taka" for i in range(120))


def chunk(cid: str, text: str) -> ChunkDoc:
    return ChunkDoc(cid, 1, 1, (), "Travel policy", None, text, None, "POLICY")


@pytest.fixture(scope="module")
def onnx() -> OnnxEmbedder:
    embedder = load_embedder("onnx")
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


def retriever(embedder: OnnxEmbedder, *, in_context: bool) -> Retriever:
    index = LocalIndex(None, dim=embedder.dim, embedder=embedder.name)
    return Retriever(index, embedder, embed_window_chars=450, sentences_in_context=in_context)


def test_one_pass_gives_the_chunk_vectors_and_a_vector_per_sentence(onnx: OnnxEmbedder) -> None:
    chunks = [chunk("a#0", SHORT), chunk("a#1", LONG), chunk("a#2", RUN_ON)]
    r = retriever(onnx, in_context=True)
    vectors, sentences = r.embed_for_index(chunks)
    # The chunk vectors are the ones the separate way makes: ranking does not change.
    separate_vectors, separate = retriever(onnx, in_context=False).embed_for_index(chunks)
    assert np.allclose(vectors, separate_vectors, atol=1e-5)
    assert [len(m) for m in sentences] == [len(evidence_sentences(c)) for c in chunks]
    assert all(np.allclose(np.linalg.norm(m, axis=1), 1.0, atol=1e-4) for m in sentences)
    # Each pooled vector is its own sentence's, strongly coloured by the heading and the
    # sentences around it (why the two ways have calibrations of their own): of the pooled
    # vectors, a sentence embedded alone is nearest its own (the spans are right).
    similarity = sentences[0] @ separate[0].T
    assert (similarity.argmax(axis=0) == np.arange(3)).all(), similarity
    # A sentence no window holds whole is embedded on its own.
    assert np.allclose(sentences[2], separate[2], atol=1e-5)


def test_indexing_stores_the_pooled_vectors(onnx: OnnxEmbedder) -> None:
    r = retriever(onnx, in_context=True)
    r.index([chunk("a#0", SHORT)])
    stored = r.vector_index.sentence_vectors(["a#0"])["a#0"]
    _, expected = r.embed_for_index([chunk("a#0", SHORT)])
    assert np.allclose(stored, expected[0], atol=2e-3)  # stored in half precision
    result = r.retrieve("how much is a hotel night in Dhaka?", company_id=1, roles=[])
    assert result.evidence > 0.5 and result.hits[0].chunk.chunk_id == "a#0"


def test_the_settings_choose_the_sentence_vectors_and_their_calibration(
    onnx: OnnxEmbedder,
) -> None:
    rag = RagSettings()
    index = LocalIndex(None, dim=onnx.dim, embedder=onnx.name)
    shipped = Retriever.configured(index, onnx, rag)
    assert shipped.sentences_in_context and shipped.calibration == CALIBRATIONS["in_context"]
    assert shipped.embed_window_chars == rag.embed_window_chars
    separate = Retriever.configured(index, onnx, RagSettings(sentence_vectors="separate"))
    assert not separate.sentences_in_context
    assert separate.calibration == CALIBRATIONS["separate"]
    # An embedder that cannot pool spans always embeds sentences on their own.
    fake = Retriever.configured(index, FakeEmbedder(), rag)
    assert not fake.sentences_in_context and fake.calibration == CALIBRATIONS["separate"]
    # An operator's values replace the fitted ones; a floor of -1 turns the floor off.
    tuned = Retriever.configured(
        index, onnx, RagSettings(confidence_threshold=0.7, coverage_weight=0.2, min_top_dense=-1)
    )
    assert (tuned.confidence_threshold, tuned.calibration.coverage_weight) == (0.7, 0.2)
    assert tuned.min_top_dense is None


def test_the_index_name_records_how_sentence_vectors_are_made(onnx: OnnxEmbedder) -> None:
    assert vectors_by(onnx, RagSettings()) == f"{onnx.name}+w900+sin_context"
    # Separate sentence vectors keep the name indexes had before the choice existed.
    assert vectors_by(onnx, RagSettings(sentence_vectors="separate")) == f"{onnx.name}+w900"
    assert vectors_by(FakeEmbedder(), RagSettings()) == f"{FakeEmbedder().name}+w900"
