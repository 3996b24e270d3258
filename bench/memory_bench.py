"""What memory adds to a chat turn: the turn context, remembering (dedup) and a purge.

    .venv/bin/python bench/memory_bench.py [--runs 50] [--memories 50]

A temporary SQLite database, one company and user, the shipped MiniLM embedder (onnx).
Baseline: the turn context of a user with no memories (what every turn pays: company,
pending items, an empty memory read). Measured in the same run: the context with
``--memories`` memories (the message is embedded and the memories ranked), resolving "my
usual warehouse" from memory, remembering one more (redaction, embedding, dedup against all
of them, insert, audit) and a purge of the user's memories. Each sample runs in a
transaction that is rolled back, so every run sees the same data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

from common import p, summary, timed  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import companion.assistant.memory.stores  # noqa: E402, F401
from companion.assistant import context as turn_context  # noqa: E402
from companion.assistant.memory import recall  # noqa: E402
from companion.governance.memory import purge as purging  # noqa: E402
from companion.governance.memory import service as memories  # noqa: E402
from companion.kit import migrate  # noqa: E402
from companion.kit.db import make_engine  # noqa: E402
from companion.llm.embeddings import load_embedder  # noqa: E402
from factories import make_company, make_context  # noqa: E402

NOW = dt.datetime(2026, 3, 15, 10, tzinfo=dt.UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--memories", type=int, default=50)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="memory-bench-")
    engine = make_engine(f"sqlite:///{folder}/bench.db")
    migrate.upgrade(engine)
    embedder = load_embedder("onnx")
    with Session(engine) as session:
        company = make_company(session, "acme", "BDT")
        empty = make_context(session, company, ["sales"], username="empty")
        full = make_context(session, company, ["sales"], username="full")
        for n in range(args.memories):
            memories.remember(
                session,
                full,
                f"customer number {n} prefers delivery on day {n % 28 + 1}",
                now=NOW,
                kind="preference",
                embedder=embedder,
            )
        memories.remember(
            session,
            full,
            "my usual warehouse is Dhaka Central",
            now=NOW,
            kind="preference",
            entities={"warehouse": {"id": 1, "name": "Dhaka Central"}},
            embedder=embedder,
        )
        session.commit()

    def in_rollback(work: Callable[[Session], object]) -> Callable[[], object]:
        def run() -> object:
            with engine.connect() as conn:
                trans = conn.begin()
                with Session(bind=conn, join_transaction_mode="create_savepoint") as s:
                    result = work(s)
                trans.rollback()
            return result

        return run

    def context_of(ctx):  # type: ignore[no-untyped-def]
        return lambda s: turn_context.build(
            s,
            ctx,
            text="when does customer 7 want deliveries?",
            now=NOW,
            embedder=lambda: embedder,
        )

    results = {
        "context, no memories (baseline)": timed(in_rollback(context_of(empty)), args.runs),
        f"context, {args.memories + 1} memories": timed(in_rollback(context_of(full)), args.runs),
        "resolve 'my usual warehouse'": timed(
            in_rollback(lambda s: recall.resolve(s, full, "stock in my usual warehouse", {}, NOW)),
            args.runs,
        ),
        f"remember 1 (dedup vs {args.memories + 1})": timed(
            in_rollback(
                lambda s: memories.remember(
                    s,
                    full,
                    "customer 7 now prefers Saturday deliveries",
                    now=NOW,
                    kind="preference",
                    embedder=embedder,
                )
            ),
            args.runs,
        ),
        f"purge a user's {args.memories + 1} memories": timed(
            in_rollback(
                lambda s: purging.purge(
                    s, full, purging.PurgeRequest(user_id=full.user_id), now=NOW
                )
            ),
            max(5, args.runs // 5),
        ),
    }
    base = statistics.median(results["context, no memories (baseline)"])
    print(f"SQLite, MiniLM int8 (onnx), {os.cpu_count()} CPUs, machine shared with other work")
    for name, samples in results.items():
        print(
            summary(name, samples)
            + f"   x{statistics.median(samples) / base:5.2f} of baseline median"
            + f"   (p95 {p(samples, 95) / p(results['context, no memories (baseline)'], 95):.2f}x)"
        )


if __name__ == "__main__":
    main()
