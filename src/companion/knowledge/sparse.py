"""BM25 keyword search whose statistics and candidates are limited to what a caller may see.

Why not ``bm25s`` or ``rank-bm25``: both score against one corpus-wide statistic and rebuild
on every change. Here documents are upserted and deleted one at a time, and the corpus
holds several companies: document frequencies and lengths are kept per *partition*
(company x role set), and a query sums only the partitions it may see, so another tenant's
documents influence neither which chunks rank nor how they score.

The same tokens feed Qdrant's sparse vectors (``term_id`` and ``document_weights``), with
the IDF applied by Qdrant.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import snowballstemmer  # type: ignore[import-untyped]

K1 = 1.2
B = 0.75

# Numbers keep their decimals ("0.67") and lose thousands separators ("3,000" -> "3000").
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves s t don shall may might must get got also per""".split()
)

_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop-word-free, Snowball-stemmed terms of ``text``, in order."""
    text = _THOUSANDS.sub("", text.lower())
    return [_stem(word) for word in _TOKEN.findall(text) if word not in STOPWORDS]


def term_id(term: str) -> int:
    """A stable 31-bit id for a term (Qdrant sparse-vector index)."""
    return int.from_bytes(
        hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "little"
    ) & (0x7FFFFFFF)


def document_weights(terms: Iterable[str], avg_length: float) -> dict[int, float]:
    """BM25 term-frequency weights of one document (IDF left to the index), by term id."""
    counts = Counter(terms)
    length = sum(counts.values())
    norm = K1 * (1 - B + B * length / max(avg_length, 1.0))
    return {term_id(t): tf * (K1 + 1) / (tf + norm) for t, tf in counts.items()}


def query_weights(terms: Iterable[str]) -> dict[int, float]:
    """A query's sparse vector: each distinct term once."""
    return {term_id(t): 1.0 for t in set(terms)}


@dataclass
class _Partition:
    docs: int = 0
    length: int = 0
    df: Counter[str] = field(default_factory=Counter)


Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]


class SparseIndex:
    """An in-memory BM25 inverted index over integer slots, with per-partition statistics."""

    def __init__(self, k1: float = K1, b: float = B) -> None:
        self.k1 = k1
        self.b = b
        self._postings: dict[str, dict[int, int]] = {}
        self._arrays: dict[str, tuple[Ints, Floats]] = {}
        self._terms: dict[int, Counter[str]] = {}
        self._slot_partition: dict[int, Hashable] = {}
        self._lengths = np.zeros(0, dtype=np.float32)
        self._partitions: dict[Hashable, _Partition] = {}

    def __len__(self) -> int:
        return len(self._terms)

    def add(self, slot: int, partition: Hashable, text: str) -> None:
        """Index ``text`` under ``slot`` (replacing what the slot held)."""
        if slot in self._terms:
            self.remove(slot)
        counts = Counter(tokenize(text))
        self._terms[slot] = counts
        self._slot_partition[slot] = partition
        part = self._partitions.setdefault(partition, _Partition())
        length = sum(counts.values())
        part.docs += 1
        part.length += length
        part.df.update(counts.keys())
        if slot >= len(self._lengths):
            grown = np.zeros(max(slot + 1, 2 * len(self._lengths), 64), dtype=np.float32)
            grown[: len(self._lengths)] = self._lengths
            self._lengths = grown
        self._lengths[slot] = length
        for term, tf in counts.items():
            self._postings.setdefault(term, {})[slot] = tf
            self._arrays.pop(term, None)

    def remove(self, slot: int) -> None:
        """Forget a slot (no-op if it is not indexed)."""
        counts = self._terms.pop(slot, None)
        if counts is None:
            return
        partition = self._slot_partition.pop(slot)
        part = self._partitions[partition]
        part.docs -= 1
        part.length -= sum(counts.values())
        part.df.subtract(counts.keys())
        for term in counts:
            if part.df[term] <= 0:
                del part.df[term]
            postings = self._postings[term]
            del postings[slot]
            if not postings:
                del self._postings[term]
            self._arrays.pop(term, None)
        if part.docs == 0:
            del self._partitions[partition]
        self._lengths[slot] = 0

    def _posting_arrays(self, term: str) -> tuple[Ints, Floats]:
        cached = self._arrays.get(term)
        if cached is None:
            postings = self._postings[term]
            cached = (
                np.fromiter(postings.keys(), dtype=np.int64, count=len(postings)),
                np.fromiter(postings.values(), dtype=np.float32, count=len(postings)),
            )
            self._arrays[term] = cached
        return cached

    def search(
        self,
        query: str,
        visible: npt.NDArray[np.bool_],
        partitions: Iterable[Hashable],
        k: int,
    ) -> list[tuple[int, float]]:
        """The best ``k`` (slot, score) among slots where ``visible`` is true.

        ``partitions`` are the partitions the caller may see: IDF and average length come
        from them alone.
        """
        terms = [t for t in dict.fromkeys(tokenize(query)) if t in self._postings]
        parts = [self._partitions[p] for p in partitions if p in self._partitions]
        docs = sum(p.docs for p in parts)
        if not terms or docs == 0:
            return []
        avgdl = max(sum(p.length for p in parts) / docs, 1.0)
        scores = np.zeros(len(self._lengths), dtype=np.float32)
        touched = np.zeros(len(self._lengths), dtype=np.bool_)
        for term in terms:
            df = sum(p.df.get(term, 0) for p in parts)
            if df == 0:
                continue
            idf = math.log(1.0 + (docs - df + 0.5) / (df + 0.5))
            slots, tfs = self._posting_arrays(term)
            keep = visible[slots]
            slots, tfs = slots[keep], tfs[keep]
            if len(slots) == 0:
                continue
            norm = self.k1 * (1.0 - self.b + self.b * self._lengths[slots] / avgdl)
            scores[slots] += idf * tfs * (self.k1 + 1.0) / (tfs + norm)
            touched[slots] = True
        candidates = np.flatnonzero(touched)
        if len(candidates) == 0:
            return []
        top = candidates[np.argsort(-scores[candidates], kind="stable")[:k]]
        return [(int(slot), float(scores[slot])) for slot in top]
