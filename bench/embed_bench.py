"""Embedder benchmark: the ONNX and sentence-transformers adapters side by side, same run.

    .venv/bin/python bench/embed_bench.py [--queries 300] [--passages 256] [--rounds 3]

Single-query latency (median, p95) embeds one short ERP question per call, as a chat turn
does; throughput embeds passages of ~80-120 words (HR policy text, as RAG indexing does) in
one call. Also prints the cosine agreement of the two adapters on the same inputs.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from companion.llm.embeddings.base import Embedder

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT.parent / "shared" / "datasets" / "h2o-hr-policy" / "HR_Policy.txt"

QUERIES = [
    "what's our cash balance?",
    "which invoices are overdue",
    "approve PO-2026-0042",
    "show me sales for last month",
    "top 5 customers this quarter",
    "how much do we owe Karim Steel",
    "stock of cement in the Dhaka warehouse",
    "what is the travel policy for managers?",
    "record a payment of 25k from Rahim Traders",
    "profit and loss for Q3 2025",
]


def passages(count: int) -> list[str]:
    """``count`` chunks of ~100 words from the HR policy text (synthetic if it is missing)."""
    if POLICY.is_file():
        words = POLICY.read_text(encoding="utf-8").split()
    else:
        words = (
            "the company reimburses approved travel expenses within thirty days " * 400
        ).split()
    chunks = []
    step = 100
    for i in range(count):
        start = (i * step) % max(len(words) - step, 1)
        chunks.append(" ".join(words[start : start + step + (i % 3) * 10]))
    return chunks


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def measure(embedder: Embedder, n_queries: int, texts: list[str]) -> dict[str, float]:
    """Latency of single queries and throughput of a passage batch."""
    for q in QUERIES:
        embedder.embed([q])
    embedder.embed(texts[:32])
    latencies = []
    for i in range(n_queries):
        query = QUERIES[i % len(QUERIES)]
        start = time.perf_counter()
        embedder.embed([query])
        latencies.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    embedder.embed(texts)
    elapsed = time.perf_counter() - start
    return {
        "p50_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 95),
        "passages_per_s": len(texts) / elapsed,
    }


def median_round(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per figure, the median over rounds."""
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--passages", type=int, default=256)
    parser.add_argument("--threads", type=int, default=0, help="0 = the runtime's default")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from companion.llm.embeddings.onnx import OnnxEmbedder
    from companion.llm.embeddings.sbert import SentenceTransformerEmbedder

    texts = passages(args.passages)
    load = {}
    start = time.perf_counter()
    onnx = OnnxEmbedder(threads=args.threads)
    load["onnx"] = time.perf_counter() - start
    start = time.perf_counter()
    sbert = SentenceTransformerEmbedder(threads=args.threads)
    load["sentence_transformers"] = time.perf_counter() - start

    # Alternate the adapters over several rounds, so a noisy neighbour on the machine hits
    # both alike; report each adapter's median round.
    rounds: dict[str, list[dict[str, float]]] = {"onnx": [], "sentence_transformers": []}
    for _ in range(args.rounds):
        rounds["onnx"].append(measure(onnx, args.queries, texts))
        rounds["sentence_transformers"].append(measure(sbert, args.queries, texts))
    results = {name: median_round(runs) for name, runs in rounds.items()}
    sample = QUERIES + texts[:50]
    agreement = (onnx.embed(sample) * sbert.embed(sample)).sum(axis=1)

    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print(
        f"{args.queries} single queries, {len(texts)} passages (~100-120 words each), "
        f"median of {args.rounds} alternating rounds"
    )
    print(f"{'adapter':24} {'load s':>7} {'p50 ms':>8} {'p95 ms':>8} {'passages/s':>11}")
    for name, r in results.items():
        print(
            f"{name:24} {load[name]:7.2f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} "
            f"{r['passages_per_s']:11.1f}"
        )
    o, s = results["onnx"], results["sentence_transformers"]
    print(
        f"ratio sentence_transformers/onnx: latency p50 {s['p50_ms'] / o['p50_ms']:.2f}x, "
        f"p95 {s['p95_ms'] / o['p95_ms']:.2f}x; "
        f"throughput onnx/sentence_transformers {o['passages_per_s'] / s['passages_per_s']:.2f}x"
    )
    print(
        f"cosine(onnx, sentence_transformers) on {len(sample)} texts: "
        f"min {float(np.min(agreement)):.4f}, mean {float(np.mean(agreement)):.4f}"
    )


if __name__ == "__main__":
    main()
