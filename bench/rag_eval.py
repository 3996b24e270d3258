"""Knowledge retrieval benchmark: quality on the demo set, latency at 10,000 chunks, throughput.

    .venv/bin/python bench/rag_eval.py [--adapter local|qdrant] [--chunks 10000] [--runs 200]
    .venv/bin/python bench/rag_eval.py --ingestion-only [--passages 256]

1. Quality: the labelled demo set (src/companion/knowledge/eval/demo_retrieval.yml) over the
   demo policy documents plus the product's help pages (global, as ``companion demo`` indexes
   them), chunked and embedded as ingestion does: recall@5 and MRR@10 for dense-only,
   BM25-only and fused (RRF); abstention precision / recall at the configured rule, the rule
   (coverage weight, floor, threshold) fitted on the whole set (both companies),
   leave-one-out, leave one company out (both ways), and what the extractive answer does
   (answers or says "not found"); the previous signal (best chunk cosine) for comparison.
   Then the held-out set (eval/demo_heldout.yml), judged by the rule fitted on the first.
2. Latency: ``retrieve`` p50 / p95 with ``--chunks`` extra chunks in one company, the
   question's embedding timed separately from the search and from the sentence evidence
   (stored sentence vectors); and what embedding the top three hits' sentences at answer
   time would cost instead. Filler chunk texts are windows of
   the h2o HR policy (read from ../shared/datasets, never copied); their vectors are real
   embeddings of 512 distinct windows, reused with a little noise (embedding 10,000 chunks
   would take minutes and search cost does not depend on the values).
3. Ingestion throughput: ``Retriever.index`` (embed + index) against the raw embedder on the
   same passages, same run, as a ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from companion.cli.evaluation import demo_chunks
from companion.config import RagSettings
from companion.knowledge.chunking import ChunkingOptions, chunk_document
from companion.knowledge.evaluation import (
    DEMO_COMPANY_IDS,
    HELDOUT_SET,
    AbstentionReport,
    EvalSet,
    Evidence,
    Report,
    by_company,
    evaluate,
    fit_evidence_rule,
    fit_rule,
    leave_one_out_rule,
    load_set,
    rule_abstention,
)
from companion.knowledge.index import open_index
from companion.knowledge.retrieval import ChunkDoc, Retriever, evidence_sentences, vectors_by
from companion.llm.embeddings import load_embedder

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT.parent / "shared" / "datasets" / "h2o-hr-policy" / "HR_Policy.txt"


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) of ``samples``."""
    return float(np.percentile(np.asarray(samples), q))


def filler_texts(count: int, words_per_chunk: int = 110) -> list[str]:
    """``count`` chunk-sized windows of the HR policy text (a synthetic text if it is missing)."""
    if POLICY.is_file():
        words = POLICY.read_text(encoding="utf-8").split()
    else:
        words = ("staff claim approved travel expenses within thirty days of return " * 500).split()
    texts = []
    step = 37  # overlapping windows: many distinct chunks from one document
    for i in range(count):
        start = (i * step) % max(len(words) - words_per_chunk, 1)
        texts.append(f"Filler policy {i}\n" + " ".join(words[start : start + words_per_chunk]))
    return texts


# How a chunk's dense vector and its sentence vectors are made. in_context: chunk windows
# embedded, sentence vectors pooled from the same pass (shipped,
# COMPANION_RAG__SENTENCE_VECTORS=in_context); separate: the same chunk vectors, every
# sentence embedded on its own as well (=separate); the rest: sentences embedded on their
# own and the chunk vector derived from them (not shipped).
ChunkVectors = Literal["in_context", "separate", "sentences", "sentences+heading", "weighted"]


def heading_line(chunk: ChunkDoc) -> str | None:
    """The chunk's heading line, which ``evidence_sentences`` leaves out (None: it has none)."""
    first, _, rest = chunk.text.partition("\n")
    return first if rest and first.startswith(chunk.title) and first.strip() else None


class DerivedVectorRetriever(Retriever):
    """Ingestion's retriever with chunk vectors made as ``chunk_vectors`` says."""

    chunk_vectors: ChunkVectors = "in_context"

    def embed_for_index(
        self, chunks: Sequence[ChunkDoc]
    ) -> tuple[np.ndarray[Any, Any], list[np.ndarray[Any, Any]]]:
        """The chunks' dense vectors and their sentence vectors as ``chunk_vectors`` says.

        A chunk with evidence sentences gets the normalised sum of their vectors (plus its
        heading line's in the heading modes, all weighted by length in "weighted") as its
        dense vector, so ingestion costs about one embedding pass per chunk; a chunk without
        any (a heading alone) is embedded whole.
        """
        if self.chunk_vectors in ("in_context", "separate"):
            return super().embed_for_index(chunks)
        sentences = self.embed_sentences(chunks)
        vectors = np.zeros((len(chunks), self.embedder.dim), dtype=np.float32)
        whole = [i for i, rows in enumerate(sentences) if not len(rows)]
        if whole:
            vectors[whole] = self.embed_chunks([chunks[i].text for i in whole])
        derived = [i for i, rows in enumerate(sentences) if len(rows)]
        weighted = self.chunk_vectors == "weighted"
        for i in derived:
            if weighted:  # as mean pooling over the whole text would: by length
                sizes = np.asarray([len(t) for t in evidence_sentences(chunks[i])], np.float32)
                vectors[i] = (sentences[i] * sizes[:, None]).sum(axis=0)
            else:
                vectors[i] = sentences[i].sum(axis=0)
        if self.chunk_vectors in ("sentences+heading", "weighted"):
            headings = {i: h for i in derived if (h := heading_line(chunks[i])) is not None}
            # Chunks of one section share its heading: embed each distinct heading once.
            distinct = list(dict.fromkeys(headings.values()))
            if distinct:
                heading_vectors = dict(zip(distinct, self.embedder.embed(distinct), strict=True))
                for i, heading in headings.items():
                    vectors[i] += heading_vectors[heading] * (len(heading) if weighted else 1)
        if derived:
            rows = vectors[derived]
            vectors[derived] = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
        return vectors, sentences


def build_retriever(
    adapter: str,
    root: Path,
    window: int | None = None,
    chunk_vectors: ChunkVectors = "in_context",
) -> DerivedVectorRetriever:
    """A retriever on the chosen adapter with the configured ranking settings."""
    embedder = load_embedder("onnx")
    rag = RagSettings(
        index_backend=adapter,
        sentence_vectors="in_context" if chunk_vectors == "in_context" else "separate",
    )
    if window is not None:
        rag = rag.model_copy(update={"embed_window_chars": window})
    index = open_index(rag, root, dim=embedder.dim, embedder=vectors_by(embedder, rag))
    retriever = DerivedVectorRetriever.configured(index, embedder, rag)
    retriever.chunk_vectors = chunk_vectors
    return retriever


def quality(retriever: Retriever) -> None:
    """Recall, MRR and abstention on the demo set, then on the held-out set."""
    demo = load_set()
    report = _retrieval(retriever, demo, "Demo retrieval set")
    assert report.answerable_evidence and report.unanswerable_evidence
    answerable, unanswerable = report.answerable_evidence, report.unanswerable_evidence
    fit = fit_evidence_rule(answerable, unanswerable)
    print(
        f"\nsentence evidence + weight x coverage, fitted on both companies: weight "
        f"{fit.weight}, threshold {fit.rule.threshold:.3f}, floor {fit.rule.floor}: "
        f"{_figures(fit.judge(answerable, unanswerable))}"
    )
    print(f"  leave-one-out (weight and floor chosen on all): {_figures(fit.loo)}")
    for train, test in (("acme", "globex"), ("globex", "acme")):
        one = fit_evidence_rule(*by_company(demo, answerable, unanswerable, train))
        print(
            f"  leave one company out, fitted {train}->{test} (weight {one.weight}, "
            f"threshold {one.rule.threshold:.3f}, floor {one.rule.floor}): "
            f"{_figures(one.judge(*by_company(demo, answerable, unanswerable, test)))}"
        )
    print("\nprevious signal, best chunk cosine + 0.7 x coverage, floor + threshold:")
    previous = {name: _previous(ev) for name, ev in (("a", answerable), ("u", unanswerable))}
    old_rule = fit_rule(previous["a"].scores(0.7), previous["u"].scores(0.7))
    in_sample = rule_abstention(previous["a"].scores(0.7), previous["u"].scores(0.7), old_rule)
    print(
        f"  fitted on both: threshold {old_rule.threshold:.3f}, floor {old_rule.floor}: "
        f"{_figures(in_sample)}"
    )
    loo = leave_one_out_rule(previous["a"].scores(0.7), previous["u"].scores(0.7))
    print(f"  leave-one-out: {_figures(loo)}")
    for train, test in (("acme", "globex"), ("globex", "acme")):
        a, u = by_company(demo, previous["a"], previous["u"], train)
        rule = fit_rule(a.scores(0.7), u.scores(0.7))
        a, u = by_company(demo, previous["a"], previous["u"], test)
        judged = rule_abstention(a.scores(0.7), u.scores(0.7), rule)
        print(f"  fitted {train}->{test}: {_figures(judged)}")

    heldout = load_set(shipped=HELDOUT_SET)
    held = _retrieval(retriever, heldout, "Held-out set (nothing fitted on it)")
    assert held.answerable_evidence and held.unanswerable_evidence
    print(
        f"\nthe rule fitted on the demo set above, judged here: "
        f"{_figures(fit.judge(held.answerable_evidence, held.unanswerable_evidence))}"
    )
    for company in DEMO_COMPANY_IDS:
        a, u = by_company(heldout, held.answerable_evidence, held.unanswerable_evidence, company)
        print(f"  {company} questions only: {_figures(fit.judge(a, u))}")
    a, u = _previous(held.answerable_evidence), _previous(held.unanswerable_evidence)
    print(
        f"  previous signal and its rule fitted on the demo set: "
        f"{_figures(rule_abstention(a.scores(0.7), u.scores(0.7), old_rule))}"
    )
    refused = [
        q.text
        for q, c in zip(heldout.answerable, fit.judge_scores(held.answerable_evidence), strict=True)
        if c < fit.rule.threshold
    ]
    answered = [
        q.text
        for q, c in zip(
            heldout.unanswerable, fit.judge_scores(held.unanswerable_evidence), strict=True
        )
        if c >= fit.rule.threshold
    ]
    print(f"  answerable refused ({len(refused)}): {refused}")
    print(f"  unanswerable answered ({len(answered)}): {answered}")


def _retrieval(retriever: Retriever, eval_set: EvalSet, name: str) -> Report:
    report = evaluate(retriever, eval_set, k=5, mrr_depth=10)
    print(
        f"\n== {name}: {report.questions} answerable, "
        f"{report.unanswerable} unanswerable questions, {retriever.vector_index.count()} chunks"
    )
    print(f"{'ranking':<10} {'recall@5':>9} {'MRR@10':>8}  misses")
    for mode in report.modes.values():
        print(f"{mode.mode:<10} {mode.recall_at_k:>9.3f} {mode.mrr:>8.3f}  {len(mode.misses)}")
        for miss in mode.misses:
            print(f"{'':<30}- {miss}")
    print(
        f"\nabstention at the configured rule (confidence >= {retriever.confidence_threshold}, "
        f"best cosine >= {retriever.min_top_dense}): {_figures(report.abstention)}"
    )
    if report.answer_abstention is not None:
        print(f"  the extractive answer (what chat shows): {_figures(report.answer_abstention)}")
    return report


def _previous(evidence: Evidence) -> Evidence:
    """The previous confidence's parts: the best chunk's cosine instead of a sentence's."""
    return Evidence(list(evidence.top_dense), list(evidence.coverage), list(evidence.top_dense))


def _figures(report: AbstentionReport) -> str:
    return (
        f"precision {report.precision:.3f}, recall {report.recall:.3f}, "
        f"answerable answered {report.answered_rate:.3f}"
    )


def latency(retriever: Retriever, extra: int, runs: int) -> None:
    """retrieve() p50/p95 with ``extra`` filler chunks in acme, embedding timed apart."""
    embedder = retriever.embedder
    texts = filler_texts(extra)
    distinct = min(512, len(texts))
    base = embedder.embed(texts[:distinct])
    acme = DEMO_COMPANY_IDS["acme"]
    # Sentence vectors as ingestion stores them: real ones for 128 windows, reused with noise.
    said = retriever.embed_sentences(
        [
            ChunkDoc(f"s{i}", 0, acme, (), "Filler", None, t, None, "POLICY")
            for i, t in enumerate(texts[:128])
        ]
    )
    rng = np.random.default_rng(7)
    started = time.perf_counter()
    batch = 1000
    for start in range(0, extra, batch):
        chunks = [
            ChunkDoc(
                chunk_id=f"kb_{100000 + i}#0",
                document_id=100000 + i,
                company_id=acme,
                roles=() if i % 10 else ("finance",),
                title=f"Filler policy {i}",
                section=None,
                text=texts[i],
                source_url=None,
                doc_type="POLICY",
            )
            for i in range(start, min(start + batch, extra))
        ]
        vectors = base[[i % distinct for i in range(start, start + len(chunks))]]
        vectors = vectors + rng.normal(0, 0.02, vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        sentences = []
        for i in range(start, start + len(chunks)):
            rows = said[i % len(said)]
            rows = rows + rng.normal(0, 0.02, rows.shape).astype(np.float32)
            sentences.append(rows / np.linalg.norm(rows, axis=1, keepdims=True))
        retriever.index_upsert(chunks, vectors, sentences=sentences)
    print(
        f"\n== Latency: {retriever.vector_index.count()} chunks in the index "
        f"({extra} filler in one company), loaded in {time.perf_counter() - started:.1f} s"
    )
    questions = [q.text for q in load_set().answerable]
    totals, embeds, searches, evidence, at_answer, counts = [], [], [], [], [], []
    for i in range(runs + 5):
        question = questions[i % len(questions)]
        t0 = time.perf_counter()
        result = retriever.retrieve(question, company_id=acme, roles=["sales"], k=5)
        total = (time.perf_counter() - t0) * 1000.0
        if i >= 5:  # warm-up
            totals.append(total)
            embeds.append(result.embed_ms)
            searches.append(result.search_ms)
            evidence.append(result.evidence_ms)
            # The alternative to stored sentence vectors: embedding them now, in one batch.
            top = [h.chunk for h in result.hits[:3]]
            t0 = time.perf_counter()
            retriever.embed_sentences(top)
            at_answer.append((time.perf_counter() - t0) * 1000.0)
            counts.append(sum(len(evidence_sentences(c)) for c in top))
    for name, samples in (
        ("retrieve (total)", totals),
        ("  embed question", embeds),
        ("  search+fuse", searches),
        ("  sentence evidence", evidence),
        ("(embed sentences)", at_answer),
    ):
        print(
            f"{name:<18} p50 {percentile(samples, 50):7.2f} ms   "
            f"p95 {percentile(samples, 95):7.2f} ms   mean {statistics.fmean(samples):7.2f} ms"
        )

    print(
        f"(embed sentences): embedding the top three hits' {statistics.fmean(counts):.1f} "
        "sentences (mean) in one batch at answer time, not done by retrieve"
    )


def throughput(
    adapter: str, passages: int, modes: Sequence[ChunkVectors], window: int | None = None
) -> None:
    """Indexing (embed + upsert) against the raw embedder on the same passages.

    The raw embedder is timed before and after the indexing runs and the two averaged, so a
    change of load on the shared machine during the run shifts both sides alike.
    """
    texts = filler_texts(passages)
    chunks = [
        ChunkDoc(f"kb_{i}#0", i, 1, (), "Filler", None, t, None, "POLICY")
        for i, t in enumerate(texts)
    ]
    embedder = load_embedder("onnx")
    embedder.embed(texts[:8])  # warm-up

    def raw_pass() -> float:
        t0 = time.perf_counter()
        embedder.embed(texts)
        return time.perf_counter() - t0

    before = raw_pass()
    indexed: dict[ChunkVectors, float] = {}
    for mode in modes:
        with tempfile.TemporaryDirectory() as tmp:
            retriever = build_retriever(adapter, Path(tmp), window, chunk_vectors=mode)
            t0 = time.perf_counter()
            retriever.index(chunks)
            indexed[mode] = time.perf_counter() - t0
    after = raw_pass()
    raw = (before + after) / 2
    print(
        f"\n== Ingestion throughput ({passages} passages of ~110 words): raw embedder "
        f"{passages / raw:.1f}/s ({passages / before:.1f}/s before the indexing runs, "
        f"{passages / after:.1f}/s after)"
    )
    for mode, seconds in indexed.items():
        print(
            f"  Retriever.index, chunk vectors {mode:<17} {passages / seconds:.1f}/s, "
            f"ratio {raw / seconds:.2f}"
        )


def pipeline_throughput(
    documents: int, modes: Sequence[ChunkVectors], sections: int = 8, prefill: int = 0
) -> None:
    """``ingest_trusted`` end to end (parse, chunk, SQLite, embed, index) against the raw embedder.

    Markdown documents of ``sections`` headed sections of ~110 words each go into a fresh
    SQLite database, one commit per document as the CLI does; the raw embedder then embeds the
    chunk texts ingestion made, twice, in the same run. ``prefill`` puts that many filler
    chunks (random vectors, eight sentence vectors each) in the index first, as a company's
    existing knowledge base.
    """
    bodies = filler_texts(documents * sections)
    texts = [
        f"# Policy {d}\n\n"
        + "\n\n".join(
            f"## Section {s}\n\n{bodies[d * sections + s].partition(chr(10))[2]}"
            for s in range(sections)
        )
        for d in range(documents)
    ]
    embedder = load_embedder("onnx")
    embedder.embed(bodies[:8])  # warm-up
    for mode in [m for m in modes if m in ("in_context", "separate")]:
        seconds, chunk_texts = _ingest_all(texts, mode, prefill)

        def raw_pass(calls: list[list[str]]) -> float:
            started = time.perf_counter()
            for call in calls:
                embedder.embed(call)
            return time.perf_counter() - started

        # In one call (the embedder's batches of 32), and in one call per document as
        # ingestion makes them: smaller batches are faster per text on this CPU.
        per_document = [chunk_texts[i : i + sections] for i in range(0, len(chunk_texts), sections)]
        raw = (raw_pass([chunk_texts]) + raw_pass([chunk_texts])) / 2
        raw_docs = (raw_pass(per_document) + raw_pass(per_document)) / 2
        count = len(chunk_texts)
        print(
            f"\n== Ingestion end to end, sentence vectors {mode}: {documents} Markdown documents, "
            f"{count} chunks (ingest_trusted into SQLite, one commit each; {prefill} chunks in "
            "the index before)\n"
            f"  ingestion {count / seconds:.1f} chunks/s; raw embedder on the same chunk texts "
            f"in one call {count / raw:.1f}/s, ratio {raw / seconds:.2f}; in one call per "
            f"document {count / raw_docs:.1f}/s, ratio {raw_docs / seconds:.2f}"
        )


def _ingest_all(texts: list[str], mode: ChunkVectors, prefill: int) -> tuple[float, list[str]]:
    """Seconds to ingest ``texts`` into a fresh database, and the chunk texts it made."""
    from sqlalchemy.orm import sessionmaker

    from companion.kit import migrate
    from companion.kit.db import make_engine, session_scope
    from companion.knowledge.repository import iter_chunk_docs
    from companion.knowledge.service import ingest_trusted
    from companion.tenancy.models import Company

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/ingest.db")
        migrate.upgrade(engine)
        factory = sessionmaker(bind=engine)
        with session_scope(factory) as session:
            company = Company(slug="bench", name="Bench Ltd", base_currency="USD")
            session.add(company)
            session.flush()
            company_id = company.id
        retriever = build_retriever("local", Path(tmp) / "kb", chunk_vectors=mode)
        # The existing knowledge base is the live version as a rebuild writes it.
        version = retriever.vector_index.create_version()
        if prefill:
            rng = np.random.default_rng(7)
            filler = [
                ChunkDoc(f"kb_{10**7 + i}#0", 10**7 + i, company_id, (), "F", None, t, None, "NOTE")
                for i, t in enumerate(filler_texts(prefill))
            ]
            vectors = rng.standard_normal((prefill, retriever.embedder.dim)).astype(np.float32)
            sentences = [
                rng.standard_normal((8, vectors.shape[1])).astype(np.float32) for _ in filler
            ]
            retriever.index_upsert(filler, vectors, version, sentences=sentences)
        retriever.vector_index.switch(version)
        t0 = time.perf_counter()
        for number, text in enumerate(texts):
            with session_scope(factory) as session:
                ingest_trusted(
                    session,
                    company_id,
                    text.encode(),
                    actor="bench",
                    filename=f"policy-{number}.md",
                    index=retriever,
                )
        seconds = time.perf_counter() - t0
        with session_scope(factory) as session:
            chunk_texts = [c.text for c in iter_chunk_docs(session)]
        engine.dispose()
    return seconds, chunk_texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--adapter", choices=["local", "qdrant"], default="local")
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--passages", type=int, default=256)
    parser.add_argument(
        "--documents", type=int, default=24, help="documents ingested end to end (part 3)"
    )
    parser.add_argument(
        "--prefill", type=int, default=0, help="chunks already in the index (end to end)"
    )
    parser.add_argument(
        "--max-chars", type=int, default=None, help="chunk size (default: settings)"
    )
    parser.add_argument("--window-chars", type=int, default=None, help="0: first 256 tokens only")
    parser.add_argument(
        "--no-help", action="store_true", help="index only the policy documents (first pass)"
    )
    parser.add_argument(
        "--ingestion-only", action="store_true", help="only the ingestion throughput (part 3)"
    )
    parser.add_argument(
        "--chunk-vectors",
        choices=list(get_args(ChunkVectors)),
        default=None,
        help="how chunk and sentence vectors are made "
        "(default: in_context, as shipped; throughput compares all)",
    )
    args = parser.parse_args()
    modes: list[ChunkVectors] = (
        [args.chunk_vectors] if args.chunk_vectors else list(get_args(ChunkVectors))
    )
    if args.ingestion_only:
        throughput(args.adapter, args.passages or 256, modes, args.window_chars)
        pipeline_throughput(args.documents, modes, prefill=args.prefill)
        return
    rag = RagSettings()
    options = ChunkingOptions(
        strategy=rag.chunk_strategy,
        max_chars=args.max_chars or rag.chunk_max_chars,
        overlap_chars=rag.chunk_overlap_chars,
    )

    def chunker(text: str, title: str) -> list[tuple[str | None, str]]:
        return [(c.section, c.text) for c in chunk_document(text, title=title, options=options)]

    with tempfile.TemporaryDirectory() as tmp:
        retriever = build_retriever(
            args.adapter, Path(tmp), args.window_chars, args.chunk_vectors or "in_context"
        )
        t0 = time.perf_counter()
        retriever.index(demo_chunks(chunker, with_help=not args.no_help))
        print(
            f"adapter {args.adapter}: indexed the demo documents"
            f"{'' if args.no_help else ' and the help pages'} in {time.perf_counter() - t0:.1f} s "
            f"(chunks of {options.max_chars} characters, embedding windows "
            f"{retriever.embed_window_chars or 'off'}, chunk vectors {retriever.chunk_vectors})"
        )
        quality(retriever)
        if args.chunks:
            latency(retriever, args.chunks, args.runs)
    if args.passages:
        throughput(args.adapter, args.passages, modes, args.window_chars)
        pipeline_throughput(args.documents, modes, prefill=args.prefill)


if __name__ == "__main__":
    main()
