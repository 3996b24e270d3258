"""A soak: the mixed load at a steady rate for a long time, the server's resources sampled.

    .venv/bin/python bench/soak.py --rate 20 --duration 1800 \\
        --csv docs/perf/soak_rss.csv --plot docs/perf/soak_rss.svg

Against ``companion serve`` on PostgreSQL (a demo database of its own, as in
``mixed_load.py``), sends ``bench/mixed_load.py``'s mix open-loop at ``--rate`` requests a
second for ``--duration`` seconds and samples every ``--interval`` seconds the server's RSS
(the serving process and every process under it, from /proc: psutil is not a dependency),
its open files (/proc/PID/fd) and its PostgreSQL connections (pg_stat_activity for the
database). Verdict, after ``--warmup`` seconds (excluded): no errors; RSS growth below 10%
(the median of the last window against the median of the first window after warm-up); open
files and connections at the end no more than at the start (``FD_SLACK`` / ``CONN_SLACK``
spare). The plot is an SVG written with the standard library (matplotlib is not installed).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

sys.path.insert(0, os.path.dirname(__file__))

from mixed_load import (  # noqa: E402
    Mix,
    Recorder,
    add_server_arguments,
    demo_database,
    format_summary,
    open_loop,
    serve,
    warm_up,
)

RSS_GROWTH_LIMIT = 0.10
FD_SLACK = 4
CONN_SLACK = 2
COLUMNS = [
    "t_s",
    "rss_mb",
    "processes",
    "open_files",
    "pg_connections",
    "requests",
    "errors",
    "shed",
]


@dataclass
class Sample:
    t_s: float
    rss_mb: float
    processes: int
    open_files: int
    pg_connections: int
    requests: int
    errors: int
    shed: int

    def row(self) -> list[object]:
        return [
            round(self.t_s, 1),
            round(self.rss_mb, 1),
            self.processes,
            self.open_files,
            self.pg_connections,
            self.requests,
            self.errors,
            self.shed,
        ]


@dataclass
class Verdict:
    errors: int
    requests: int
    shed: int
    rss_start_mb: float
    rss_end_mb: float
    files_start: int
    files_end: float
    conns_start: int
    conns_end: float
    failures: list[str] = field(default_factory=list)

    @property
    def rss_growth(self) -> float:
        return self.rss_end_mb / self.rss_start_mb - 1

    def text(self) -> str:
        return (
            f"requests {self.requests}, errors {self.errors}, shed {self.shed};"
            f" RSS {self.rss_start_mb:.0f} ->"
            f" {self.rss_end_mb:.0f} MB ({self.rss_growth:+.1%}); open files {self.files_start}"
            f" -> {self.files_end:.0f}; PostgreSQL connections {self.conns_start} ->"
            f" {self.conns_end:.0f}; "
            + ("PASS" if not self.failures else "FAIL: " + "; ".join(self.failures))
        )


def tree(root: int) -> list[int]:
    """``root`` and every process under it (uvicorn's workers, their helpers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def rss_and_files(root: int) -> tuple[float, int, int]:
    """(RSS in MB summed over the tree, processes, open file descriptors summed)."""
    rss_kb, processes, files = 0, 0, 0
    for pid in tree(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss_kb += int(line.split()[1])
            files += len(os.listdir(f"/proc/{pid}/fd"))
            processes += 1
        except OSError:  # the process ended between the listing and the read
            continue
    return rss_kb / 1024, processes, files


class Connections:
    """The database's backends in pg_stat_activity, this probe's own excluded."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, poolclass=NullPool)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar_one()
            )

    def close(self) -> None:
        self.engine.dispose()


def soak(
    mix: Mix,
    server_pid: int,
    url: str,
    *,
    rate: float,
    duration_s: float,
    interval_s: float = 10,
    max_in_flight: int = 32,
    on_sample: Callable[[Sample], None] | None = None,
) -> tuple[list[Sample], Recorder, float]:
    """Run the open-loop mix for ``duration_s``, sampling the server every ``interval_s``."""
    recorder = Recorder()
    elapsed: list[float] = []
    load = threading.Thread(
        target=lambda: elapsed.append(
            open_loop(mix, recorder, rate, duration_s, max_in_flight=max_in_flight)
        )
    )
    connections = Connections(url)
    samples: list[Sample] = []
    started = time.monotonic()
    load.start()
    try:
        while True:
            rss, processes, files = rss_and_files(server_pid)
            outcomes = recorder.since(0)
            sample = Sample(
                time.monotonic() - started,
                rss,
                processes,
                files,
                connections.count(),
                len(outcomes),
                sum(1 for o in outcomes if o.error),
                recorder.shed,
            )
            samples.append(sample)
            if on_sample is not None:
                on_sample(sample)
            if not load.is_alive():
                break
            load.join(timeout=max(0.0, started + len(samples) * interval_s - time.monotonic()))
    finally:
        load.join()
        connections.close()
    return samples, recorder, elapsed[0]


def verdict(samples: list[Sample], recorder: Recorder, warmup_s: float) -> Verdict:
    """The soak's checks over the samples after ``warmup_s``."""
    after = [s for s in samples if s.t_s >= warmup_s]
    if len(after) < 3:
        raise ValueError(f"{len(after)} samples after warm-up: run longer or sample more often")
    span = after[-1].t_s - after[0].t_s
    window = min(60.0, span / 3)
    first = [s for s in after if s.t_s <= after[0].t_s + window]
    last = [s for s in after if s.t_s >= after[-1].t_s - window]
    outcomes = recorder.since(0)
    v = Verdict(
        errors=sum(1 for o in outcomes if o.error),
        requests=len(outcomes),
        shed=recorder.shed,
        rss_start_mb=statistics.median(s.rss_mb for s in first),
        rss_end_mb=statistics.median(s.rss_mb for s in last),
        files_start=max(s.open_files for s in first),
        files_end=statistics.median(s.open_files for s in last),
        conns_start=max(s.pg_connections for s in first),
        conns_end=statistics.median(s.pg_connections for s in last),
    )
    if v.errors:
        v.failures.append(f"{v.errors} errors")
    if v.shed:
        v.failures.append(f"{v.shed} requests shed: the server did not keep up with the rate")
    if v.rss_growth >= RSS_GROWTH_LIMIT:
        v.failures.append(f"RSS grew {v.rss_growth:.1%} (limit {RSS_GROWTH_LIMIT:.0%})")
    if v.files_end > v.files_start + FD_SLACK:
        v.failures.append(f"open files grew {v.files_start} -> {v.files_end:.0f}")
    if v.conns_end > v.conns_start + CONN_SLACK:
        v.failures.append(f"connections grew {v.conns_start} -> {v.conns_end:.0f}")
    return v


def write_csv(samples: list[Sample], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for s in samples:
            writer.writerow(s.row())


def write_svg(samples: list[Sample], path: Path, title: str, warmup_s: float) -> None:
    """RSS over time as a small SVG line chart (no plotting library needed)."""
    width, height, left, bottom, top, right = 720, 360, 70, 40, 40, 20
    t_max = max(s.t_s for s in samples) or 1.0
    top_mb = max(s.rss_mb for s in samples) * 1.1

    def x(t: float) -> float:
        return left + (width - left - right) * t / t_max

    def y(mb: float) -> float:
        return height - bottom - (height - bottom - top) * mb / top_mb

    points = " ".join(f"{x(s.t_s):.1f},{y(s.rss_mb):.1f}" for s in samples)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        ' font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle">{title}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}"'
        ' stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
        f'<rect x="{left}" y="{top}" width="{x(min(warmup_s, t_max)) - left:.1f}"'
        f' height="{height - bottom - top}" fill="#eee"/>',
    ]
    for i in range(6):
        mb = top_mb * i / 5
        t = t_max * i / 5
        parts += [
            f'<text x="{left - 6}" y="{y(mb) + 4:.1f}" text-anchor="end">{mb:.0f}</text>',
            f'<text x="{x(t):.1f}" y="{height - bottom + 16}" text-anchor="middle">{t:.0f}</text>',
        ]
    parts += [
        f'<text x="{width / 2}" y="{height - 6}" text-anchor="middle">seconds'
        " (grey: warm-up, excluded)</text>",
        f'<text x="16" y="{height / 2}" transform="rotate(-90 16 {height / 2})"'
        ' text-anchor="middle">RSS, MB (all server processes)</text>',
        f'<polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="2"/>',
        "</svg>",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_server_arguments(parser)
    parser.set_defaults(backend="postgresql")
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--duration", type=float, default=1800)
    parser.add_argument("--interval", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=120, help="seconds excluded")
    parser.add_argument("--csv", type=Path, default=Path("/tmp/helperF/soak.csv"))
    parser.add_argument("--plot", type=Path, help="an SVG of RSS over time")
    args = parser.parse_args(argv)
    if args.backend != "postgresql":
        parser.error("the soak runs on PostgreSQL (it counts pg_stat_activity)")
    args.workdir.mkdir(parents=True, exist_ok=True)
    with (
        demo_database(
            "postgresql",
            args.workdir,
            url=args.database_url,
            template=args.pg_template,
            months=args.months,
            scale=args.scale,
        ) as url,
        serve(url, args.workdir, workers=args.workers) as (base, server),
    ):
        mix = Mix(base)
        warm_up(mix)
        print(f"load {os.getloadavg()}; soak: {args.rate}/s for {args.duration:.0f} s", flush=True)

        def show(s: Sample) -> None:
            print(
                f"{s.t_s:7.0f} s  RSS {s.rss_mb:7.1f} MB ({s.processes} proc)  files"
                f" {s.open_files:4d}  pg {s.pg_connections:3d}  requests {s.requests:6d}"
                f"  errors {s.errors}  shed {s.shed}  load {os.getloadavg()[0]:.1f}",
                flush=True,
            )

        samples, recorder, elapsed = soak(
            mix,
            server.pid,
            url,
            rate=args.rate,
            duration_s=args.duration,
            interval_s=args.interval,
            on_sample=show,
        )
    write_csv(samples, args.csv)
    result = verdict(samples, recorder, args.warmup)
    print(format_summary(recorder.summary(elapsed)))
    for sample in recorder.error_samples():
        print(f"  error {sample}")
    print(result.text())
    if args.plot:
        title = f"companion serve on PostgreSQL, mixed load at {args.rate:g} req/s"
        write_svg(samples, args.plot, title, args.warmup)
    print(f"load at the end {os.getloadavg()}")
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
