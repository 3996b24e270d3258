"""``NLU.parse`` latency on both held-out sets against the demo's master data.

    COMPANION_DATABASE_URL=sqlite:////tmp/nlu/d/c.db COMPANION_DATA_DIR=/tmp/nlu/d \
    COMPANION_TODAY=2026-11-20 .venv/bin/python bench/nlu_parse.py [--rounds 3]

Each message is parsed as its labelled user in its company (that company's master data and
fiscal calendar, as ``companion eval`` does); one warm-up pass, then ``--rounds`` timed
passes over both sets. Prints p50 / p95 / max per set and overall, wall clock and the
process's CPU time per parse (less sensitive to a loaded machine), with ``uptime``'s load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

from common import p as percentile  # noqa: E402

from companion.assistant.evaluation import load_eval_set  # noqa: E402
from companion.assistant.understanding import CompanyNLU  # noqa: E402
from companion.auth.service import context_for_user  # noqa: E402
from companion.bootstrap import bootstrap  # noqa: E402
from companion.config import Settings  # noqa: E402
from companion.errors import CompanionError  # noqa: E402
from companion.kit.db import session_scope  # noqa: E402

EVAL = Path(__file__).resolve().parents[1] / "src" / "companion" / "assistant" / "nlu" / "eval"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    container = bootstrap(Settings())
    company_nlu = container.assistant().nlu
    assert isinstance(company_nlu, CompanyNLU)
    nlu = company_nlu.nlu
    today = container.clock.today()
    sets: dict[str, list[tuple[str, int, object]]] = {}
    with session_scope(container.session_factory) as session:
        cache: dict[tuple[str | None, str | None], tuple[int, object]] = {}
        for name in ("heldout.yml", "heldout_mixed.yml"):
            rows = []
            for ex in load_eval_set(EVAL / name):
                key = (ex.company, ex.user)
                if key not in cache:
                    try:
                        ctx = context_for_user(session, ex.user or "", ex.company)
                        cache[key] = (ctx.fiscal_year_start_month, company_nlu.master(session, ctx))
                    except CompanionError:
                        cache[key] = (1, None)
                fy, master = cache[key]
                rows.append((ex.text, fy, master))
            sets[name] = rows
    timings: dict[str, list[float]] = {name: [] for name in sets}
    cpu: dict[str, list[float]] = {name: [] for name in sets}
    for round_no in range(args.rounds + 1):
        for name, rows in sets.items():
            for text, fy, master in rows:
                started, started_cpu = time.perf_counter(), time.process_time()
                nlu.parse(text, today=today, fiscal_year_start_month=fy, master=master)  # type: ignore[arg-type]
                if round_no:  # round 0 is the warm-up
                    timings[name].append((time.perf_counter() - started) * 1000)
                    cpu[name].append((time.process_time() - started_cpu) * 1000)
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    for label, table in (("wall", timings), ("cpu", cpu)):
        everything = [t for values in table.values() for t in values]
        for name, values in [*table.items(), ("both", everything)]:
            print(
                f"{label:4} {name:18} n={len(values):5}  p50 {percentile(values, 50):6.1f} ms  "
                f"p95 {percentile(values, 95):6.1f} ms  max {max(values):6.1f} ms"
            )
    print(f"uptime: {load}")
    container.engine.dispose()


if __name__ == "__main__":
    main()
