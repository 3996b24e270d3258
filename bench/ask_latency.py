"""In-process ``ask`` latency on the demo, with its parts measured in the same run.

    .venv/bin/python bench/ask_latency.py [--database-url URL] [--runs 300]

Reports median and p95 of: a full chat turn (understand + query + record + commit), with
its mean CPU time (the process's, every thread), the embedding of the question alone, and
the raw ONNX forward pass of the embedding model on a pre-tokenised input (the floor the
embedding step is compared with).
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

from common import DEMO_TODAY, QUESTIONS, demo_database, summary, timed  # noqa: E402

from companion.assistant.schemas import ChatRequest  # noqa: E402
from companion.auth.service import context_for_user  # noqa: E402
from companion.bootstrap import bootstrap  # noqa: E402
from companion.config import RateLimitSettings, Settings  # noqa: E402
from companion.kit.db import session_scope  # noqa: E402
from companion.llm.embeddings import load_embedder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    url = demo_database(args.database_url)
    # One user asks every question: the chat rate limit (30 a minute) would refuse most.
    off = RateLimitSettings(enabled=False)
    settings = Settings(database_url=url, demo_mode=True, today=DEMO_TODAY, rate_limits=off)
    container = bootstrap(settings)
    assistant = container.assistant()
    questions = itertools.cycle(QUESTIONS)
    skills: collections.Counter[str] = collections.Counter()

    def turn() -> None:
        with session_scope(container.session_factory) as session:
            ctx = context_for_user(session, "ceo", "acme")
            response = assistant.turn(session, ctx, ChatRequest(message=next(questions)))
            skills[response.skill] += 1  # timed whatever answers (a refusal too), and counted

    embedder = load_embedder()
    texts = itertools.cycle(QUESTIONS)

    def embed() -> None:
        embedder.embed([next(texts)])

    session = embedder._session  # type: ignore[attr-defined]
    tokenizer = embedder._tokenizer  # type: ignore[attr-defined]
    encoding = tokenizer.encode_batch([QUESTIONS[0]])[0]
    feeds = {
        "input_ids": np.array([encoding.ids], dtype=np.int64),
        "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
    }
    if "token_type_ids" in {i.name for i in session.get_inputs()}:
        feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])

    def forward() -> None:
        session.run(None, feeds)

    cpu_started = time.process_time()
    turns = timed(turn, args.runs)
    cpu_ms = (time.process_time() - cpu_started) / (args.runs + 3) * 1000  # with the warm-up
    embeds = timed(embed, args.runs)
    forwards = timed(forward, args.runs)
    print(summary("chat turn (in-process ask)", turns))
    print(f"{'  CPU per turn (process, all threads)':<34} {cpu_ms:8.2f} ms")
    print(f"  answered by: {dict(skills.most_common())}")
    print(summary("embedding step (tokenise+model)", embeds))
    print(summary("raw model forward pass", forwards))
    print(
        f"embedding step / raw forward (median): "
        f"{statistics.median(embeds) / statistics.median(forwards):.2f}x; "
        f"turn / embedding step: {statistics.median(turns) / statistics.median(embeds):.2f}x"
    )
    container.engine.dispose()


if __name__ == "__main__":
    main()
