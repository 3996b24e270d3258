"""Hybrid retrieval over the knowledge base: dense + BM25, fused by reciprocal rank fusion.

Company and role filtering happen inside each index *before* ranking, never after.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Self, cast

import numpy as np

from companion.knowledge.chunking import split_sentences
from companion.knowledge.index.base import AccessFilter, Scored, SearchResult
from companion.knowledge.safety import neutralise
from companion.knowledge.sparse import tokenize

if TYPE_CHECKING:
    from companion.config import RagSettings
    from companion.knowledge.index.base import VectorIndex
    from companion.llm.embeddings import Embedder
    from companion.llm.embeddings.base import SpanEmbedder


@dataclass(frozen=True)
class ChunkDoc:
    """One indexed chunk of a knowledge document."""

    chunk_id: str  # "kb_12#3" (document 12, chunk ordinal 3): the Source id in chat
    document_id: int
    company_id: int | None  # None = the global product-help corpus, visible to every company
    roles: tuple[str, ...]  # () = public to everyone with kb.read in that company
    title: str
    section: str | None  # heading path, e.g. "Hotels > Limits"
    text: str  # chunk text (the section title is already carried inside by the chunker)
    source_url: str | None
    doc_type: str  # FAQ | POLICY | PROCEDURE | GUIDE | NOTE
    module: str | None = None
    topic: str | None = None  # a company doc beats a global doc on the same topic


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the per-retriever evidence."""

    chunk: ChunkDoc
    score: float
    dense_score: float | None
    sparse_score: float | None
    dense_rank: int | None
    sparse_rank: int | None


@dataclass(frozen=True)
class RetrievalResult:
    """What a question retrieved, already filtered by company and roles."""

    query: str
    hits: list[Hit]
    confident: bool
    top_dense: float  # cosine of the best visible chunk
    neutralised: int
    # The calibrated signal behind `confident`: evidence + coverage weight x coverage.
    confidence: float = 0.0
    coverage: float = 0.0  # share of the question's topic words in the best hit / top three
    embed_ms: float = 0.0  # embedding the question, measured apart from the search
    search_ms: float = 0.0  # index search + fusion + neutralisation
    # Best cosine between the question and one sentence of the top three hits.
    evidence: float = 0.0
    evidence_ms: float = 0.0  # reading (or, for chunks indexed without them, embedding) those
    version: str | None = field(default=None)  # the index version that answered


def chunk_to_dict(chunk: ChunkDoc) -> dict[str, Any]:
    """A JSON-ready dict of a chunk (index files, Qdrant payloads)."""
    data = asdict(chunk)
    data["roles"] = list(chunk.roles)
    return data


def chunk_from_dict(data: dict[str, Any]) -> ChunkDoc:
    """The inverse of ``chunk_to_dict``."""
    return ChunkDoc(
        chunk_id=str(data["chunk_id"]),
        document_id=int(data["document_id"]),
        company_id=None if data.get("company_id") is None else int(data["company_id"]),
        roles=tuple(data.get("roles") or ()),
        title=str(data["title"]),
        section=data.get("section"),
        text=str(data["text"]),
        source_url=data.get("source_url"),
        doc_type=str(data.get("doc_type") or "NOTE"),
        module=data.get("module"),
        topic=data.get("topic"),
    )


def visible_to(chunk: ChunkDoc, company_id: int, roles: Sequence[str]) -> bool:
    """The interface's visibility rule (company or global, and a shared role if restricted)."""
    return AccessFilter.of(company_id, roles).allows(chunk.company_id, chunk.roles)


def rrf_fuse(dense: Sequence[Scored], sparse: Sequence[Scored], *, rrf_k: int = 60) -> list[Hit]:
    """Reciprocal rank fusion: sum of 1 / (rrf_k + rank) over the lists a chunk is in."""
    merged: dict[str, dict[str, Any]] = {}
    for kind, ranked in (("dense", dense), ("sparse", sparse)):
        for rank, item in enumerate(ranked, start=1):
            entry = merged.setdefault(item.chunk.chunk_id, {"chunk": item.chunk, "score": 0.0})
            entry["score"] += 1.0 / (rrf_k + rank)
            entry[f"{kind}_rank"] = rank
            entry[f"{kind}_score"] = item.score
    hits = [
        Hit(
            chunk=e["chunk"],
            score=e["score"],
            dense_score=e.get("dense_score"),
            sparse_score=e.get("sparse_score"),
            dense_rank=e.get("dense_rank"),
            sparse_rank=e.get("sparse_rank"),
        )
        for e in merged.values()
    ]
    # Ties (same rank sums) go to the chunk the dense model liked better.
    hits.sort(key=lambda h: (-h.score, -(h.dense_score or -1.0), h.chunk.chunk_id))
    return hits


def prefer_company(hits: Sequence[Hit]) -> list[Hit]:
    """Drop global chunks whose topic a company chunk among the hits also covers."""
    company_topics = {h.chunk.topic for h in hits if h.chunk.company_id is not None}
    company_topics.discard(None)
    return [
        h for h in hits if h.chunk.company_id is not None or h.chunk.topic not in company_topics
    ]


Mode = str  # "hybrid" | "dense" | "sparse"

# Words of the question itself rather than of its topic; left out of coverage.
QUESTION_WORDS = frozenset(
    tokenize(
        "how much many can could what when where who which need get do does give take make "
        "use allowed allow rule rules policy company happen happens long often maximum minimum "
        "limit per day days year"
    )
)
COVERAGE_DEPTH = 3
EVIDENCE_DEPTH = 3
_WORDY = re.compile(r"[A-Za-z0-9]")

SentenceVectors = Literal["in_context", "separate"]


@dataclass(frozen=True)
class Calibration:
    """The rule behind ``confident``: evidence + weight x coverage >= threshold (and floor).

    Evidence is the best cosine between the question and one sentence of the top
    EVIDENCE_DEPTH hybrid hits, so the rule depends on how sentence vectors are made.
    """

    coverage_weight: float
    threshold: float
    min_top_dense: float | None = None


# Fitted by evaluation.fit_evidence_rule on the demo retrieval set (99 answerable, 47
# unanswerable questions, help pages indexed, as in the product) with 900-character embedding
# windows, and judged on the held-out set: bench/rag_eval.py --chunk-vectors in_context |
# separate; docs/performance.md. Another window size needs its own fit.
CALIBRATIONS: dict[SentenceVectors, Calibration] = {
    # Sentence vectors pooled from the chunk's own pass: ingestion costs one model pass.
    "in_context": Calibration(coverage_weight=0.7, threshold=0.543),
    # Every sentence embedded on its own as well: twice the embedding work.
    "separate": Calibration(coverage_weight=0.5, threshold=0.590, min_top_dense=0.25),
}


def sentence_vectors_mode(embedder: Embedder, rag: RagSettings) -> SentenceVectors:
    """How sentence vectors are made: as configured, or separate where the embedder can't pool."""
    return rag.sentence_vectors if pools_spans(embedder) else "separate"


def pools_spans(embedder: Embedder) -> bool:
    """Whether the embedder is a ``SpanEmbedder`` (duck-typed: llm/ is a sibling layer)."""
    return callable(getattr(embedder, "embed_spans", None))


def vectors_by(embedder: Embedder, rag: RagSettings) -> str:
    """How an index's vectors were made: a change (window, sentence vectors) rebuilds it.

    An index of separate sentence vectors keeps the name indexes had before the choice.
    """
    name = f"{embedder.name}+w{rag.embed_window_chars}"
    mode = sentence_vectors_mode(embedder, rag)
    return name if mode == "separate" else f"{name}+s{mode}"


def calibration_for(
    mode: SentenceVectors,
    *,
    threshold: float | None = None,
    coverage_weight: float | None = None,
    min_top_dense: float | None = None,
) -> Calibration:
    """The fitted calibration of ``mode`` with any value an operator set in its place.

    ``min_top_dense`` of -1 or less turns the floor off.
    """
    base = CALIBRATIONS[mode]
    floor = base.min_top_dense if min_top_dense is None else min_top_dense
    return Calibration(
        coverage_weight=base.coverage_weight if coverage_weight is None else coverage_weight,
        threshold=base.threshold if threshold is None else threshold,
        min_top_dense=None if floor is None or floor <= -1.0 else floor,
    )


def topic_terms(query: str) -> list[str]:
    """The question's topic words: its terms without question words ("how much", "policy")."""
    return [t for t in dict.fromkeys(tokenize(query)) if t not in QUESTION_WORDS]


def coverage(query: str, hits: Sequence[Hit], depth: int = COVERAGE_DEPTH) -> float:
    """Share of the question's topic words that occur in the text of the top ``depth`` hits.

    A question about something the documents never mention ("dress code", "pension") has
    topic words no hit contains, however close its best chunk is in embedding space.
    """
    terms = topic_terms(query)
    if not terms:
        return 0.0
    seen = set(tokenize(" ".join(h.chunk.text for h in hits[:depth])))
    return sum(1 for t in terms if t in seen) / len(terms)


def topic_coverage(query: str, hits: Sequence[Hit]) -> float:
    """Coverage in the best hit and in the top three, averaged.

    The answer is quoted mostly from the best hit, so its words count twice: "pets in the
    office" whose only match is "office" somewhere in the top three is weak evidence.
    """
    return (coverage(query, hits, 1) + coverage(query, hits, COVERAGE_DEPTH)) / 2


def evidence_sentences(chunk: ChunkDoc) -> list[str]:
    """The chunk's sentences (and table rows) without its heading line, as quoted in answers.

    A whole chunk's vector is close to any question on its topic; one sentence's vector is
    close only to a question that sentence answers, which separates "the hotel cap" from
    "the dress code" in a chunk that mentions the office.
    """
    first, _, rest = chunk.text.partition("\n")
    body = rest if rest and first.startswith(chunk.title) else chunk.text
    return [s for s in split_sentences(body) if _WORDY.search(s)]


def embedding_windows(text: str, max_chars: int) -> list[str]:
    """``text`` as pieces the embedder reads whole, each led by the chunk's heading line.

    all-MiniLM-L6-v2 reads 256 tokens (about 1,100 characters of English) and drops the
    rest, so a longer chunk is embedded as whole-sentence windows whose vectors are averaged.
    """
    if len(text) <= max_chars:
        return [text]
    heading, _, body = text.partition("\n")
    if not body or len(heading) > max_chars // 3:
        heading, body = "", text
    room = max_chars - len(heading) - 1
    windows: list[str] = []
    current = ""
    for sentence in split_sentences(body):
        pieces = [sentence]
        if len(sentence) > room:  # one very long sentence: cut between words
            pieces, piece = [], ""
            for word in sentence.split():
                if piece and len(piece) + 1 + len(word) > room:
                    pieces.append(piece)
                    piece = word
                else:
                    piece = f"{piece} {word}".strip()
            pieces.append(piece)
        for piece in pieces:
            if current and len(current) + 1 + len(piece) > room:
                windows.append(current)
                current = piece
            else:
                current = f"{current}\n{piece}" if current else piece
    if current:
        windows.append(current)
    return [f"{heading}\n{w}" if heading else w for w in windows]


class Retriever:
    """The process-wide hybrid retriever (built by ``Container.retriever()``).

    Embeds chunks and questions, keeps the index current, fuses dense and BM25 rankings
    with RRF, neutralises instruction-like text, and says whether it is confident.
    """

    def __init__(
        self,
        index: VectorIndex,
        embedder: Embedder,
        *,
        k: int = 5,
        rrf_k: int = 60,
        candidates: int = 30,
        calibration: Calibration = CALIBRATIONS["in_context"],
        source: Callable[[], Iterable[ChunkDoc]] | None = None,
        batch_size: int = 256,
        embed_window_chars: int | None = 900,
        sentences_in_context: bool = True,
    ) -> None:
        self._index = index
        self.embedder = embedder
        self.k = k
        self.rrf_k = rrf_k
        self.candidates = candidates
        self.calibration = calibration
        self.batch_size = batch_size
        self.embed_window_chars = embed_window_chars
        self.sentences_in_context = sentences_in_context
        self._source = source
        self._rebuild_lock = threading.Lock()

    @classmethod
    def configured(
        cls,
        index: VectorIndex,
        embedder: Embedder,
        rag: RagSettings,
        *,
        source: Callable[[], Iterable[ChunkDoc]] | None = None,
    ) -> Self:
        """A retriever with the ranking, windows, sentence vectors and calibration of ``rag``."""
        mode = sentence_vectors_mode(embedder, rag)
        return cls(
            index,
            embedder,
            k=rag.k,
            rrf_k=rag.rrf_k,
            candidates=rag.candidates,
            calibration=calibration_for(
                mode,
                threshold=rag.confidence_threshold,
                coverage_weight=rag.coverage_weight,
                min_top_dense=rag.min_top_dense,
            ),
            embed_window_chars=rag.embed_window_chars or None,
            sentences_in_context=mode == "in_context",
            source=source,
        )

    @property
    def vector_index(self) -> VectorIndex:
        """The index adapter behind this retriever."""
        return self._index

    # -- writing -----------------------------------------------------------------------
    def _batches(self, chunks: Iterable[ChunkDoc]) -> Iterator[list[ChunkDoc]]:
        batch: list[ChunkDoc] = []
        for chunk in chunks:
            batch.append(chunk)
            if len(batch) >= self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _windows(self, text: str) -> list[str]:
        if not self.embed_window_chars:
            return [text]
        return embedding_windows(text, self.embed_window_chars)

    def embed_chunks(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """One unit vector per chunk text: the mean of its windows' vectors when it is long."""
        windows: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            for window in self._windows(text):
                windows.append(window)
                owner.append(i)
        return _mean_by_owner(self.embedder.embed(windows), owner, len(texts))

    def embed_sentences(self, chunks: Sequence[ChunkDoc]) -> list[np.ndarray[Any, Any]]:
        """Per chunk, the unit vectors of its ``evidence_sentences``, each embedded alone."""
        texts: list[str] = []
        owner: list[int] = []
        for i, chunk in enumerate(chunks):
            for sentence in evidence_sentences(chunk):
                texts.append(sentence)
                owner.append(i)
        vectors = self.embedder.embed(texts) if texts else np.zeros((0, self.embedder.dim))
        owners = np.asarray(owner, dtype=np.int64)
        return [vectors[owners == i] for i in range(len(chunks))]

    def embed_for_index(
        self, chunks: Sequence[ChunkDoc]
    ) -> tuple[np.ndarray[Any, Any], list[np.ndarray[Any, Any]]]:
        """The chunks' dense vectors and their evidence sentences' vectors.

        With ``sentences_in_context`` (and an embedder that pools spans), one model pass per
        embedding window gives both: each sentence's vector pools the window's token states
        over that sentence, so ingestion costs about what embedding the chunks alone does.
        Otherwise every sentence is embedded on its own as well.
        """
        if not (self.sentences_in_context and pools_spans(self.embedder)):
            return self.embed_chunks([c.text for c in chunks]), self.embed_sentences(chunks)
        windows: list[str] = []
        spans: list[list[tuple[int, int]]] = []
        owner: list[int] = []
        # Per chunk, each evidence sentence's (window, span) or None where no window holds it
        # verbatim (a sentence longer than a window, cut between words).
        placed: list[list[tuple[int, int] | None]] = []
        for i, chunk in enumerate(chunks):
            first = len(windows)
            for window in self._windows(chunk.text):
                windows.append(window)
                spans.append([])
                owner.append(i)
            where: list[tuple[int, int] | None] = []
            w, pos = first, 0
            for sentence in evidence_sentences(chunk):
                found = None
                for candidate in range(w, len(windows)):
                    at = windows[candidate].find(sentence, pos if candidate == w else 0)
                    if at >= 0:
                        found = (candidate, len(spans[candidate]))
                        spans[candidate].append((at, at + len(sentence)))
                        w, pos = candidate, at + len(sentence)
                        break
                where.append(found)
            placed.append(where)
        pooling = cast("SpanEmbedder", self.embedder)
        vectors, span_vectors = pooling.embed_spans(windows, spans)
        alone = [
            s
            for chunk, where in zip(chunks, placed, strict=True)
            for s, at in zip(evidence_sentences(chunk), where, strict=True)
            if at is None
        ]
        extra = iter(self.embedder.embed(alone)) if alone else iter(())
        sentences = [
            np.asarray(
                [span_vectors[at[0]][at[1]] if at is not None else next(extra) for at in where],
                dtype=np.float32,
            ).reshape(len(where), self.embedder.dim)
            for where in placed
        ]
        return _mean_by_owner(vectors, owner, len(chunks)), sentences

    def index(self, chunks: Sequence[ChunkDoc]) -> None:
        """Upsert chunks into the live index (embeds them and their sentences)."""
        for batch in self._batches(chunks):
            vectors, sentences = self.embed_for_index(batch)
            self.index_upsert(batch, vectors, sentences=sentences)

    def index_upsert(
        self,
        chunks: Sequence[ChunkDoc],
        vectors: np.ndarray[Any, Any],
        version: str | None = None,
        *,
        sentences: Sequence[np.ndarray[Any, Any] | None] | None = None,
    ) -> None:
        """Upsert chunks whose vectors (and sentence vectors) the caller already computed."""
        self._index.upsert(
            chunks, np.asarray(vectors, dtype=np.float32), version=version, sentences=sentences
        )

    def remove_document(self, document_id: int) -> None:
        """Remove every chunk of a document from the live index."""
        self._index.delete_document(document_id)

    def rebuild(self, chunks: Iterable[ChunkDoc]) -> str:
        """Build a new index version beside the live one, switch atomically, return its id.

        The live version keeps answering while the new one is embedded and filled.
        """
        with self._rebuild_lock:
            version = self._index.create_version()
            for batch in self._batches(chunks):
                vectors, sentences = self.embed_for_index(batch)
                self.index_upsert(batch, vectors, version=version, sentences=sentences)
            self._index.switch(version)
            return version

    def ensure_built(self) -> str | None:
        """Rebuild from the database's chunk table when no index exists yet; the live version."""
        if self._index.current_version() is None and self._source is not None:
            return self.rebuild(self._source())
        return self._index.current_version()

    # -- reading -----------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        company_id: int,
        roles: Sequence[str],
        k: int | None = None,
        mode: Mode = "hybrid",
    ) -> RetrievalResult:
        """``retrieve`` with a choice of ranking: hybrid (RRF), dense-only or BM25-only."""
        k = k or self.k
        started = time.perf_counter()
        vector = self.embedder.embed([query])[0]
        embedded = time.perf_counter()
        found = self._index.search(
            vector, query, AccessFilter.of(company_id, roles), max(self.candidates, k)
        )
        dense = found.dense if mode != "sparse" else []
        sparse = found.sparse if mode != "dense" else []
        ranked = prefer_company(rrf_fuse(dense, sparse, rrf_k=self.rrf_k))
        # Confidence does not depend on the ranking mode: the closest single sentence of the
        # best hybrid hits plus how much of the question's topic those hits mention.
        hybrid = ranked if mode == "hybrid" else _hybrid(found, self.rrf_k)
        covered = topic_coverage(query, hybrid)
        top_dense = found.dense[0].score if found.dense else 0.0
        hits, neutralised = _neutralise(ranked[:k])
        searched = time.perf_counter()
        evidence = self.evidence(vector, hybrid[:EVIDENCE_DEPTH])
        done = time.perf_counter()
        confidence = evidence + self.calibration.coverage_weight * covered
        return RetrievalResult(
            query=query,
            hits=hits,
            confident=bool(hits) and self.is_confident(top_dense, confidence),
            top_dense=top_dense,
            neutralised=neutralised,
            confidence=confidence,
            coverage=covered,
            embed_ms=(embedded - started) * 1000.0,
            search_ms=(searched - embedded) * 1000.0,
            version=self._index.current_version(),
            evidence=evidence,
            evidence_ms=(done - searched) * 1000.0,
        )

    def evidence(self, vector: np.ndarray[Any, Any], hits: Sequence[Hit]) -> float:
        """Best cosine between the question's vector and one sentence of ``hits``.

        Sentence vectors are stored at ingestion; a chunk indexed without them (an index
        written before they existed) has them made here instead, the way ingestion would.
        """
        if not hits:
            return 0.0
        stored = self._index.sentence_vectors([h.chunk.chunk_id for h in hits])
        missing = [h.chunk for h in hits if h.chunk.chunk_id not in stored]
        # Made the way this retriever indexes them, so the calibration applies.
        made = self.embed_for_index(missing)[1] if missing else []
        matrices = list(stored.values()) + made
        rows = [m for m in matrices if len(m)]
        if not rows:
            return 0.0
        # einsum, not `@`: see LocalStore.search (threaded BLAS on a busy machine).
        question = np.asarray(vector, dtype=np.float32)
        scores = np.einsum("ij,j->i", np.concatenate(rows), question)
        return float(scores.max())

    def is_confident(self, top_dense: float, confidence: float) -> bool:
        """The calibrated rule: the best chunk close enough in meaning, and enough evidence.

        The floor on the best cosine catches questions whose topic word happens to match a
        generic one ("pets in the office" against "Chief Executive Officer": both stem to
        "offic"); the threshold on ``confidence`` does the rest.
        """
        if self.min_top_dense is not None and top_dense < self.min_top_dense:
            return False
        return confidence >= self.confidence_threshold

    @property
    def confidence_threshold(self) -> float:
        """The calibrated threshold on ``confidence``."""
        return self.calibration.threshold

    @property
    def min_top_dense(self) -> float | None:
        """The calibrated floor on the best chunk's cosine (None: no floor)."""
        return self.calibration.min_top_dense

    def retrieve(
        self, query: str, *, company_id: int, roles: Sequence[str], k: int = 5
    ) -> RetrievalResult:
        """The best ``k`` chunks visible to (company, roles) for ``query``."""
        return self.search(query, company_id=company_id, roles=roles, k=k)


def _mean_by_owner(
    vectors: np.ndarray[Any, Any], owner: Sequence[int], count: int
) -> np.ndarray[Any, Any]:
    """Unit vectors of the rows summed by owner (a chunk's windows -> the chunk)."""
    if len(owner) == count:
        return vectors
    summed = np.zeros((count, vectors.shape[1]), dtype=np.float32)
    np.add.at(summed, np.asarray(owner), vectors)
    unit: np.ndarray[Any, Any] = summed / np.maximum(
        np.linalg.norm(summed, axis=1, keepdims=True), 1e-12
    )
    return unit


def _hybrid(found: SearchResult, rrf_k: int) -> list[Hit]:
    return prefer_company(rrf_fuse(found.dense, found.sparse, rrf_k=rrf_k))


def _neutralise(hits: Sequence[Hit]) -> tuple[list[Hit], int]:
    out: list[Hit] = []
    count = 0
    for hit in hits:
        cleaned = neutralise(hit.chunk.text)
        count += 1 if cleaned.count else 0
        if cleaned.text != hit.chunk.text:  # also when only hiding controls were removed
            hit = replace(hit, chunk=replace(hit.chunk, text=cleaned.text))
        out.append(hit)
    return out, count
