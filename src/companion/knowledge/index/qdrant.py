"""The Qdrant index: dense + BM25-style sparse vectors, a payload index on company, aliases.

Each version is a collection ``<name>__<version>``; the alias ``<name>`` points at the live
one, and ``switch`` moves it in one atomic alias operation, so readers never see a
half-built index. Sparse vectors carry BM25 term-frequency weights computed by
``knowledge.sparse``; Qdrant applies the IDF (``Modifier.IDF``), scoped to the points the
caller may see where the server supports it.

Tested through qdrant-client's local mode (``QdrantClient(":memory:")`` or ``path=...``),
which speaks the same API as a server.
"""

from __future__ import annotations

import functools
import inspect
import uuid
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException

from companion.errors import InvalidState
from companion.knowledge.index.base import (
    AccessFilter,
    IndexUnavailable,
    Scored,
    SearchResult,
    Vector,
    Vectors,
    VersionNotFound,
    new_version_id,
    previous_version,
)
from companion.knowledge.retrieval import ChunkDoc, chunk_from_dict, chunk_to_dict
from companion.knowledge.sparse import document_weights, query_weights, tokenize

DENSE = "dense"
SPARSE = "bm25"


class _Reachable:
    """The client, with a server that cannot be reached raised as ``IndexUnavailable``.

    qdrant-client wraps a refused connection or a timeout (5 s by default) in
    ``ResponseHandlingException``; callers (the chat's knowledge skill, the warm-up) know
    ``IndexUnavailable`` and carry on without the index.
    """

    def __init__(self, client: QdrantClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr
        return _guarded(attr)


def _guarded(call: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(call)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except ResponseHandlingException as exc:
            raise IndexUnavailable(
                f"the Qdrant server cannot be reached: {exc}", details={"reason": str(exc)[:200]}
            ) from exc

    return guarded


PUBLIC = "*"  # the access-role value of a chunk open to every role
GLOBAL_COMPANY = 0  # company ids start at 1; 0 marks the global corpus
# Payload key of a chunk's sentence vectors (the abstention evidence); searches leave it out.
SENTENCES = "sentence_vectors"
# BM25 length normalisation needs an average length; chunks are sized by the chunker, so a
# fixed typical value (terms after stop words) keeps weights stable across upserts.
AVG_TERMS = 60.0
_NAMESPACE = uuid.UUID("6f0f5d0e-7c1a-4a8e-9b38-3c1d2b0e4a11")


def point_id(chunk_id: str) -> str:
    """Qdrant point ids are UUIDs or integers: a stable UUID per chunk id."""
    return str(uuid.uuid5(_NAMESPACE, chunk_id))


def access_filter(access: AccessFilter) -> models.Filter:
    """The payload filter of the visibility rule, applied by Qdrant before ranking."""
    return models.Filter(
        must=[
            models.FieldCondition(
                key="company_key",
                match=models.MatchAny(any=[access.company_id, GLOBAL_COMPANY]),
            ),
            models.FieldCondition(
                key="access_roles",
                match=models.MatchAny(any=[PUBLIC, *sorted(access.roles)]),
            ),
        ]
    )


class QdrantIndex:
    """``VectorIndex`` on Qdrant (a server, or qdrant-client's local mode)."""

    name = "qdrant"

    def __init__(
        self, client: QdrantClient, collection: str, *, dim: int, vectors_by: str | None = None
    ) -> None:
        # Typed as the client: every call it makes goes through the same methods.
        self.client: QdrantClient = _Reachable(client)  # type: ignore[assignment]
        self.collection = collection
        self.dim = dim
        # How the vectors are made (embedder, windows, sentence vectors), recorded in each
        # version's collection metadata: a live version made otherwise counts as missing,
        # so the retriever rebuilds it from the database.
        self.vectors_by = vectors_by
        self._metadata = "metadata" in inspect.signature(client.create_collection).parameters
        self._made_by: dict[str, bool] = {}
        # A server that predates corpus-scoped IDF gets collection-wide IDF instead.
        self._scoped_idf = hasattr(models, "IdfCorpusParams")

    def _collection_of(self, version: str) -> str:
        return f"{self.collection}__{version}"

    def _target(self, version: str | None) -> str:
        if version is None:
            if self.current_version() is None:
                first = self.create_version()
                self.switch(first)
            return self.collection
        name = self._collection_of(version)
        if not self.client.collection_exists(name):
            raise VersionNotFound(
                f"no knowledge index version {version!r}", details={"version": version}
            )
        return name

    def upsert(
        self,
        chunks: Sequence[ChunkDoc],
        vectors: Vectors,
        *,
        version: str | None = None,
        sentences: Sequence[Vectors | None] | None = None,
    ) -> None:
        """Insert or replace chunks (point id derived from ``chunk_id``)."""
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        per_chunk = list(sentences) if sentences is not None else [None] * len(chunks)
        if len(per_chunk) != len(chunks):
            raise ValueError(f"{len(chunks)} chunks but {len(per_chunk)} sentence matrices")
        if not chunks:
            return
        target = self._target(version)
        points = []
        for chunk, vector, said in zip(chunks, vectors, per_chunk, strict=True):
            weights = document_weights(tokenize(chunk.text), AVG_TERMS)
            payload: dict[str, Any] = chunk_to_dict(chunk)
            payload["company_key"] = (
                GLOBAL_COMPANY if chunk.company_id is None else chunk.company_id
            )
            payload["access_roles"] = list(chunk.roles) or [PUBLIC]
            if said is not None:
                # Four decimals: enough for a max-cosine score, a third of the JSON.
                payload[SENTENCES] = [[round(float(x), 4) for x in row] for row in said]
            points.append(
                models.PointStruct(
                    id=point_id(chunk.chunk_id),
                    vector={
                        DENSE: [float(x) for x in vector],
                        SPARSE: models.SparseVector(
                            indices=list(weights), values=list(weights.values())
                        ),
                    },
                    payload=payload,
                )
            )
        self.client.upsert(collection_name=target, points=points, wait=True)

    def delete_document(self, document_id: int, *, version: str | None = None) -> None:
        """Remove every point of a document."""
        if version is None and self.current_version() is None:
            return
        self.client.delete(
            collection_name=self._target(version),
            points_selector=models.FilterSelector(
                filter=models.Filter(
                    must=[
                        models.FieldCondition(
                            key="document_id", match=models.MatchValue(value=document_id)
                        )
                    ]
                )
            ),
            wait=True,
        )

    def search(self, dense: Vector, text: str, access: AccessFilter, k: int) -> SearchResult:
        """Dense and sparse top-k through the alias, filtered by the payload filter."""
        if self.current_version() is None or k <= 0:
            return SearchResult(dense=[], sparse=[])
        flt = access_filter(access)
        requests = [
            models.QueryRequest(
                query=[float(x) for x in dense],
                using=DENSE,
                filter=flt,
                limit=k,
                with_payload=models.PayloadSelectorExclude(exclude=[SENTENCES]),
            )
        ]
        weights = query_weights(tokenize(text))
        if weights:
            params = (
                models.SearchParams(idf=models.IdfCorpusParams(corpus=flt))
                if self._scoped_idf
                else None
            )
            requests.append(
                models.QueryRequest(
                    query=models.SparseVector(indices=list(weights), values=list(weights.values())),
                    using=SPARSE,
                    filter=flt,
                    limit=k,
                    with_payload=models.PayloadSelectorExclude(exclude=[SENTENCES]),
                    params=params,
                )
            )
        try:
            responses = self.client.query_batch_points(
                collection_name=self.collection, requests=requests
            )
        except (ValueError, RuntimeError) as exc:
            raise IndexUnavailable(
                f"the Qdrant collection {self.collection!r} cannot be searched: {exc}",
                details={"collection": self.collection},
            ) from exc
        ranked = [
            [
                Scored(chunk_from_dict(dict(point.payload or {})), float(point.score))
                for point in response.points
            ]
            for response in responses
        ]
        return SearchResult(dense=ranked[0], sparse=ranked[1] if len(ranked) > 1 else [])

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, Vectors]:
        """Stored sentence vectors of live chunks, read by point id through the alias."""
        if not chunk_ids or self.current_version() is None:
            return {}
        points = self.client.retrieve(
            collection_name=self.collection,
            ids=[point_id(c) for c in chunk_ids],
            with_payload=["chunk_id", SENTENCES],
            with_vectors=False,
        )
        out: dict[str, Vectors] = {}
        for point in points:
            payload = point.payload or {}
            if SENTENCES in payload:
                rows = np.asarray(payload[SENTENCES], dtype=np.float32)
                out[str(payload["chunk_id"])] = rows.reshape(-1, self.dim)
        return out

    def count(self, *, version: str | None = None) -> int:
        """Points in a version (0 before the first build)."""
        if version is None and self.current_version() is None:
            return 0
        return int(self.client.count(collection_name=self._target(version), exact=True).count)

    def create_version(self) -> str:
        """A new empty collection with the dense + sparse schema and payload indexes."""
        version = new_version_id()
        name = self._collection_of(version)
        self.client.create_collection(
            collection_name=name,
            vectors_config={
                DENSE: models.VectorParams(size=self.dim, distance=models.Distance.COSINE)
            },
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            **self._recorded(),
        )
        with warnings.catch_warnings():
            # Local mode ignores payload indexes and warns so; a server builds them.
            warnings.simplefilter("ignore", UserWarning)
            for key, schema in (
                ("company_key", models.PayloadSchemaType.INTEGER),
                ("access_roles", models.PayloadSchemaType.KEYWORD),
                ("document_id", models.PayloadSchemaType.INTEGER),
            ):
                self.client.create_payload_index(
                    collection_name=name, field_name=key, field_schema=schema
                )
        return version

    def switch(self, version: str) -> None:
        """Point the alias at ``version`` in one atomic alias change."""
        name = self._collection_of(version)
        if not self.client.collection_exists(name):
            raise VersionNotFound(
                f"no knowledge index version {version!r}", details={"version": version}
            )
        operations: list[models.CreateAliasOperation | models.DeleteAliasOperation] = []
        if self._aliased() is not None:
            operations.append(
                models.DeleteAliasOperation(
                    delete_alias=models.DeleteAlias(alias_name=self.collection)
                )
            )
        operations.append(
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=name, alias_name=self.collection)
            )
        )
        self.client.update_collection_aliases(change_aliases_operations=operations)

    def rollback(self) -> str:
        """Point the alias back at the newest version older than the live one."""
        target = previous_version(self.versions(), self.current_version())
        self.switch(target)
        return target

    def current_version(self) -> str | None:
        """The version the alias points at (None when it was made by other vectors)."""
        live = self._aliased()
        if live is None or not self._made_here(live):
            return None
        return live

    def _aliased(self) -> str | None:
        prefix = f"{self.collection}__"
        for alias in self.client.get_aliases().aliases:
            if alias.alias_name == self.collection and alias.collection_name.startswith(prefix):
                return alias.collection_name[len(prefix) :]
        return None

    def _recorded(self) -> dict[str, Any]:
        """create_collection's metadata argument (a client too old for it records nothing)."""
        if not (self._metadata and self.vectors_by):
            return {}
        return {"metadata": {"vectors_by": self.vectors_by}}

    def _made_here(self, version: str) -> bool:
        """Whether a version's recorded vectors_by matches ours (unrecorded: assume so)."""
        if not self.vectors_by:
            return True
        if version not in self._made_by:  # fixed once the collection exists: read it once
            config = self.client.get_collection(self._collection_of(version)).config
            recorded = (getattr(config, "metadata", None) or {}).get("vectors_by")
            self._made_by[version] = recorded is None or recorded == self.vectors_by
        return self._made_by[version]

    def versions(self) -> list[str]:
        """Every version collection, oldest first."""
        prefix = f"{self.collection}__"
        return sorted(
            c.name[len(prefix) :]
            for c in self.client.get_collections().collections
            if c.name.startswith(prefix)
        )

    def drop_version(self, version: str) -> None:
        """Delete a version's collection (never the live one)."""
        if version == self._aliased():
            raise InvalidState(
                "the live index version cannot be dropped; switch first",
                details={"version": version},
            )
        if version not in self.versions():
            raise VersionNotFound(
                f"no knowledge index version {version!r}", details={"version": version}
            )
        self.client.delete_collection(collection_name=self._collection_of(version))
        self._made_by.pop(version, None)
