"""The vector-index port: dense + keyword search behind one small interface, with versions.

Adapters: ``local`` (in-process numpy + BM25, persisted beside the database), ``qdrant``
(dense + sparse vectors, aliases for blue/green) and ``fake`` (unit tests). Every adapter
applies the ``AccessFilter`` *inside* the search, before ranking: a chunk the caller may
not see is never a candidate.

Versions (blue/green): ``create_version`` makes an empty version beside the live one,
``upsert(..., version=v)`` fills it while the live one keeps serving, ``switch(v)`` makes
it live atomically, ``rollback()`` goes back to the newest older version still kept.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from companion.errors import NotFound, ServiceUnavailable

if TYPE_CHECKING:
    from companion.knowledge.retrieval import ChunkDoc

Vector = npt.NDArray[np.float32]
Vectors = npt.NDArray[np.float32]


class IndexUnavailable(ServiceUnavailable):
    """The vector index cannot be reached or read."""

    code = "knowledge_index_unavailable"


class VersionNotFound(NotFound):
    """No index version with that id (or nothing to roll back to)."""

    code = "knowledge_index_version_not_found"


@dataclass(frozen=True)
class AccessFilter:
    """Who is asking: a chunk is visible iff it is this company's or global, and its roles allow."""

    company_id: int
    roles: frozenset[str]

    @classmethod
    def of(cls, company_id: int, roles: Sequence[str]) -> AccessFilter:
        """A filter for (company, roles)."""
        return cls(company_id=company_id, roles=frozenset(roles))

    def allows(self, company_id: int | None, roles: Sequence[str]) -> bool:
        """The visibility rule of the knowledge interface."""
        if company_id is not None and company_id != self.company_id:
            return False
        return not roles or bool(self.roles.intersection(roles))


@dataclass(frozen=True)
class Scored:
    """One candidate of one retriever, best first in its list."""

    chunk: ChunkDoc
    score: float


@dataclass(frozen=True)
class SearchResult:
    """The dense and keyword rankings of one query, each already access-filtered."""

    dense: list[Scored]
    sparse: list[Scored]


def new_version_id() -> str:
    """A sortable, unique version id: ``v20261123T133400123456-1a2b``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"v{stamp}-{secrets.token_hex(2)}"


def previous_version(versions: Sequence[str], current: str | None) -> str:
    """The newest version older than ``current`` (version ids sort by creation time)."""
    older = sorted(v for v in versions if current is None or v < current)
    if not older:
        raise VersionNotFound(
            "there is no older index version to roll back to",
            details={"current": current, "versions": list(versions)},
        )
    return older[-1]


@runtime_checkable
class VectorIndex(Protocol):
    """Dense + keyword index of ``ChunkDoc``s, versioned; search filters before ranking."""

    @property
    def name(self) -> str: ...

    def upsert(
        self,
        chunks: Sequence[ChunkDoc],
        vectors: Vectors,
        *,
        version: str | None = None,
        sentences: Sequence[Vectors | None] | None = None,
    ) -> None:
        """Insert or replace chunks (by ``chunk_id``) with their unit vectors.

        ``sentences``: per chunk, the unit vectors of its sentences (the abstention evidence),
        or None where they were not computed.
        """
        ...

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, Vectors]:
        """The stored sentence vectors of live chunks (ids without any are left out)."""
        ...

    def delete_document(self, document_id: int, *, version: str | None = None) -> None:
        """Remove every chunk of a document."""
        ...

    def search(self, dense: Vector, text: str, access: AccessFilter, k: int) -> SearchResult:
        """Top ``k`` dense and top ``k`` BM25 candidates among the chunks ``access`` allows."""
        ...

    def count(self, *, version: str | None = None) -> int:
        """How many chunks a version (default: the live one) holds."""
        ...

    def create_version(self) -> str:
        """A new, empty version beside the live one; returns its id."""
        ...

    def switch(self, version: str) -> None:
        """Make ``version`` the live one, atomically."""
        ...

    def rollback(self) -> str:
        """Make the newest version older than the live one live again; returns its id."""
        ...

    def current_version(self) -> str | None:
        """The live version's id (None before the first build)."""
        ...

    def versions(self) -> list[str]:
        """Every version kept, oldest first."""
        ...

    def drop_version(self, version: str) -> None:
        """Delete a version that is not live."""
        ...
