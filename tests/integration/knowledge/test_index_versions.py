"""Blue/green index versions on both adapters: build beside live, switch, roll back, drop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from index_support import ADAPTERS, doc, open_adapter

from companion.errors import InvalidState
from companion.knowledge.index.base import AccessFilter, VectorIndex, VersionNotFound
from companion.knowledge.retrieval import ChunkDoc, Retriever
from companion.llm.embeddings import FakeEmbedder

EMBEDDER = FakeEmbedder()
ACME = AccessFilter.of(1, ["finance"])


@pytest.fixture(params=ADAPTERS)
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorIndex]:
    with open_adapter(
        str(request.param), tmp_path, dim=EMBEDDER.dim, embedder=EMBEDDER.name
    ) as opened:
        yield opened


def ids(index: VectorIndex, text: str, access: AccessFilter = ACME) -> set[str]:
    vector = EMBEDDER.embed([text])[0]
    found = index.search(vector, text, access, 10)
    # Dense search ranks every visible chunk; only a positive cosine counts as found here.
    dense = {s.chunk.chunk_id for s in found.dense if s.score > 1e-6}
    return dense | {s.chunk.chunk_id for s in found.sparse}


def put(index: VectorIndex, chunks: list[ChunkDoc], version: str | None = None) -> None:
    index.upsert(chunks, EMBEDDER.embed([c.text for c in chunks]), version=version)


def test_empty_index_has_no_version_and_finds_nothing(index: VectorIndex) -> None:
    assert index.current_version() is None
    assert index.count() == 0
    assert ids(index, "hotel cap") == set()
    index.delete_document(99)  # nothing to delete is not an error
    assert index.versions() == []


def test_first_upsert_creates_a_live_version(index: VectorIndex) -> None:
    put(index, [doc("kb_1#0", "hotel cap Dhaka"), doc("kb_1#1", "travel desk books trains")])
    assert index.current_version() is not None
    assert index.count() == 2
    assert ids(index, "hotel cap") >= {"kb_1#0"}


def test_new_version_is_built_beside_the_live_one_then_switched(index: VectorIndex) -> None:
    put(index, [doc("old#0", "hotel cap old rules")])
    live = index.current_version()
    assert live is not None

    new = index.create_version()
    put(index, [doc("new#0", "hotel cap new rules", document=2)], version=new)
    # Still the old one for readers until the switch.
    assert index.current_version() == live
    assert ids(index, "hotel cap rules") == {"old#0"}
    assert index.count(version=new) == 1

    index.switch(new)
    assert index.current_version() == new
    assert ids(index, "hotel cap rules") == {"new#0"}
    assert index.versions() == sorted([live, new])


def test_rollback_returns_to_the_previous_version(index: VectorIndex) -> None:
    put(index, [doc("old#0", "hotel cap old rules")])
    first = index.current_version()
    second = index.create_version()
    put(index, [doc("new#0", "hotel cap new rules", document=2)], version=second)
    index.switch(second)

    assert index.rollback() == first
    assert index.current_version() == first
    assert ids(index, "hotel cap rules") == {"old#0"}
    with pytest.raises(VersionNotFound):
        index.rollback()  # nothing older than the first version


def test_drop_version_refuses_the_live_one(index: VectorIndex) -> None:
    put(index, [doc("old#0", "hotel cap")])
    first = index.current_version()
    assert first is not None
    second = index.create_version()
    put(index, [doc("new#0", "leave days", document=2)], version=second)
    index.switch(second)
    with pytest.raises(InvalidState):
        index.drop_version(second)
    index.drop_version(first)
    assert index.versions() == [second]
    with pytest.raises(VersionNotFound):
        index.drop_version(first)
    with pytest.raises(VersionNotFound):
        index.switch("v-missing")


def test_delete_document_removes_every_chunk_of_it(index: VectorIndex) -> None:
    put(
        index,
        [
            doc("kb_1#0", "hotel cap", document=1),
            doc("kb_1#1", "hotel desk", document=1),
            doc("kb_2#0", "hotel leave", document=2),
        ],
    )
    index.delete_document(1)
    assert index.count() == 1
    assert ids(index, "hotel") == {"kb_2#0"}


def test_upsert_replaces_by_chunk_id(index: VectorIndex) -> None:
    put(index, [doc("kb_1#0", "hotel cap")])
    put(index, [doc("kb_1#0", "annual leave days")])
    assert index.count() == 1
    assert ids(index, "hotel") == set()
    assert ids(index, "annual leave") == {"kb_1#0"}


def test_mismatched_vectors_are_refused(index: VectorIndex) -> None:
    with pytest.raises(ValueError):
        index.upsert([doc("a#0", "x")], np.zeros((2, EMBEDDER.dim), dtype=np.float32))


def test_live_version_keeps_serving_during_a_rebuild(index: VectorIndex) -> None:
    retriever = Retriever(index, EMBEDDER, batch_size=1)
    retriever.index([doc("old#0", "hotel cap old rules")])
    before = index.current_version()
    half_built = threading.Event()
    resume = threading.Event()

    def slow_source() -> Iterator[ChunkDoc]:
        yield doc("new#0", "hotel cap new rules", document=2)
        yield doc("new#1", "hotel cap more new rules", document=2)
        half_built.set()
        assert resume.wait(10)
        yield doc("new#2", "hotel cap last new rules", document=2)

    versions: list[str] = []
    builder = threading.Thread(target=lambda: versions.append(retriever.rebuild(slow_source())))
    builder.start()
    try:
        assert half_built.wait(10)
        # Mid-rebuild: readers see the old version, whole.
        during = retriever.retrieve("hotel cap rules", company_id=1, roles=["finance"])
        assert [h.chunk.chunk_id for h in during.hits] == ["old#0"]
        assert during.version == before
    finally:
        resume.set()
        builder.join(10)
    after = retriever.retrieve("hotel cap rules", company_id=1, roles=["finance"])
    assert {h.chunk.chunk_id for h in after.hits} == {"new#0", "new#1", "new#2"}
    assert after.version == versions[0] != before


def test_the_index_survives_a_restart(tmp_path: Path, index: VectorIndex) -> None:
    kind = index.name
    put(index, [doc("kb_1#0", "hotel cap Dhaka"), doc("kb_2#0", "globex lodging", company=2)])
    version = index.current_version()
    if kind == "qdrant":
        index.client.close()  # type: ignore[attr-defined]  # release the folder lock
    with open_adapter(kind, tmp_path, dim=EMBEDDER.dim, embedder=EMBEDDER.name) as reopened:
        assert reopened.current_version() == version
        assert reopened.count() == 2
        assert ids(reopened, "hotel cap") == {"kb_1#0"}
