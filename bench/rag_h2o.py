"""External retrieval check on a real policy document: the h2o HR policy set (122 questions).

    .venv/bin/python bench/rag_h2o.py [--adapter local|qdrant] [--k 5] [--show-misses]

The dataset is evaluation-only and is read from ../shared/datasets/h2o-hr-policy (never
copied into the package or tests). HR_Policy.txt goes through ingestion's own path:
``knowledge.parsers.parse`` (plain text: page numbers dropped, ALL-CAPS numbered lines as
headings) and ``knowledge.chunking.chunk_document`` with the default options.

Hit rate@k: a question is a hit when one of the top-k retrieved chunks contains the expected
answer's key terms. Key terms:

- where the question also appears in token_presence_HR_Policy_output.json with substantive
  constraints (not just "Yes"/"No"), those constraint strings (case and spacing ignored);
- otherwise the content words and numbers of ``expected_output`` (stop words removed,
  stemmed as BM25 does), without the words the question itself already contains (falling
  back to all of them when the answer only restates the question).

Words that only frame an answer ("Yes, ...", "In this scenario") are not key terms. A chunk
"contains" them when it holds at least ``--coverage`` (default 0.6) of the key terms and
every number among them (``hit@k``, the headline figure). Also printed: ``strict`` (one chunk
holds all key terms) and ``top-k`` (the k chunks together hold them, as an answer built
from all of them would: multi-hop answers span sections).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from rag_eval import ChunkVectors, build_retriever  # bench/ is on the path as a script

from companion.config import RagSettings
from companion.knowledge.chunking import ChunkingOptions, chunk_document
from companion.knowledge.evaluation import normalise
from companion.knowledge.parsers import parse
from companion.knowledge.retrieval import QUESTION_WORDS, ChunkDoc
from companion.knowledge.sparse import tokenize

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "h2o-hr-policy"
TRIVIAL = {"yes", "no", ""}
# Words of the answer's framing, not of its content ("Yes, ...", "In this scenario, ...").
FRAMING = frozenset(
    tokenize(
        "yes no answer question scenario context case however therefore thus hence x "
        "according based following note also"
    )
)
_NUMBER = re.compile(r"^\d")


@dataclass(frozen=True)
class Case:
    question: str
    category: str
    expected: str
    constraints: tuple[str, ...]


def _question(prompt: str) -> str:
    return prompt.split("Question:")[-1].strip()


def load_cases() -> list[Case]:
    """The 122 question_type cases, with token_presence constraints where the question matches."""
    types = json.loads((DATA / "question_type_HR_Policy_output.json").read_text("utf-8"))
    presence = json.loads((DATA / "token_presence_HR_Policy_output.json").read_text("utf-8"))
    constraints: dict[str, tuple[str, ...]] = {}
    for test in presence["tests"]:
        for case in test["test_cases"]:
            useful = tuple(c for c in case["constraints"] if c.strip().lower() not in TRIVIAL)
            if useful:
                constraints[_question(case["prompt"]).lower()] = useful
    cases = []
    for test in types["tests"]:
        for case in test["test_cases"]:
            question = _question(case["prompt"])
            cases.append(
                Case(
                    question=question,
                    category=case["categories"][0],
                    expected=case["expected_output"],
                    constraints=constraints.get(question.lower(), ()),
                )
            )
    return cases


def key_terms(case: Case) -> tuple[list[str], bool]:
    """The answer's key terms, and whether they are literal strings (constraints)."""
    if case.constraints:
        return [normalise(c) for c in case.constraints], True
    answer = [t for t in dict.fromkeys(tokenize(case.expected)) if t not in FRAMING]
    asked = set(tokenize(case.question)) | QUESTION_WORDS
    new = [t for t in answer if t not in asked]
    if new or answer:
        return (new or answer), False
    # A bare "Yes.": the passage that answers is the one about the question's own subject.
    return [t for t in dict.fromkeys(tokenize(case.question)) if t not in QUESTION_WORDS], False


def chunk_score(chunk_text: str, terms: list[str], literal: bool) -> tuple[float, bool]:
    """Share of key terms in a chunk, and whether all of its numbers are there."""
    if literal:
        text = normalise(chunk_text)
        present = [t in text for t in terms]
    else:
        tokens = set(tokenize(chunk_text))
        present = [t in tokens for t in terms]
    numbers_ok = all(p for t, p in zip(terms, present, strict=True) if _NUMBER.match(t))
    return (sum(present) / len(terms) if terms else 0.0), numbers_ok


def policy_chunks(options: ChunkingOptions | None = None) -> list[ChunkDoc]:
    """HR_Policy.txt through ingestion's parser and chunker (one company, public)."""
    parsed = parse((DATA / "HR_Policy.txt").read_bytes(), filename="HR_Policy.txt")
    title = "NTUC-ARU staff handbook"
    return [
        ChunkDoc(
            chunk_id=f"kb_1#{c.ordinal}",
            document_id=1,
            company_id=1,
            roles=(),
            title=title,
            section=c.section,
            text=c.text,
            source_url="HR_Policy.txt",
            doc_type="POLICY",
        )
        for c in chunk_document(parsed.text, title=title, options=options)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--adapter", choices=["local", "qdrant"], default="local")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--coverage", type=float, default=0.6)
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument(
        "--max-chars", type=int, default=None, help="chunk size (default: ingestion's settings)"
    )
    parser.add_argument("--overlap", type=int, default=None, help="chunk overlap in characters")
    parser.add_argument(
        "--window-chars",
        type=int,
        default=None,
        help="embedding window (default: the settings'; 0: embed only the first 256 tokens)",
    )
    parser.add_argument(
        "--chunk-vectors",
        choices=list(get_args(ChunkVectors)),
        default="in_context",
        help="how chunk vectors are made (in_context: as shipped; see rag_eval.ChunkVectors)",
    )
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is missing: this benchmark needs ../shared/datasets")

    rag = RagSettings(index_backend=args.adapter)
    options = ChunkingOptions(
        strategy=rag.chunk_strategy,
        max_chars=args.max_chars or rag.chunk_max_chars,
        overlap_chars=rag.chunk_overlap_chars if args.overlap is None else args.overlap,
    )
    window = rag.embed_window_chars if args.window_chars is None else args.window_chars
    chunks = policy_chunks(options)
    cases = load_cases()
    with tempfile.TemporaryDirectory() as tmp:
        retriever = build_retriever(args.adapter, Path(tmp), window, args.chunk_vectors)
        t0 = time.perf_counter()
        retriever.index(chunks)
        lengths = [len(c.text) for c in chunks]
        print(
            f"indexed {len(chunks)} chunks (ingestion's parser + chunker, median "
            f"{statistics.median(lengths):.0f} chars, overlap {options.overlap_chars}) in "
            f"{time.perf_counter() - t0:.1f} s [{args.adapter}, embedding windows "
            f"{window or 'off (first 256 tokens)'}, chunk vectors {args.chunk_vectors}]"
        )
        with_constraints = sum(1 for c in cases if c.constraints)
        print(
            f"{len(cases)} questions; {with_constraints} use token_presence constraints as "
            f"key terms, the rest the expected answer's content words"
        )
        # The ceiling: questions where some chunk of the whole document meets the criterion.
        reachable = set()
        for i, case in enumerate(cases):
            terms, literal = key_terms(case)
            if any(
                score >= args.coverage and ok
                for score, ok in (chunk_score(c.text, terms, literal) for c in chunks)
            ):
                reachable.add(i)
        print(
            f"ceiling: for {len(reachable)} of {len(cases)} questions "
            f"({len(reachable) / len(cases):.3f}) some chunk of the document holds the key terms"
        )
        print(
            f"\n{'ranking':<8} {'hit@' + str(args.k):>7} {'of ceil':>7} {'strict':>7} "
            f"{'top-k':>7} {'confident':>10} {'ctx chars':>9}  by category (hit rate)"
        )
        for mode in ("dense", "sparse", "hybrid"):
            reached = 0
            hits = strict = confident = union = 0
            context = 0  # characters of the top-k chunks: what an answer is built from
            per_category: dict[str, list[int]] = {}
            misses = []
            for i, case in enumerate(cases):
                result = retriever.search(
                    case.question, company_id=1, roles=(), k=args.k, mode=mode
                )
                terms, literal = key_terms(case)
                scores = [chunk_score(h.chunk.text, terms, literal) for h in result.hits]
                hit = any(s >= args.coverage and ok for s, ok in scores)
                hits += hit
                reached += hit and i in reachable
                together = chunk_score(" ".join(h.chunk.text for h in result.hits), terms, literal)
                union += together[0] >= args.coverage and together[1]
                strict += any(s >= 1.0 for s, _ in scores)
                confident += result.confident
                context += sum(len(h.chunk.text) for h in result.hits)
                per_category.setdefault(case.category, []).append(int(hit))
                if not hit:
                    misses.append((case.question, terms))
            categories = ", ".join(
                f"{name} {sum(v) / len(v):.2f}" for name, v in sorted(per_category.items())
            )
            n = len(cases)
            print(
                f"{mode:<8} {hits / n:>7.3f} {reached / max(len(reachable), 1):>7.3f} "
                f"{strict / n:>7.3f} {union / n:>7.3f} "
                f"{confident / n:>10.3f} {context / n:>9.0f}  "
                f"{categories}"
            )
            if args.show_misses and mode == "hybrid":
                for question, terms in misses:
                    print(f"   miss: {question}  key terms: {terms}")


if __name__ == "__main__":
    main()
