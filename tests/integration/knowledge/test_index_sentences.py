"""Both index adapters store a chunk's sentence vectors and give them back after a reopen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from index_support import ADAPTERS, doc, open_adapter

from companion.knowledge.retrieval import Retriever
from companion.llm.embeddings import FakeEmbedder

TEXT = "Hotels in Dhaka cost BDT 6,000 a night. Book through the travel desk."


@pytest.mark.parametrize("kind", ADAPTERS)
def test_sentence_vectors_are_stored_with_the_chunk(kind: str, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    with open_adapter(kind, tmp_path, dim=embedder.dim, embedder=embedder.name) as index:
        retriever = Retriever(index, embedder)
        retriever.index([doc("a#0", TEXT), doc("b#0", "Leave: 20 days a year.", document=2)])
        first = index.sentence_vectors(["a#0", "b#0"])
        result = retriever.retrieve("Book through the travel desk.", company_id=1, roles=[])
        assert result.evidence == pytest.approx(1.0, abs=2e-3)
        index.delete_document(2)
        assert set(index.sentence_vectors(["a#0", "b#0"])) == {"a#0"}
    with open_adapter(kind, tmp_path, dim=embedder.dim, embedder=embedder.name) as index:
        again = index.sentence_vectors(["a#0"])
    assert first["a#0"].shape == (2, embedder.dim)
    assert np.allclose(again["a#0"], first["a#0"], atol=2e-3)
    expected = embedder.embed(["Hotels in Dhaka cost BDT 6,000 a night."])[0]
    assert np.allclose(again["a#0"][0], expected, atol=2e-3)
