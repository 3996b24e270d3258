"""The embedded index writes a change to the live version as a small delta file, not whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from index_support import doc

from companion.knowledge.index import local
from companion.knowledge.index.base import AccessFilter
from companion.knowledge.index.local import INDEX_FILE, LocalIndex
from companion.knowledge.retrieval import Retriever
from companion.llm.embeddings import FakeEmbedder

EMBEDDER = FakeEmbedder()


def open_index(root: Path) -> LocalIndex:
    return LocalIndex(root, dim=EMBEDDER.dim, embedder=EMBEDDER.name)


def files(root: Path, version: str) -> tuple[list[str], int]:
    folder = root / version
    deltas = sorted(p.name for p in folder.iterdir() if p.name.startswith("delta-"))
    return deltas, (folder / INDEX_FILE).stat().st_mtime_ns


def ids(index: LocalIndex) -> list[str]:
    return sorted(c.chunk_id for c in index.chunks())


def test_changes_are_deltas_on_top_of_the_base_and_survive_a_reopen(tmp_path: Path) -> None:
    index = open_index(tmp_path)
    retriever = Retriever(index, EMBEDDER)
    version = retriever.rebuild([doc("a#0", "Hotels cost BDT 6,000 a night.", document=1)])
    _, base = files(tmp_path, version)
    retriever.index([doc("b#0", "Leave is 20 days a year.", document=2)])
    retriever.index([doc("c#0", "Claims within 30 days.", document=3)])
    retriever.remove_document(1)
    deltas, base_after = files(tmp_path, version)
    assert len(deltas) == 3 and base_after == base  # the base was not rewritten
    reopened = open_index(tmp_path)
    assert reopened.current_version() == version
    assert ids(reopened) == ["b#0", "c#0"]
    stored = reopened.sentence_vectors(["b#0"])["b#0"]
    assert np.allclose(stored, EMBEDDER.embed(["Leave is 20 days a year."]), atol=2e-3)
    # Re-indexing a document replaces its chunks, delta on delta.
    retriever.index([doc("b#0", "Leave is 25 days a year.", document=2)])
    hits = open_index(tmp_path).search(
        EMBEDDER.embed(["leave"])[0], "leave", AccessFilter.of(1, []), 5
    )
    assert [h.chunk.text for h in hits.sparse] == ["Leave is 25 days a year."]


def test_another_process_sees_a_delta_on_its_next_search(tmp_path: Path) -> None:
    server, cli = open_index(tmp_path), open_index(tmp_path)
    Retriever(server, EMBEDDER).rebuild([doc("a#0", "Hotels cost BDT 6,000 a night.")])
    assert cli.current_version() == server.current_version()
    Retriever(cli, EMBEDDER).index([doc("b#0", "Petty cash is counted on Thursday.", document=2)])
    found = server.search(
        EMBEDDER.embed(["petty cash"])[0], "petty cash", AccessFilter.of(1, []), 5
    )
    assert "b#0" in [h.chunk.chunk_id for h in found.sparse]


def test_many_deltas_are_compacted_into_the_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "COMPACT_AFTER", 3)
    index = open_index(tmp_path)
    retriever = Retriever(index, EMBEDDER)
    version = retriever.rebuild([doc("a#0", "Hotels cost BDT 6,000 a night.")])
    for n in range(1, 4):
        retriever.index([doc(f"d{n}#0", f"Rule {n}: receipts over {n}00 taka.", document=10 + n)])
    assert len(files(tmp_path, version)[0]) == 3
    retriever.index([doc("d4#0", "Rule 4: receipts over 400 taka.", document=14)])
    assert files(tmp_path, version)[0] == []  # written whole, deltas gone
    assert ids(open_index(tmp_path)) == ["a#0", "d1#0", "d2#0", "d3#0", "d4#0"]
