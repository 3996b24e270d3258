"""Container.retriever(): built once, from the settings, rebuilt from the database if missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from index_support import doc
from sqlalchemy.engine import Engine

from companion.bootstrap import bootstrap
from companion.config import RagSettings, Settings
from companion.knowledge.index.local import LocalIndex
from companion.knowledge.index.qdrant import QdrantIndex


@pytest.mark.parametrize("index_backend", ["local", "qdrant"])
def test_container_builds_one_retriever_from_settings(
    engine: Engine, tmp_path: Path, index_backend: str
) -> None:
    settings = Settings(
        demo_mode=True,
        data_dir=tmp_path,
        rag=RagSettings(
            index_backend=index_backend, embedder="fake", k=3, confidence_threshold=0.1
        ),
    )
    container = bootstrap(settings, engine=engine)
    retriever = container.retriever()
    assert retriever is container.retriever()
    expected = LocalIndex if index_backend == "local" else QdrantIndex
    assert isinstance(retriever.vector_index, expected)
    # No index existed: one was built from the (empty) chunk table and made live.
    assert retriever.vector_index.current_version() is not None
    assert retriever.k == 3 and retriever.confidence_threshold == 0.1
    if index_backend == "local":
        assert (tmp_path / "kb" / "CURRENT").is_file()
    else:
        assert (tmp_path / "kb" / "qdrant").is_dir()
        retriever.vector_index.client.close()  # type: ignore[attr-defined]


def test_a_restarted_process_reuses_the_persisted_local_index(
    engine: Engine, tmp_path: Path
) -> None:
    settings = Settings(demo_mode=True, data_dir=tmp_path, rag=RagSettings(embedder="fake"))
    first = bootstrap(settings, engine=engine).retriever()
    first.index([doc("kb_1#0", "hotel cap Dhaka")])
    version = first.vector_index.current_version()

    second = bootstrap(settings, engine=engine).retriever()
    assert second.vector_index.current_version() == version
    hits = second.retrieve("hotel cap", company_id=1, roles=[]).hits
    assert [h.chunk.chunk_id for h in hits] == ["kb_1#0"]
