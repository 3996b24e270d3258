"""Ad-hoc answers in process on the demo: p50/p95 of ``Assistant.turn`` for analytics questions.

    COMPANION_DATABASE_URL=sqlite:////tmp/demo/c.db .venv/bin/python bench/analytics_bench.py \
        --nlu /tmp/demo/nlu --rounds 5

The demo must have been built (``companion demo --no-serve --months 3 --scale 0.2``, today
2026-03-15). Each question is asked in a fresh conversation; answers are rolled back.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from companion.assistant.nlu import NLU
from companion.assistant.schemas import ChatRequest
from companion.assistant.service import Assistant
from companion.assistant.understanding import CompanyNLU
from companion.auth.service import context_for_user
from companion.kit.clock import FixedClock
from companion.kit.db import make_engine

QUESTIONS = [
    "sales by customer last month",
    "sales by item in January 2026",
    "top 5 suppliers by payments this year",
    "average invoice value by month in 2026",
    "compare sales this month with last month",
    "expenses by account this year",
    "stock value by warehouse",
    "open receivables by customer",
    "quantity sold by item from 16 December 2025 to 15 March 2026",
    "gross margin by month from 16 December 2025 to 15 March 2026",
    "sales by city",
    "receipts by customer in February 2026",
]

# The baseline on the same machine and load: fixed data queries through the same turn.
FIXED = ["sales last month", "top customers", "cash balance", "stock levels", "ar aging"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nlu", type=Path, required=True, help="the demo's NLU cache folder")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fixed", action="store_true", help="time fixed queries instead")
    args = parser.parse_args()
    engine = make_engine(os.environ["COMPANION_DATABASE_URL"])
    factory = sessionmaker(bind=engine)
    clock = FixedClock(dt.datetime(2026, 3, 15, 10, 0, tzinfo=dt.UTC))
    assistant = Assistant(CompanyNLU(NLU.load(cache_dir=args.nlu)), clock)
    timings: list[float] = []
    skills: dict[str, int] = {}
    questions = FIXED if args.fixed else QUESTIONS
    for round_no in range(args.rounds + 1):
        for question in questions:
            with factory() as session:
                ctx = context_for_user(session, "finance", "acme")
                started = time.perf_counter()
                reply = assistant.turn(session, ctx, ChatRequest(message=question))
                elapsed = (time.perf_counter() - started) * 1000
                session.rollback()
            if round_no:  # the first round warms the caches (master data, NLU)
                timings.append(elapsed)
                skills[reply.skill] = skills.get(reply.skill, 0) + 1
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(
        f"{len(timings)} ad-hoc turns on {engine.dialect.name}: "
        f"p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms; "
        f"skills {skills}"
    )


if __name__ == "__main__":
    main()
