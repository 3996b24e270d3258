"""Chat over documents we did not write: facts answered, near misses, documents vs data.

    .venv/bin/python bench/rag_docs_eval.py [--work /tmp/knowledge/docs-eval] [--show]

The question sets are bench/rag_docs_questions.yml (written before any answer was looked
at). The documents are read where they are installed and never copied into the repository:
the h2o HR policy (../shared/datasets/h2o-hr-policy/HR_Policy.txt, MPL-2.0) and chapters
1-3 of the Debian Policy Manual (``apt-get install debian-policy``:
/usr/share/doc/debian-policy/policy.txt.gz, GPL-2+). Both are ingested for the demo company
"acme" as a local operator would (``ingest_trusted``: ingestion's parser and chunker), next
to the demo's own policy documents, and every question is one real chat turn
(``Assistant.turn``: the shipped NLU, routing, the knowledge skill; no LLM) asked by the
demo's finance user. The demo database and index are built once under ``--work`` and
reused.

Reported: factual questions answered with the fact in the message; yes/no questions whose
message leads with the expected answer; near-miss questions answered "couldn't find it";
document questions (all sets) answered by a data query; the data questions of
bench/common.py (and two naming a customer) still answered from the ledger; turn latency
median and p95. ``--demo-sets``: the extractive answer on the shipped demo retrieval and
held-out sets (answerable questions answered, unanswerable ones answered anyway).
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, os.path.dirname(__file__))

from common import DEMO_TODAY, p  # noqa: E402
from common import QUESTIONS as DATA_QUESTIONS  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from companion.assistant.schemas import ChatRequest  # noqa: E402
from companion.auth.passwords import PasswordHasher  # noqa: E402
from companion.auth.service import context_for_user  # noqa: E402
from companion.bootstrap import bootstrap  # noqa: E402
from companion.config import RateLimitSettings, Settings  # noqa: E402
from companion.demo.service import build_demo  # noqa: E402
from companion.kit import migrate  # noqa: E402
from companion.kit.db import make_engine, session_scope  # noqa: E402
from companion.knowledge.answers import NOT_FOUND  # noqa: E402
from companion.knowledge.chunking import ChunkingOptions  # noqa: E402
from companion.knowledge.schemas import EntryMeta  # noqa: E402
from companion.knowledge.service import ingest_trusted  # noqa: E402
from companion.tenancy.models import Company  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "bench" / "rag_docs_questions.yml"
HR = ROOT.parent / "shared" / "datasets" / "h2o-hr-policy" / "HR_Policy.txt"
DEBIAN = Path("/usr/share/doc/debian-policy/policy.txt.gz")
# Skills that answer from the ledger.
DATA_SKILLS = frozenset({"data_query", "analytics", "unapplied", "briefing"})


def debian_chapters() -> bytes:
    """Chapters 1-3 of the installed Debian Policy Manual, as text."""
    if not DEBIAN.exists():
        raise SystemExit(f"{DEBIAN} is missing: apt-get install debian-policy")
    text = gzip.decompress(DEBIAN.read_bytes()).decode("utf-8")
    start = text.index("1. About this manual\n*****")
    end = text.index("4. Source packages\n*****")
    return text[start:end].encode("utf-8")


def documents() -> list[tuple[str, str, bytes]]:
    """(title, filename, bytes) of the documents the questions are about."""
    if not HR.exists():
        raise SystemExit(f"{HR} is missing: this benchmark needs ../shared/datasets")
    return [
        ("NTUC-ARU staff handbook", "HR_Policy.txt", HR.read_bytes()),
        ("Debian Policy Manual", "debian-policy.txt", debian_chapters()),
    ]


def prepare(work: Path) -> Settings:
    """The demo with both documents for acme under ``work`` (built once, then reused)."""
    url = f"sqlite:///{work / 'demo.db'}"
    # One user asks every question in a row: the per-user chat limit is not what is measured.
    settings = Settings(
        database_url=url,
        demo_mode=True,
        today=DEMO_TODAY,
        data_dir=work / "data",
        rate_limits=RateLimitSettings(enabled=False),
    )
    work.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    migrate.upgrade(engine)  # also a reused database: the schema may have moved on
    if (work / "ready").exists():
        engine.dispose()
        return settings
    started = time.perf_counter()
    with session_scope(sessionmaker(bind=engine)) as session:
        build_demo(session, PasswordHasher(), today=DEMO_TODAY, months=3, scale=0.2)
        acme = session.scalars(select(Company.id).where(Company.slug == "acme")).one()
        for title, filename, data in documents():
            ingest_trusted(
                session,
                acme,
                data,
                actor="bench",
                filename=filename,
                meta=EntryMeta(title=title),
                options=ChunkingOptions.from_settings(settings.rag),
            )
    engine.dispose()
    print(f"built the demo and ingested the documents in {time.perf_counter() - started:.1f} s")
    (work / "ready").write_text("ok")
    return settings


@dataclass
class Result:
    group: str
    question: dict[str, Any]
    skill: str
    intent: str
    message: str
    ms: float

    @property
    def data_answer(self) -> bool:
        return self.skill in DATA_SKILLS

    @property
    def has_fact(self) -> bool:
        text = " ".join(self.message.lower().split())
        return any(" ".join(e.lower().split()) in text for e in self.question.get("expect", []))

    @property
    def leads(self) -> bool:
        answer = self.question.get("answer")
        return bool(answer) and self.message.lower().startswith(str(answer))

    @property
    def not_found(self) -> bool:
        return self.message.startswith(NOT_FOUND.split(" in ")[0]) or not self.message.strip()


def run(settings: Settings) -> list[Result]:
    container = bootstrap(settings)
    assistant = container.assistant()
    container.retriever()  # build the index outside the timings
    sets = yaml.safe_load(QUESTIONS.read_text("utf-8"))
    results = []
    # The control: the data questions of bench/common.py, and two naming a customer.
    sets["data"] = [{"q": q} for q in DATA_QUESTIONS] + [
        {"q": "how much does Khulna Distributors owe us?"},
        {"q": "sales to Khulna Distributors last month"},
    ]
    for group in ("factual", "near_miss", "ledger_like", "data"):
        for question in sets[group]:
            with session_scope(container.session_factory) as session:
                ctx = context_for_user(session, "finance", "acme")
                started = time.perf_counter()
                response = assistant.turn(session, ctx, ChatRequest(message=question["q"]))
                ms = (time.perf_counter() - started) * 1000
            results.append(
                Result(group, question, response.skill, response.intent, response.message, ms)
            )
    container.dispose()
    return results


def share(hits: int, total: int) -> str:
    return f"{hits}/{total} ({hits / total:.2f})" if total else "0/0"


def report(results: list[Result], show: bool) -> None:
    factual = [r for r in results if r.group == "factual"]
    yes_no = [r for r in factual if r.question.get("answer")]
    near = [r for r in results if r.group == "near_miss"]
    ledger = [r for r in results if r.group == "ledger_like"]
    documents = [r for r in results if r.group in ("factual", "ledger_like")]
    data = [r for r in results if r.group == "data"]
    figures = [
        ("factual questions answered with the fact", sum(r.has_fact for r in factual), factual),
        ("  of which yes/no leading with the answer", sum(r.leads for r in yes_no), yes_no),
        ("ledger-sounding document questions, fact", sum(r.has_fact for r in ledger), ledger),
        ("near-miss questions answered 'not found'", sum(r.not_found for r in near), near),
    ]
    for label, hits, of in figures:
        print(f"{label + ':':<46}{share(hits, len(of))}")
    data_answers = sum(r.data_answer for r in documents + near)
    print(f"{'document questions answered by a data query:':<46}{data_answers}")
    print(
        f"data questions answered from the ledger:    "
        f"{share(sum(r.skill != 'knowledge' for r in data), len(data))}"
        f" ({sum('From your documents' in r.message for r in data)} with a documents part)"
    )
    skills: dict[str, int] = {}
    for r in results:
        skills[r.skill] = skills.get(r.skill, 0) + 1
    print(f"skills: {dict(sorted(skills.items()))}")
    times = [r.ms for r in results]
    print(
        f"turn latency: median {statistics.median(times):.0f} ms, p95 {p(times, 95):.0f} ms, "
        f"n={len(times)}"
    )
    if show:
        for r in results:
            ok = {
                "factual": r.has_fact and (r.leads or not r.question.get("answer")),
                "near_miss": r.not_found,
                "ledger_like": r.has_fact and not r.data_answer,
                "data": r.skill != "knowledge" and "From your documents" not in r.message,
            }[r.group]
            if ok and show != "all":
                continue
            first = r.message.replace("\n", " | ")[:400]
            print(f"\n[{r.group}] {'ok  ' if ok else 'MISS'} {r.question['q']}")
            print(f"  expect {r.question.get('expect')} {r.question.get('answer') or ''}")
            print(f"  {r.skill}/{r.intent}: {first}")


def demo_sets() -> None:
    """The extractive answer on the shipped demo sets: answerable found, unanswerable refused."""
    import tempfile

    from rag_eval import build_retriever

    from companion.cli.evaluation import demo_chunks
    from companion.knowledge.answers import extractive_answer
    from companion.knowledge.evaluation import DEMO_COMPANY_IDS, HELDOUT_SET, load_set

    with tempfile.TemporaryDirectory() as tmp:
        retriever = build_retriever("local", Path(tmp))
        retriever.index(demo_chunks(with_help=True))
        for name, labelled in (("demo", load_set()), ("held-out", load_set(shipped=HELDOUT_SET))):
            found = {}
            for kind, questions in (
                ("answerable", labelled.answerable),
                ("unanswerable", labelled.unanswerable),
            ):
                found[kind] = sum(
                    extractive_answer(
                        q.text,
                        retriever.retrieve(
                            q.text, company_id=DEMO_COMPANY_IDS[q.company], roles=()
                        ),
                    ).found
                    for q in questions
                )
            print(
                f"{name} set: answerable answered {found['answerable']}/"
                f"{len(labelled.answerable)}, unanswerable answered {found['unanswerable']}/"
                f"{len(labelled.unanswerable)}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/knowledge/docs-eval"))
    parser.add_argument("--show", nargs="?", const="misses", default=None, help="misses|all")
    parser.add_argument(
        "--demo-sets", action="store_true", help="also the demo sets' extractive answers"
    )
    args = parser.parse_args()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"load before: {uptime}")
    results = run(prepare(args.work))
    report(results, args.show)
    if args.demo_sets:
        demo_sets()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"load after: {uptime}")


if __name__ == "__main__":
    main()
