"""An index made by other vectors (embedder, windows, sentence vectors) is rebuilt, not used."""

from __future__ import annotations

from pathlib import Path

import pytest
from index_support import ADAPTERS, doc, open_adapter

from companion.knowledge.retrieval import Retriever
from companion.llm.embeddings import FakeEmbedder

TEXT = "Hotels in Dhaka cost BDT 6,000 a night. Book through the travel desk."


@pytest.mark.parametrize("kind", ADAPTERS)
def test_a_changed_vectors_by_rebuilds_from_the_source(kind: str, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    source = [doc("a#0", TEXT)]
    with open_adapter(kind, tmp_path, dim=embedder.dim, embedder="fake+w450+sin_context") as index:
        built = Retriever(index, embedder, source=lambda: source).ensure_built()
        assert built is not None and index.count() == 1
    # Reopened as it was made: the live version is kept.
    with open_adapter(kind, tmp_path, dim=embedder.dim, embedder="fake+w450+sin_context") as index:
        assert index.current_version() == built
        assert Retriever(index, embedder, source=lambda: []).ensure_built() == built
    # Reopened with sentence vectors made another way: treated as missing and rebuilt.
    with open_adapter(kind, tmp_path, dim=embedder.dim, embedder="fake+w450") as index:
        assert index.current_version() is None
        rebuilt = Retriever(index, embedder, source=lambda: source).ensure_built()
        assert rebuilt is not None and rebuilt != built
        assert index.count() == 1
        hits = index.sentence_vectors(["a#0"])
        assert hits["a#0"].shape == (2, embedder.dim)
    with open_adapter(kind, tmp_path, dim=embedder.dim, embedder="fake+w450") as index:
        assert index.current_version() == rebuilt
