"""Long chunks are embedded whole (mean of windows), and confidence weighs the best hit's words."""

from __future__ import annotations

import numpy as np
import pytest

from companion.knowledge.index.base import Scored
from companion.knowledge.index.local import LocalIndex
from companion.knowledge.retrieval import (
    Calibration,
    ChunkDoc,
    Retriever,
    coverage,
    embedding_windows,
    rrf_fuse,
    topic_coverage,
)
from companion.llm.embeddings import FakeEmbedder

HEADING = "Staff handbook > Leave"
SENTENCES = [
    f"Rule {i} says staff of grade {i} take {i + 10} days of leave a year." for i in range(40)
]
LONG = HEADING + "\n" + " ".join(SENTENCES)


def chunk(cid: str, text: str) -> ChunkDoc:
    return ChunkDoc(cid, 1, 1, (), "Doc", None, text, None, "POLICY")


def retriever(window: int | None = 300) -> Retriever:
    embedder = FakeEmbedder()
    index = LocalIndex(None, dim=embedder.dim, embedder=embedder.name)
    return Retriever(index, embedder, embed_window_chars=window, calibration=Calibration(0.7, 0.0))


def test_a_short_chunk_is_one_window() -> None:
    assert embedding_windows("Title > A\nShort text.", 300) == ["Title > A\nShort text."]


def test_a_long_chunk_is_cut_into_whole_sentence_windows_that_carry_the_heading() -> None:
    windows = embedding_windows(LONG, 300)
    assert len(windows) > 5
    assert all(len(w) <= 300 and w.startswith(HEADING + "\n") for w in windows)
    # Every sentence lands whole in exactly one window, in order.
    bodies = [w.removeprefix(HEADING + "\n").split("\n") for w in windows]
    assert [s for body in bodies for s in body] == SENTENCES


def test_a_sentence_longer_than_a_window_is_cut_between_words() -> None:
    text = "Heading\n" + "word " * 200
    windows = embedding_windows(text, 120)
    assert all(len(w) <= 120 for w in windows)
    assert sum(w.count("word") for w in windows) == 200


def test_a_long_chunk_vector_is_the_mean_of_its_windows() -> None:
    r = retriever(300)
    vector = r.embed_chunks([LONG])[0]
    parts = r.embedder.embed(embedding_windows(LONG, 300))
    mean = parts.sum(axis=0)
    assert np.allclose(vector, mean / np.linalg.norm(mean), atol=1e-6)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    # A short chunk's vector is the embedder's own; windows off embeds the text as given.
    short = "Doc\nHotels cost BDT 6,000."
    assert np.allclose(r.embed_chunks([short])[0], r.embedder.embed([short])[0])
    assert np.allclose(retriever(None).embed_chunks([LONG])[0], r.embedder.embed([LONG])[0])


def test_indexing_uses_the_windowed_vectors() -> None:
    r = retriever(300)
    r.index([chunk("a#0", LONG)])
    result = r.retrieve("Rule 39 says staff of grade 39 take 49 days", company_id=1, roles=[])
    assert result.hits[0].dense_score == pytest.approx(
        float(r.embed_chunks([LONG])[0] @ r.embedder.embed([result.query])[0]), abs=1e-5
    )


def test_topic_coverage_counts_the_best_hit_twice() -> None:
    hits = rrf_fuse(
        [
            Scored(chunk("a", "Hotels in Dhaka cost BDT 6,000 a night."), 0.9),
            Scored(chunk("b", "The office opens at nine."), 0.8),
        ],
        [],
    )
    question = "what is the policy on pets in the office?"  # topic words: pets, office
    assert coverage(question, hits, 1) == 0.0 and coverage(question, hits, 3) == 0.5
    assert topic_coverage(question, hits) == 0.25
    on_topic = "hotels in Dhaka"
    assert topic_coverage(on_topic, hits) == 1.0


def test_confidence_is_sentence_evidence_plus_weighted_topic_coverage() -> None:
    r = retriever(None)
    r.index([chunk("a#0", "Hotels in Dhaka cost BDT 6,000 a night."), chunk("a#1", "Office hours")])
    result = r.retrieve("hotel in Dhaka", company_id=1, roles=[])
    assert result.evidence > 0.0
    assert result.confidence == pytest.approx(result.evidence + 0.7 * result.coverage)
