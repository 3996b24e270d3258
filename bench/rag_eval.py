"""Knowledge retrieval benchmark: quality on the demo set, latency at 10,000 chunks, throughput.

    .venv/bin/python bench/rag_eval.py [--adapter local|qdrant] [--chunks 10000] [--runs 200]

1. Quality: the labelled demo set (src/companion/knowledge/eval/demo_retrieval.yml) over the
   demo policy documents plus the product's help pages (global, as ``companion demo`` indexes
   them), chunked and embedded as ingestion does: recall@5 and MRR@10 for dense-only,
   BM25-only and fused (RRF); abstention precision / recall at the configured threshold, the
   threshold calibrated on the whole set (both companies), leave-one-out, leave one company
   out (both ways), and what the extractive answer does (answers or says "not found").
2. Latency: ``retrieve`` p50 / p95 with ``--chunks`` extra chunks in one company, the
   question's embedding timed separately from the search. Filler chunk texts are windows of
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
from pathlib import Path

import numpy as np

from companion.config import RagSettings
from companion.knowledge.chunking import ChunkingOptions, chunk_document
from companion.knowledge.evaluation import (
    DEMO_COMPANY_IDS,
    AbstentionReport,
    Scores,
    cross_validated_abstention,
    demo_chunks,
    evaluate,
    fit_rule,
    leave_one_out_rule,
    load_set,
    rule_abstention,
)
from companion.knowledge.index import open_index
from companion.knowledge.retrieval import ChunkDoc, Retriever
from companion.llm.embeddings import get_embedder

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


def build_retriever(adapter: str, root: Path, window: int | None = None) -> Retriever:
    """A retriever on the chosen adapter with the configured ranking settings."""
    embedder = get_embedder("onnx")
    rag = RagSettings(index_backend=adapter)
    window = rag.embed_window_chars if window is None else window
    index = open_index(rag, root, dim=embedder.dim, embedder=embedder.name)
    return Retriever(
        index,
        embedder,
        k=rag.k,
        rrf_k=rag.rrf_k,
        candidates=rag.candidates,
        confidence_threshold=rag.confidence_threshold,
        min_top_dense=rag.min_top_dense,
        embed_window_chars=window or None,
    )


def quality(retriever: Retriever) -> None:
    """Recall, MRR and abstention on the demo set."""
    demo = load_set()
    report = evaluate(retriever, demo, k=5, mrr_depth=10)
    print(
        f"\n== Demo retrieval set: {report.questions} answerable, "
        f"{report.unanswerable} unanswerable questions, {retriever.vector_index.count()} chunks"
    )
    print(f"{'ranking':<10} {'recall@5':>9} {'MRR@10':>8}  misses")
    for mode in report.modes.values():
        print(f"{mode.mode:<10} {mode.recall_at_k:>9.3f} {mode.mrr:>8.3f}  {len(mode.misses)}")
        for miss in mode.misses:
            print(f"{'':<30}- {miss}")
    ab = report.abstention
    print(
        f"\nabstention at the configured rule (confidence >= {retriever.confidence_threshold}, "
        f"best cosine >= {retriever.min_top_dense}): {_figures(ab)}"
    )
    if report.answer_abstention is not None:
        print(f"  the extractive answer (what chat shows): {_figures(report.answer_abstention)}")
    answerable = Scores(report.answerable_scores, report.answerable_top_dense)
    unanswerable = Scores(report.unanswerable_scores, report.unanswerable_top_dense)
    for floor in (True, False):
        name = "floor + threshold" if floor else "threshold only"
        rule = fit_rule(answerable, unanswerable, floor=floor)
        print(
            f"\n{name}, fitted on both companies: threshold {rule.threshold:.3f}, floor "
            f"{rule.floor}: {_figures(rule_abstention(answerable, unanswerable, rule))}"
        )
        loo = leave_one_out_rule(answerable, unanswerable, floor=floor)
        print(
            f"  leave-one-out (each question judged by a rule fitted without it): {_figures(loo)}"
        )
        for split, result in cross_validated_abstention(retriever, demo, floor=floor).items():
            print(
                f"  leave one company out, fitted {split}: threshold {result.threshold:.3f}: "
                f"{_figures(result)}"
            )


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
    rng = np.random.default_rng(7)
    acme = DEMO_COMPANY_IDS["acme"]
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
        retriever.index_upsert(chunks, vectors)
    print(
        f"\n== Latency: {retriever.vector_index.count()} chunks in the index "
        f"({extra} filler in one company), loaded in {time.perf_counter() - started:.1f} s"
    )
    questions = [q.text for q in load_set().answerable]
    totals, embeds, searches = [], [], []
    for i in range(runs + 5):
        question = questions[i % len(questions)]
        t0 = time.perf_counter()
        result = retriever.retrieve(question, company_id=acme, roles=["sales"], k=5)
        total = (time.perf_counter() - t0) * 1000.0
        if i >= 5:  # warm-up
            totals.append(total)
            embeds.append(result.embed_ms)
            searches.append(result.search_ms)
    for name, samples in (
        ("retrieve (total)", totals),
        ("  embed question", embeds),
        ("  search+fuse", searches),
    ):
        print(
            f"{name:<18} p50 {percentile(samples, 50):7.2f} ms   "
            f"p95 {percentile(samples, 95):7.2f} ms   mean {statistics.fmean(samples):7.2f} ms"
        )


def throughput(adapter: str, passages: int) -> None:
    """Indexing (embed + upsert) against the raw embedder on the same passages."""
    texts = filler_texts(passages)
    with tempfile.TemporaryDirectory() as tmp:
        retriever = build_retriever(adapter, Path(tmp))
        embedder = retriever.embedder
        embedder.embed(texts[:8])  # warm-up
        t0 = time.perf_counter()
        embedder.embed(texts)
        raw = time.perf_counter() - t0
        chunks = [
            ChunkDoc(f"kb_{i}#0", i, 1, (), "Filler", None, t, None, "POLICY")
            for i, t in enumerate(texts)
        ]
        t0 = time.perf_counter()
        retriever.index(chunks)
        indexed = time.perf_counter() - t0
    print(
        f"\n== Ingestion throughput ({passages} passages of ~110 words): raw embedder "
        f"{passages / raw:.1f}/s, Retriever.index {passages / indexed:.1f}/s, "
        f"ratio {raw / indexed:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--adapter", choices=["local", "qdrant"], default="local")
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--passages", type=int, default=256)
    parser.add_argument(
        "--max-chars", type=int, default=None, help="chunk size (default: settings)"
    )
    parser.add_argument("--window-chars", type=int, default=None, help="0: first 256 tokens only")
    parser.add_argument(
        "--no-help", action="store_true", help="index only the policy documents (first pass)"
    )
    args = parser.parse_args()
    rag = RagSettings()
    options = ChunkingOptions(
        strategy=rag.chunk_strategy,
        max_chars=args.max_chars or rag.chunk_max_chars,
        overlap_chars=rag.chunk_overlap_chars,
    )

    def chunker(text: str, title: str) -> list[tuple[str | None, str]]:
        return [(c.section, c.text) for c in chunk_document(text, title=title, options=options)]

    with tempfile.TemporaryDirectory() as tmp:
        retriever = build_retriever(args.adapter, Path(tmp), args.window_chars)
        t0 = time.perf_counter()
        retriever.index(demo_chunks(chunker, with_help=not args.no_help))
        print(
            f"adapter {args.adapter}: indexed the demo documents"
            f"{'' if args.no_help else ' and the help pages'} in {time.perf_counter() - t0:.1f} s "
            f"(chunks of {options.max_chars} characters, embedding windows "
            f"{retriever.embed_window_chars or 'off'})"
        )
        quality(retriever)
        if args.chunks:
            latency(retriever, args.chunks, args.runs)
    if args.passages:
        throughput(args.adapter, args.passages)


if __name__ == "__main__":
    main()
