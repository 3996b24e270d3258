"""Shared helpers for the benchmarks: a demo database, timing and percentiles."""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from companion.auth.passwords import PasswordHasher
from companion.demo.service import build_demo
from companion.kit import migrate
from companion.kit.db import make_engine, session_scope

DEMO_TODAY = dt.date(2026, 3, 15)

# One question per data intent, phrased as a user would.
QUESTIONS = [
    "what's our cash balance?",
    "show me the receivables aging",
    "what do we owe our suppliers by age",
    "cash flow this month",
    "list purchase orders awaiting approval",
    "what's waiting for my approval?",
    "stock levels in all warehouses",
    "which items are below reorder level?",
    "give me the dashboard summary",
    "sales last month",
    "which invoices are overdue?",
    "top 5 customers this year",
    "list our customers",
    "profit and loss for last quarter",
    "what is our inventory worth?",
]


def demo_database(url: str | None, *, months: int = 13, scale: float = 1.0) -> str:
    """``url`` as given, or a fresh full demo in a temporary SQLite file."""
    if url:
        return url
    path = Path(tempfile.mkdtemp(prefix="companion-bench-")) / "demo.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    with session_scope(sessionmaker(bind=engine)) as session:
        build_demo(session, PasswordHasher(), today=DEMO_TODAY, months=months, scale=scale)
    print(f"built the demo in {time.perf_counter() - started:.1f} s at {path}")
    engine.dispose()
    return url


def timed(fn: Callable[[], object], runs: int, warmup: int = 3) -> list[float]:
    """Milliseconds per call, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p(samples: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def summary(name: str, samples: list[float]) -> str:
    return (
        f"{name:<34} median {statistics.median(samples):8.2f} ms   "
        f"p95 {p(samples, 95):8.2f} ms   n={len(samples)}"
    )
