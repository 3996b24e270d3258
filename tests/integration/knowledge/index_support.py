"""Builders shared by the index integration tests: each adapter, on disk, with a fake embedder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qdrant_client import QdrantClient

from companion.knowledge.index.base import VectorIndex
from companion.knowledge.index.local import LocalIndex
from companion.knowledge.index.qdrant import QdrantIndex
from companion.knowledge.retrieval import ChunkDoc

ADAPTERS = ("local", "qdrant")


@contextmanager
def open_adapter(kind: str, root: Path, *, dim: int, embedder: str) -> Iterator[VectorIndex]:
    """The adapter persisted under ``root``; closing releases Qdrant's folder lock."""
    if kind == "local":
        yield LocalIndex(root / "kb", dim=dim, embedder=embedder)
        return
    client = QdrantClient(path=str(root / "qdrant"))
    try:
        yield QdrantIndex(client, "kb_test", dim=dim, vectors_by=embedder)
    finally:
        client.close()


def doc(
    cid: str,
    text: str,
    *,
    company: int | None = 1,
    document: int = 1,
    roles: tuple[str, ...] = (),
    topic: str | None = None,
) -> ChunkDoc:
    return ChunkDoc(
        chunk_id=cid,
        document_id=document,
        company_id=company,
        roles=roles,
        title=f"Document {document}",
        section="Limits",
        text=text,
        source_url=f"/api/v1/ai/knowledge/{document}",
        doc_type="POLICY",
        topic=topic,
    )
