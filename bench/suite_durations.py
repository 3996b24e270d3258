"""Where `make test`'s time goes, per test file, and the order the files are run in.

    .venv/bin/pytest -n 2 --dist loadfile --junitxml=/tmp/junit.xml
    .venv/bin/python bench/suite_durations.py /tmp/junit.xml [--top 40]

Reads a JUnit XML report (pytest's ``time`` per test is setup + call + teardown, so a session
fixture's setup or teardown lands on the test that first or last used it), sums it per file,
prints the slowest files and simulates how two xdist workers share them under ``--dist
loadfile``: in xdist's default order (files with the most tests first, ``--loadscope-reorder``)
and longest first (what ``--no-loadscope-reorder`` with a sorted collection would give). Each
worker takes the next file when it finishes one, which is close to what xdist does.
"""

from __future__ import annotations

import argparse
import heapq
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path


def per_file(report: Path) -> tuple[dict[str, float], dict[str, int]]:
    seconds: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for case in ET.parse(report).getroot().iter("testcase"):
        # classname is the dotted module path plus any class: tests.e2e.chat.test_x[.Class]
        parts = case.get("classname", "").split(".")
        while parts and not parts[-1].startswith("test_"):
            parts.pop()
        if not parts:
            continue
        name = "/".join(parts) + ".py"
        seconds[name] += float(case.get("time", "0") or 0)
        counts[name] += 1
    return dict(seconds), dict(counts)


def makespan(order: list[str], seconds: dict[str, float], workers: int) -> float:
    """Each worker takes the next file in ``order`` when it is free; the last one to finish."""
    free = [0.0] * workers
    heapq.heapify(free)
    for name in order:
        heapq.heappush(free, heapq.heappop(free) + seconds[name])
    return max(free)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("report", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    seconds, counts = per_file(args.report)
    total = sum(seconds.values())
    print(f"{len(seconds)} files, {sum(counts.values())} tests, {total:,.0f} s of test time in all")
    print("\n| s | share | tests | file |\n|---|---|---|---|")
    for name in sorted(seconds, key=seconds.__getitem__, reverse=True)[: args.top]:
        print(f"| {seconds[name]:,.1f} | {seconds[name] / total:.1%} | {counts[name]} | `{name}` |")

    by_count = sorted(seconds, key=lambda n: -counts[n])  # xdist's --loadscope-reorder
    longest = sorted(seconds, key=lambda n: -seconds[n])
    ideal = total / args.workers
    print(f"\nsimulated {args.workers} workers: ideal {ideal:,.0f} s")
    orders = (("most tests first (xdist default)", by_count), ("longest first", longest))
    for label, order in orders:
        print(f"  {label}: {makespan(order, seconds, args.workers):,.0f} s")


if __name__ == "__main__":
    main()
