"""The e2e ``tenants`` fixture's set-up: written per test (before) or loaded (after).

Before: ``build_tenants`` writes the two companies, 18 users, their memberships and the
audited writes into the test's rolled-back transaction, for every test that asks. After:
they are committed once in the e2e template database and ``load_tenants`` reads them.
Both run interleaved in one process, each in a transaction that is rolled back, on SQLite
and PostgreSQL (``COMPANION_TEST_PG_URL``), so the machine's load weighs on both alike.

    .venv/bin/python bench/tenants_fixture.py [--runs 40] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "e2e"), str(Path(__file__).parent)]

from common import p  # noqa: E402
from e2e_support import (  # noqa: E402
    Tenants,
    build_tenants,
    load_tenants,
    make_settings,
    tenants_database,
)
from sqlalchemy.engine import Engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from companion.kit import migrate  # noqa: E402
from companion.kit.clock import FixedClock  # noqa: E402
from companion.kit.db import make_engine  # noqa: E402
from dbutil import create_pg_database, drop_pg_database  # noqa: E402


def in_rolled_back_session(engine: Engine, work: Callable[[Session], Tenants | None]) -> float:
    """Milliseconds ``work`` takes in a session that joins a rolled-back transaction."""
    with engine.connect() as conn:
        trans = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        started = time.perf_counter()
        tenants = work(session)
        elapsed = (time.perf_counter() - started) * 1000
        assert tenants is not None and len(tenants.users) == 18
        session.close()
        trans.rollback()
    return elapsed


def measure(backend: str, runs: int) -> None:
    made: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="companion-bench-tenants-"))
    urls = {}
    for role in ("empty", "template"):
        if backend == "sqlite":
            urls[role] = f"sqlite:///{folder / f'{role}.db'}"
        else:
            name, urls[role] = create_pg_database()
            made.append(name)
    try:
        empty = make_engine(urls["empty"])
        migrate.upgrade(empty)
        tenants_database(urls["template"])
        template = make_engine(urls["template"])
        settings = make_settings(urls["empty"])
        clock = FixedClock(dt.datetime.now(dt.UTC).replace(microsecond=0))
        before: list[float] = []
        after: list[float] = []
        for i in range(runs + 3):  # 3 warm-up rounds of each
            b = in_rolled_back_session(empty, lambda s: build_tenants(s, settings, clock))
            a = in_rolled_back_session(template, lambda s: load_tenants(s, settings, clock))
            if i >= 3:
                before.append(b)
                after.append(a)
        for label, samples in (("build_tenants (before)", before), ("load_tenants (after)", after)):
            print(
                f"{backend:<10} {label:<24} median {statistics.median(samples):8.1f} ms"
                f"   p95 {p(samples, 95):8.1f} ms   n={len(samples)}"
            )
        empty.dispose()
        template.dispose()
    finally:
        for name in made:
            drop_pg_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} at the start")
    for backend in args.backends.split(","):
        measure(backend.strip(), args.runs)
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} at the end")


if __name__ == "__main__":
    main()
