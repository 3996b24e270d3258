"""The embedded index: a numpy dense matrix + BM25 in process, persisted beside the database.

Layout under ``root`` (``settings.data_dir / "kb"``)::

    CURRENT                   {"current": "<version>"}   replaced atomically on switch
    <version>/index.npz       vectors + chunks (JSON) + sentence vectors (float16), written
                              atomically when the version is switched to or compacted
    <version>/delta-<n>.npz   one change to the live version (chunks upserted, or documents
                              deleted), applied in name order on top of index.npz

A change to the live version writes only its own delta file, so ingesting a document costs
the same whatever the index holds; after COMPACT_AFTER deltas (or more than COMPACT_BYTES
of them and half the base) the version is written whole again and its deltas removed. With
``root=None`` nothing is written (tests, throw-away indexes). A second process (the
``companion ingest`` CLI beside a running server) writes the same files; each search checks
the stamps of CURRENT and of the live version's files and reloads when another process
changed them.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

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
from companion.knowledge.sparse import SparseIndex

INDEX_FILE = "index.npz"
CURRENT_FILE = "CURRENT"
DELTA_PREFIX = "delta-"
# Delta files (or bytes of them, when more than half the base) before the live version is
# written whole again.
COMPACT_AFTER = 64
COMPACT_BYTES = 8 * 1024 * 1024
# 2: sentence vectors stored beside the chunk vectors; an index of format 1 is rebuilt.
FORMAT = 2
# Sentence vectors only feed a max-cosine evidence score: half precision (error ~1e-3) halves
# their memory (about 8 sentences of 384 dimensions per chunk).
SENTENCE_DTYPE = np.float16

Partition = tuple[int | None, tuple[str, ...]]
# A version's files on disk: the base's mtime, and its delta files' names.
Stamp = tuple[float, tuple[str, ...]]


def _partition(chunk: ChunkDoc) -> Partition:
    return (chunk.company_id, tuple(sorted(chunk.roles)))


class LocalStore:
    """One version's chunks: dense rows, BM25 postings and access partitions, by slot."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        self._alive = np.zeros(0, dtype=np.bool_)
        self._part_code = np.zeros(0, dtype=np.int32)
        self._chunks: dict[int, ChunkDoc] = {}
        self._sentences: dict[int, npt.NDArray[np.float16]] = {}
        self._slot_of: dict[str, int] = {}
        self._doc_slots: dict[int, set[int]] = {}
        self._codes: dict[Partition, int] = {}
        self._free: list[int] = []
        self._next = 0
        self.sparse = SparseIndex()
        self.lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._chunks)

    def _grow(self, needed: int) -> None:
        capacity = len(self._alive)
        if needed <= capacity:
            return
        size = max(needed, 2 * capacity, 64)
        vectors = np.zeros((size, self.dim), dtype=np.float32)
        vectors[:capacity] = self._vectors
        alive = np.zeros(size, dtype=np.bool_)
        alive[:capacity] = self._alive
        codes = np.full(size, -1, dtype=np.int32)
        codes[:capacity] = self._part_code
        self._vectors, self._alive, self._part_code = vectors, alive, codes

    def upsert(
        self,
        chunks: Sequence[ChunkDoc],
        vectors: Vectors,
        sentences: Sequence[Vectors | None] | None = None,
    ) -> None:
        """Insert or replace chunks by id (with their sentence vectors where given)."""
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        per_chunk = list(sentences) if sentences is not None else [None] * len(chunks)
        if len(per_chunk) != len(chunks):
            raise ValueError(f"{len(chunks)} chunks but {len(per_chunk)} sentence matrices")
        if len(chunks) and vectors.shape[1] != self.dim:
            raise ValueError(f"vectors have dimension {vectors.shape[1]}, index has {self.dim}")
        with self.lock:
            for chunk, vector, said in zip(chunks, vectors, per_chunk, strict=True):
                slot = self._slot_of.get(chunk.chunk_id)
                if slot is not None:
                    self._drop_slot(slot)
                if self._free:
                    slot = self._free.pop()
                else:
                    slot, self._next = self._next, self._next + 1
                self._grow(slot + 1)
                part = _partition(chunk)
                code = self._codes.setdefault(part, len(self._codes))
                self._vectors[slot] = vector
                self._alive[slot] = True
                self._part_code[slot] = code
                self._chunks[slot] = chunk
                if said is not None:
                    self._sentences[slot] = np.asarray(said, dtype=SENTENCE_DTYPE).reshape(
                        -1, self.dim
                    )
                self._slot_of[chunk.chunk_id] = slot
                self._doc_slots.setdefault(chunk.document_id, set()).add(slot)
                self.sparse.add(slot, part, chunk.text)

    def _drop_slot(self, slot: int) -> None:
        chunk = self._chunks.pop(slot)
        self._sentences.pop(slot, None)
        del self._slot_of[chunk.chunk_id]
        slots = self._doc_slots[chunk.document_id]
        slots.discard(slot)
        if not slots:
            del self._doc_slots[chunk.document_id]
        self._alive[slot] = False
        self._vectors[slot] = 0.0
        self.sparse.remove(slot)
        self._free.append(slot)

    def delete_document(self, document_id: int) -> int:
        """Remove a document's chunks; returns how many."""
        with self.lock:
            slots = list(self._doc_slots.get(document_id, ()))
            for slot in slots:
                self._drop_slot(slot)
            return len(slots)

    def _visible(self, access: AccessFilter) -> tuple[npt.NDArray[np.bool_], list[Hashable]]:
        parts = [p for p in self._codes if access.allows(p[0], p[1])]
        codes = np.array([self._codes[p] for p in parts], dtype=np.int32)
        mask = self._alive & np.isin(self._part_code, codes)
        return mask, list(parts)

    def search(self, dense: Vector, text: str, access: AccessFilter, k: int) -> SearchResult:
        """Dense and BM25 top-k among visible slots only."""
        with self.lock:
            mask, parts = self._visible(access)
            visible = int(np.count_nonzero(mask))
            dense_hits: list[Scored] = []
            if visible and k > 0:
                used = self._next
                # einsum, not `@`: a threaded BLAS matrix-vector product is 10x slower on a
                # busy 2-core machine, and one product over the used rows (hidden rows then
                # pushed out of reach) beats gathering the visible rows into a copy.
                scores = np.einsum("ij,j->i", self._vectors[:used], dense.astype(np.float32))
                scores[~mask[:used]] = -np.inf
                take = min(k, visible)
                top = np.argpartition(-scores, take - 1)[:take]
                top = top[np.argsort(-scores[top], kind="stable")]
                dense_hits = [Scored(self._chunks[int(i)], float(scores[i])) for i in top]
            sparse_hits = [
                Scored(self._chunks[slot], score)
                for slot, score in self.sparse.search(text, mask, parts, k)
            ]
            return SearchResult(dense=dense_hits, sparse=sparse_hits)

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, Vectors]:
        """Stored sentence vectors by chunk id (as float32)."""
        with self.lock:
            out: dict[str, Vectors] = {}
            for chunk_id in chunk_ids:
                slot = self._slot_of.get(chunk_id)
                if slot is not None and slot in self._sentences:
                    out[chunk_id] = self._sentences[slot].astype(np.float32)
            return out

    def chunks(self) -> list[ChunkDoc]:
        """Every chunk, in slot order."""
        with self.lock:
            return [self._chunks[s] for s in sorted(self._chunks)]

    def save(self, path: Path, embedder: str) -> None:
        """Write vectors + chunks to ``path`` atomically."""
        with self.lock:
            slots = sorted(self._chunks)
            chunks = [self._chunks[s] for s in slots]
            vectors = self._vectors[slots] if slots else np.zeros((0, self.dim), np.float32)
            sentences = [self._sentences.get(s) for s in slots]
        write_entries(path, embedder, self.dim, chunks, vectors, sentences)

    @classmethod
    def load(cls, path: Path, embedder: str, dim: int) -> LocalStore | None:
        """Read a saved version; None when it was made by another embedder or format."""
        entries = read_entries(path, embedder, dim)
        if entries is None:
            return None
        store = cls(dim)
        store.apply(entries)
        return store

    def apply(self, entries: Entries) -> None:
        """Apply a saved change: its deleted documents, then its chunks."""
        for document_id in entries.deleted_documents:
            self.delete_document(document_id)
        if entries.chunks:
            self.upsert(entries.chunks, entries.vectors, entries.sentences)


@dataclass(frozen=True)
class Entries:
    """What one index file holds: chunks with their vectors, and documents deleted."""

    chunks: list[ChunkDoc]
    vectors: Vectors
    sentences: list[Vectors | None]
    deleted_documents: list[int]


def write_entries(
    path: Path,
    embedder: str,
    dim: int,
    chunks: Sequence[ChunkDoc],
    vectors: Vectors,
    sentences: Sequence[npt.NDArray[Any] | None],
    *,
    deleted_documents: Sequence[int] = (),
) -> None:
    """Write chunks, their vectors and sentence vectors (and deleted documents) atomically."""
    payload = {
        "format": FORMAT,
        "embedder": embedder,
        "dim": dim,
        "chunks": [chunk_to_dict(c) for c in chunks],
        "deleted_documents": list(deleted_documents),
    }
    # One matrix of every sentence vector, and per chunk how many rows are its own
    # (-1: none stored).
    counts = np.array([len(m) if m is not None else -1 for m in sentences], dtype=np.int32)
    stored = [np.asarray(m, dtype=SENTENCE_DTYPE) for m in sentences if m is not None]
    said = np.concatenate(stored) if stored else np.zeros((0, dim), SENTENCE_DTYPE)
    blob = np.frombuffer(json.dumps(payload).encode("utf-8"), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with tmp.open("wb") as handle:
        np.savez(handle, vectors=vectors, meta=blob, sentences=said, sentence_counts=counts)
    os.replace(tmp, path)


def read_entries(path: Path, embedder: str, dim: int) -> Entries | None:
    """An index file's entries; None when it was made by another embedder or format."""
    try:
        with np.load(path, allow_pickle=False) as data:
            vectors = np.asarray(data["vectors"], dtype=np.float32)
            payload = json.loads(bytes(data["meta"]).decode("utf-8"))
            said = data["sentences"] if "sentences" in data.files else None
            counts = data["sentence_counts"] if "sentence_counts" in data.files else None
    except (OSError, ValueError, KeyError) as exc:
        raise IndexUnavailable(
            f"cannot read the knowledge index {path}: {exc}", details={"path": str(path)}
        ) from exc
    if (
        payload.get("format") != FORMAT
        or payload.get("embedder") != embedder
        or payload.get("dim") != dim
    ):
        return None
    chunks = [chunk_from_dict(c) for c in payload["chunks"]]
    per_chunk: list[Vectors | None] = [None] * len(chunks)
    if counts is not None and said is not None:
        offset = 0
        for i, count in enumerate(counts):
            per_chunk[i] = None if count < 0 else said[offset : offset + count]
            offset += max(int(count), 0)
    deleted = [int(d) for d in payload.get("deleted_documents", [])]
    return Entries(chunks, vectors, per_chunk, deleted)


class LocalIndex:
    """The embedded ``VectorIndex``: versions in memory, mirrored to ``root`` when given."""

    name = "local"

    def __init__(self, root: Path | None, *, dim: int, embedder: str) -> None:
        self.root = root
        self.dim = dim
        self.embedder = embedder
        self._lock = threading.RLock()
        self._stores: dict[str, LocalStore] = {}
        self._current: str | None = None
        self._stamps: dict[str, Stamp] = {}
        self._current_stamp = -1.0
        self._dirty: set[str] = set()
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
            self._reload_current()

    # -- persistence -------------------------------------------------------------------
    def _file(self, version: str) -> Path:
        assert self.root is not None
        return self.root / version / INDEX_FILE

    def _mtime(self, path: Path) -> float:
        try:
            return path.stat().st_mtime_ns
        except FileNotFoundError:
            return -1.0

    def _deltas(self, version: str) -> list[Path]:
        assert self.root is not None
        try:
            names = os.listdir(self.root / version)
        except FileNotFoundError:
            return []
        return [
            self.root / version / n
            for n in sorted(names)
            if n.startswith(DELTA_PREFIX) and n.endswith(".npz")
        ]

    def _stamp(self, version: str) -> Stamp:
        return (self._mtime(self._file(version)), tuple(p.name for p in self._deltas(version)))

    def _load(self, version: str) -> LocalStore | None:
        """A version from disk: its base, then its deltas in order (None: made otherwise)."""
        store = LocalStore.load(self._file(version), self.embedder, self.dim)
        if store is None:
            return None
        for path in self._deltas(version):
            entries = read_entries(path, self.embedder, self.dim)
            if entries is not None:
                store.apply(entries)
        return store

    def _read_current(self) -> str | None:
        assert self.root is not None
        path = self.root / CURRENT_FILE
        if not path.is_file():
            return None
        value = json.loads(path.read_text(encoding="utf-8")).get("current")
        return str(value) if value else None

    def _reload_current(self) -> None:
        """Adopt what is on disk when another process changed it (or on first open)."""
        assert self.root is not None
        current = self._read_current()
        self._current_stamp = self._mtime(self.root / CURRENT_FILE)
        if current is None or not self._file(current).is_file():
            return
        stamp = self._stamp(current)
        known = self._stamps.get(current)
        if current in self._stores and known == stamp:
            self._current = current
            return
        if current in self._stores and known is not None and known[0] == stamp[0]:
            # Same base, more deltas (another process's changes): apply only the new ones.
            seen = set(known[1])
            live = self._stores[current]
            for name in stamp[1]:
                if name not in seen:
                    entries = read_entries(self.root / current / name, self.embedder, self.dim)
                    if entries is not None:
                        live.apply(entries)
            self._stamps[current] = stamp
            self._current = current
            return
        store = self._load(current)
        if store is None:  # made by another embedder: treat as missing, rebuild from the DB
            return
        self._stores[current] = store
        self._stamps[current] = stamp
        self._current = current

    def _check_disk(self) -> None:
        if self.root is None:
            return
        live = self._current
        if self._mtime(self.root / CURRENT_FILE) != self._current_stamp or (
            live is not None and self._stamp(live) != self._stamps.get(live)
        ):
            self._reload_current()

    def _persist(self, version: str) -> None:
        """Write the version whole and remove the deltas it now contains."""
        if self.root is None:
            return
        deltas = self._deltas(version)
        self._stores[version].save(self._file(version), self.embedder)
        for path in deltas:
            path.unlink(missing_ok=True)
        self._stamps[version] = self._stamp(version)

    def _append(
        self,
        version: str,
        chunks: Sequence[ChunkDoc] = (),
        vectors: Vectors | None = None,
        sentences: Sequence[Vectors | None] | None = None,
        *,
        deleted_documents: Sequence[int] = (),
    ) -> None:
        """Record one change to the live version as a delta file (or compact it)."""
        if self.root is None:
            return
        deltas = self._deltas(version)
        base = self._mtime(self._file(version)) >= 0
        size = sum(p.stat().st_size for p in deltas) if deltas else 0
        if (
            not base
            or len(deltas) >= COMPACT_AFTER
            or size > max(self._file(version).stat().st_size // 2, COMPACT_BYTES)
        ):
            self._persist(version)
            return
        name = f"{DELTA_PREFIX}{time.time_ns():020d}-{os.getpid()}-{threading.get_ident()}.npz"
        write_entries(
            self.root / version / name,
            self.embedder,
            self.dim,
            chunks,
            vectors if vectors is not None else np.zeros((0, self.dim), np.float32),
            list(sentences) if sentences is not None else [None] * len(chunks),
            deleted_documents=deleted_documents,
        )
        self._stamps[version] = self._stamp(version)

    def _write_current(self, version: str) -> None:
        if self.root is None:
            return
        path = self.root / CURRENT_FILE
        tmp = path.with_name(f".{CURRENT_FILE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"current": version}), encoding="utf-8")
        os.replace(tmp, path)
        self._current_stamp = self._mtime(path)

    # -- the port ----------------------------------------------------------------------
    def _store(self, version: str | None) -> tuple[str, LocalStore]:
        with self._lock:
            if version is None:
                if self._current is None:
                    # The first write creates and switches to a first version.
                    first = self.create_version()
                    self.switch(first)
                version = self._current
                assert version is not None
            store = self._stores.get(version)
            if store is None:
                raise VersionNotFound(
                    f"no knowledge index version {version!r}", details={"version": version}
                )
            return version, store

    def upsert(
        self,
        chunks: Sequence[ChunkDoc],
        vectors: Vectors,
        *,
        version: str | None = None,
        sentences: Sequence[Vectors | None] | None = None,
    ) -> None:
        """Insert or replace chunks in a version (default: the live one) and persist it."""
        with self._lock:
            self._check_disk()
            name, store = self._store(version)
        store.upsert(chunks, vectors, sentences)
        with self._lock:
            # A version being built is written once, when it is switched to.
            if name == self._current:
                self._append(name, chunks, vectors, sentences)
            else:
                self._dirty.add(name)

    def delete_document(self, document_id: int, *, version: str | None = None) -> None:
        """Remove a document's chunks from a version (default: the live one)."""
        with self._lock:
            self._check_disk()
            if version is None and self._current is None:
                return
            name, store = self._store(version)
            if store.delete_document(document_id):
                if name == self._current:
                    self._append(name, deleted_documents=[document_id])
                else:
                    self._dirty.add(name)

    def search(self, dense: Vector, text: str, access: AccessFilter, k: int) -> SearchResult:
        """Search the live version (empty result before the first build)."""
        with self._lock:
            self._check_disk()
            store = self._stores.get(self._current) if self._current else None
        if store is None:
            return SearchResult(dense=[], sparse=[])
        return store.search(dense, text, access, k)

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, Vectors]:
        """Stored sentence vectors of chunks of the live version."""
        with self._lock:
            store = self._stores.get(self._current) if self._current else None
        return store.sentence_vectors(chunk_ids) if store is not None else {}

    def count(self, *, version: str | None = None) -> int:
        """Chunks in a version (0 before the first build)."""
        with self._lock:
            self._check_disk()
            name = version or self._current
            store = self._stores.get(name) if name else None
            if store is None and version is not None:
                raise VersionNotFound(
                    f"no knowledge index version {version!r}", details={"version": version}
                )
            return len(store) if store is not None else 0

    def chunks(self, *, version: str | None = None) -> list[ChunkDoc]:
        """Every chunk of a version (default: the live one)."""
        _, store = self._store(version)
        return store.chunks()

    def create_version(self) -> str:
        """A new empty version (in memory until it is switched to)."""
        with self._lock:
            version = new_version_id()
            self._stores[version] = LocalStore(self.dim)
            return version

    def switch(self, version: str) -> None:
        """Make ``version`` live: one reference swap in memory, one rename on disk."""
        with self._lock:
            if version not in self._stores:
                raise VersionNotFound(
                    f"no knowledge index version {version!r}", details={"version": version}
                )
            if version in self._dirty or self._stamps.get(version) is None:
                self._persist(version)
                self._dirty.discard(version)
            self._write_current(version)
            self._current = version

    def rollback(self) -> str:
        """Go back to the newest version older than the live one."""
        with self._lock:
            target = previous_version(self.versions(), self._current)
            if target not in self._stores:
                store = self._load(target)
                if store is None:
                    raise VersionNotFound(
                        f"index version {target!r} was made by another embedder",
                        details={"version": target},
                    )
                self._stores[target] = store
                self._stamps[target] = self._stamp(target)
            self.switch(target)
            return target

    def current_version(self) -> str | None:
        """The live version."""
        with self._lock:
            self._check_disk()
            return self._current

    def versions(self) -> list[str]:
        """Versions in memory and on disk, oldest first."""
        with self._lock:
            names = set(self._stores)
            if self.root is not None:
                names.update(
                    p.name for p in self.root.iterdir() if p.is_dir() and (p / INDEX_FILE).is_file()
                )
            return sorted(names)

    def drop_version(self, version: str) -> None:
        """Delete a version other than the live one."""
        with self._lock:
            if version == self._current:
                raise InvalidState(
                    "the live index version cannot be dropped; switch first",
                    details={"version": version},
                )
            if version not in self.versions():
                raise VersionNotFound(
                    f"no knowledge index version {version!r}", details={"version": version}
                )
            self._stores.pop(version, None)
            self._stamps.pop(version, None)
            if self.root is not None:
                shutil.rmtree(self.root / version, ignore_errors=True)
