"""CPU of whole assistant turns at a million invoices: this process and its PostgreSQL backend.

    .venv/bin/python bench/scale_turn_cpu.py --database scale_bulk \
        --only cash_balance,ar_aging [--runs 9]

Asks the questions of ``bench/scale_latency.py`` (user ``ceo`` of the company ``bulk``, one
warm-up turn, each turn rolled back) and prints, per question, the wall time (p50, max) and
the CPU a turn used: this process (``time.process_time``) plus the PostgreSQL backend that
served it (``/proc/PID/stat``, 10 ms ticks summed over the runs). On a shared 2-core machine
at load 15 wall time is mostly waiting for a core; a turn is single-threaded and its data
cached, so its CPU is close to what it takes on an idle machine (cash_balance: 41-56 ms of CPU
here, 30-50 ms wall on the quiet machine of docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from scale_latency import PG, TODAY, questions
from sqlalchemy import select, text
from sqlalchemy.orm import sessionmaker

from companion.assistant.schemas import ChatRequest
from companion.auth.service import context_for_user
from companion.bootstrap import bootstrap
from companion.config import Settings
from companion.tenancy.models import Company


def ticks(pid: int) -> int:
    """User + system CPU of a process, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="scale_bulk")
    parser.add_argument("--company", default="bulk")
    parser.add_argument("--user", default="ceo")
    parser.add_argument("--only", required=True, help="comma-separated labels")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/scale/data"))
    args = parser.parse_args()
    settings = Settings(
        database_url=PG + args.database,
        demo_mode=True,
        today=TODAY,
        data_dir=args.data_dir,
        rate_limits={"chat_per_user": "1000000 per minute"},
    )
    container = bootstrap(settings)
    factory = sessionmaker(bind=container.engine)
    assistant = container.assistant()
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    with factory() as session:
        company_id = session.execute(
            select(Company.id).where(Company.slug == args.company)
        ).scalar_one()
        asked = questions(session, company_id)
    for label in args.only.split(","):
        question, _ = asked[label]
        wall: list[float] = []
        client = 0.0
        server = 0
        for run in range(args.runs + 1):
            with factory() as session:
                ctx = context_for_user(session, args.user, args.company)
                pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
                started, cpu, backend = time.perf_counter(), time.process_time(), ticks(pid)
                assistant.turn(session, ctx, ChatRequest(message=question))
                elapsed = (time.perf_counter() - started) * 1000
                used, used_backend = time.process_time() - cpu, ticks(pid) - backend
                session.rollback()
            if run:
                wall.append(elapsed)
                client += used * 1000
                server += used_backend
        mine, db = client / args.runs, server * tick_ms / args.runs
        print(
            f"{label:28} wall p50 {statistics.median(wall):7.1f} max {max(wall):7.1f} ms"
            f" | CPU {mine:6.1f} here + {db:6.1f} PostgreSQL = {mine + db:6.1f} ms a turn"
        )
    print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    container.engine.dispose()


if __name__ == "__main__":
    main()
