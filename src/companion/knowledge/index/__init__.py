"""Vector indexes behind the ``VectorIndex`` port: ``local`` (embedded) and ``qdrant``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from companion.knowledge.index.base import (
    AccessFilter,
    IndexUnavailable,
    Scored,
    SearchResult,
    VectorIndex,
    VersionNotFound,
)

if TYPE_CHECKING:
    from companion.config import RagSettings


def open_index(rag: RagSettings, root: Path | None, *, dim: int, embedder: str) -> VectorIndex:
    """The index the settings ask for: ``local`` under ``root``, or ``qdrant``."""
    if rag.index_backend == "qdrant":
        from qdrant_client import QdrantClient

        from companion.knowledge.index.qdrant import QdrantIndex

        if rag.qdrant_url:
            client = QdrantClient(url=rag.qdrant_url, api_key=rag.qdrant_api_key)
        else:
            # Embedded Qdrant (same API as a server) in a folder beside the database.
            path = rag.qdrant_path or (root / "qdrant" if root is not None else None)
            client = QdrantClient(path=str(path)) if path else QdrantClient(":memory:")
        return QdrantIndex(client, rag.collection, dim=dim, vectors_by=embedder)
    from companion.knowledge.index.local import LocalIndex

    return LocalIndex(root, dim=dim, embedder=embedder)


__all__ = [
    "AccessFilter",
    "IndexUnavailable",
    "Scored",
    "SearchResult",
    "VectorIndex",
    "VersionNotFound",
    "open_index",
]
