"""A mixed chat workload over HTTP against a real ``companion serve`` (issue 18 part 3).

    .venv/bin/python bench/mixed_load.py --backend postgresql --workers 2 --clients 8 --duration 60
    .venv/bin/python bench/mixed_load.py --backend sqlite --rate 20 --duration 60
    .venv/bin/python bench/mixed_load.py --database-url URL ...   # an existing demo, kept as is
    .venv/bin/python bench/mixed_load.py --pg-template DB --waits ...  # what PostgreSQL waits on
    .venv/bin/python bench/mixed_load.py --hot-items 1 ...  # every action on one stock level

Builds the full demo (``--months``/``--scale``) in a database of its own under ``--workdir``
(SQLite) or as ``bench_mixed_<pid>`` on the local PostgreSQL (copied from ``--pg-template``
when given; dropped at the end), starts ``companion serve --workers N`` on a free loopback
port and sends a fixed cycle of requests (``CYCLE``): data questions as ``finance``,
follow-ups in the same conversation ("and last month?"), a knowledge question, a stock
adjustment proposed and then confirmed with "yes" as ``storekeeper``, an SSE stream read to
its ``final`` event, and ``/healthz`` as the baseline. The server's per-user limits (chat
turns, proposals a minute) are switched off: two users send everything. The adjustments go
round-robin over ``--hot-items`` stock levels (item in a warehouse) of the storekeeper's
company (default 8, as a team counting stock would; ``--hot-items 1``: every action on the
same level, the figure before this option).

After the load it prints the CPU time the server's processes used (uvicorn's supervisor and
its workers, from /proc) per answered request, and the same for the bench's own process and
for the PostgreSQL backends of the run's database: on a machine this small, the ceiling.

``--clients N`` is a closed loop (N threads, each sends its next request when the last is
answered); ``--rate R`` an open loop (R requests a second on a fixed schedule, each timed from
when it was due, so a slow server shows as latency rather than as fewer requests). An error
is any non-2xx answer, a transport error, or a body that is not what the kind expects.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, os.path.dirname(__file__))

from common import DEMO_TODAY, p  # noqa: E402
from http_load import free_port  # noqa: E402

from companion.auth.passwords import PasswordHasher  # noqa: E402
from companion.demo.service import build_demo  # noqa: E402
from companion.kit import migrate  # noqa: E402
from companion.kit.db import make_engine, session_scope  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
CHAT = "/api/v1/ai/chat"
STREAM = "/api/v1/ai/chat/stream"
# One pass of the mix: 10 requests. A follow-up continues a conversation a data question
# opened (when none is waiting it is sent as a data question, and counted so); an action is
# two requests, a proposal and then "yes" to it in the same conversation.
CYCLE = ["healthz", "data", "followup", "data", "knowledge", "stream", "action", "data", "followup"]
REQUESTS = {"action": 2}
DATA_QUESTIONS = [
    ("sales this month", "and last month?"),
    ("what's our cash balance?", "and at the end of last month?"),
    ("top 5 customers this year", "and last year?"),
    ("show me the receivables aging", "only the overdue ones"),
    ("profit and loss for last quarter", "and the quarter before?"),
    ("stock levels in all warehouses", "and in Sylhet Depot?"),
    ("which invoices are overdue?", "and the ones due this month?"),
    ("cash flow this month", "and last month?"),
]
KNOWLEDGE = [
    "what is the travel policy?",
    "what is the hotel limit per night in Dhaka?",
    "how many days of annual leave do we get?",
]
ADJUSTMENT = "add 1 Ceiling Fan 56in to Sylhet Depot, found in count"
HOT_LEVEL = ("Ceiling Fan 56in", "Sylhet Depot")  # the one level of ``--hot-items 1``
STORE_COMPANY = "acme"  # the storekeeper's company in the demo


def adjustment(item: str, warehouse: str) -> str:
    """The storekeeper's request to add one ``item`` to ``warehouse``."""
    return f"add 1 {item} to {warehouse}, found in count"


def stock_levels(url: str, n: int) -> list[tuple[str, str]]:
    """Up to ``n`` (item, warehouse) stock levels of the storekeeper's company, the hot one first.

    Tracked items in active warehouses, in the order the demo made them; more than ``n`` are
    returned (up to 3n) so that ``warm_up`` can drop one the chat does not read as asked.
    """
    if n <= 1:
        return [HOT_LEVEL]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT i.name, w.name FROM stock_levels s"
                    " JOIN items i ON i.id = s.item_id JOIN warehouses w ON w.id = s.warehouse_id"
                    " JOIN companies c ON c.id = s.company_id"
                    " WHERE c.slug = :slug AND i.is_tracked AND w.is_active"
                    " ORDER BY s.id"
                ),
                {"slug": STORE_COMPANY},
            ).all()
    finally:
        engine.dispose()
    others = [(str(i), str(w)) for i, w in rows if (i, w) != HOT_LEVEL]
    return [HOT_LEVEL, *others][: 3 * n]


@dataclass
class Outcome:
    kind: str
    ms: float
    error: str | None = None


@dataclass
class Recorder:
    """Latencies and errors per kind (thread-safe)."""

    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Open loop: requests not sent because ``max_in_flight`` were still unanswered.
    shed: int = 0

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def since(self, start: int) -> list[Outcome]:
        with self.lock:
            return self.outcomes[start:]

    def summary(self, elapsed_s: float) -> dict[str, dict[str, float]]:
        """Per kind and ``all``: count, errors, p50/p95/max ms, req/s."""
        with self.lock:
            outcomes = list(self.outcomes)
        kinds = sorted({o.kind for o in outcomes})
        rows: dict[str, dict[str, float]] = {}
        for kind in [*kinds, "all"]:
            mine = [o for o in outcomes if kind in ("all", o.kind)]
            if not mine:
                continue
            ms = [o.ms for o in mine]
            rows[kind] = {
                "count": len(mine),
                "errors": sum(1 for o in mine if o.error),
                "p50": p(ms, 50),
                "p95": p(ms, 95),
                "max": max(ms),
                "rps": len(mine) / elapsed_s,
            }
        return rows

    def error_samples(self, n: int = 5) -> list[str]:
        with self.lock:
            return [f"{o.kind}: {o.error}" for o in self.outcomes if o.error][:n]


def format_summary(rows: dict[str, dict[str, float]]) -> str:
    lines = [
        f"{'kind':<10} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8}"
        f" {'max ms':>8} {'req/s':>7}"
    ]
    for kind, r in rows.items():
        lines.append(
            f"{kind:<10} {r['count']:>6.0f} {r['errors']:>6.0f} {r['p50']:>8.1f} {r['p95']:>8.1f}"
            f" {r['max']:>8.1f} {r['rps']:>7.1f}"
        )
    return "\n".join(lines)


class Mix:
    """The requests of the mix, their expected answers, and the conversations they continue."""

    def __init__(self, base: str, levels: list[tuple[str, str]] | None = None) -> None:
        self.base = base
        self.finance = login(base, "finance")
        self.storekeeper = login(base, "storekeeper")
        self.followups: queue.Queue[tuple[str, str]] = queue.Queue()
        self.turn = 0
        self.lock = threading.Lock()
        # The stock levels the adjustments go round over (``warm_up`` keeps the ones that work).
        self.adjustments = [adjustment(i, w) for i, w in levels] if levels else [ADJUSTMENT]
        self.action_turn = 0

    def next_adjustment(self) -> str:
        with self.lock:
            self.action_turn += 1
            return self.adjustments[(self.action_turn - 1) % len(self.adjustments)]

    def next_index(self) -> int:
        with self.lock:
            self.turn += 1
            return self.turn

    def send(self, client: httpx.Client, kind: str) -> list[Outcome]:
        """Send the request(s) of ``kind``; each outcome timed and checked."""
        if kind == "action":
            return self._action(client)
        n = self.next_index()
        started = time.perf_counter()
        try:
            done_kind, error = self._send(client, kind, n)
        except httpx.HTTPError as exc:
            done_kind, error = kind, f"{type(exc).__name__}: {exc}"
        return [Outcome(done_kind, (time.perf_counter() - started) * 1000, error)]

    def _send(self, client: httpx.Client, kind: str, n: int) -> tuple[str, str | None]:
        if kind == "healthz":
            r = client.get(f"{self.base}/healthz")
            return kind, None if r.status_code == 200 else f"{r.status_code} {r.text[:200]}"
        if kind == "followup":
            try:
                conv, message = self.followups.get_nowait()
            except queue.Empty:
                kind = "data"
            else:
                body = self._chat(client, self.finance, message, conv)
                return kind, body if isinstance(body, str) else _expect_data(body)
        if kind == "data":
            question, followup = DATA_QUESTIONS[n % len(DATA_QUESTIONS)]
            body = self._chat(client, self.finance, question)
            if isinstance(body, str):
                return kind, body
            error = _expect_data(body)
            if error is None:
                self.followups.put((body["conversation_id"], followup))
            return kind, error
        if kind == "knowledge":
            body = self._chat(client, self.finance, KNOWLEDGE[n % len(KNOWLEDGE)])
            if isinstance(body, str):
                return kind, body
            return kind, None if body.get("sources") else f"no sources: {_brief(body)}"
        if kind == "stream":
            question = DATA_QUESTIONS[n % len(DATA_QUESTIONS)][0]
            return kind, self._stream(client, question)
        raise ValueError(kind)

    def _action(self, client: httpx.Client, message: str | None = None) -> list[Outcome]:
        """A stock adjustment proposed, then confirmed with "yes" in the same conversation."""
        message = message or self.next_adjustment()
        started = time.perf_counter()
        try:
            body = self._chat(client, self.storekeeper, message)
        except httpx.HTTPError as exc:
            body = f"{type(exc).__name__}: {exc}"
        proposed = Outcome("propose", (time.perf_counter() - started) * 1000)
        if isinstance(body, str):
            proposed.error = body
        elif not body.get("pending_confirmation"):
            proposed.error = f"nothing proposed: {_brief(body)}"
        if proposed.error or isinstance(body, str):
            return [proposed]
        started = time.perf_counter()
        try:
            answer = self._chat(client, self.storekeeper, "yes", body["conversation_id"])
        except httpx.HTTPError as exc:
            answer = f"{type(exc).__name__}: {exc}"
        confirmed = Outcome("confirm", (time.perf_counter() - started) * 1000)
        if isinstance(answer, str):
            confirmed.error = answer
        elif answer.get("skill") != "action" or answer.get("pending_confirmation"):
            confirmed.error = f"not done: {_brief(answer)}"
        return [proposed, confirmed]

    def _chat(
        self, client: httpx.Client, headers: dict[str, str], message: str, conv: str | None = None
    ) -> dict[str, Any] | str:
        """The chat answer, or what was wrong with it."""
        payload: dict[str, Any] = {"message": message}
        if conv:
            payload["conversation_id"] = conv
        r = client.post(f"{self.base}{CHAT}", json=payload, headers=headers)
        if not 200 <= r.status_code < 300:
            return f"{r.status_code} {r.text[:200]}"
        body: dict[str, Any] = r.json()
        missing = {"conversation_id", "message", "intent", "skill"} - set(body)
        return f"missing {sorted(missing)}" if missing else body

    def _stream(self, client: httpx.Client, question: str) -> str | None:
        """Read the SSE answer to its ``final`` event; None when it came and holds an answer."""
        with client.stream(
            "POST", f"{self.base}{STREAM}", json={"message": question}, headers=self.finance
        ) as r:
            if r.status_code != 200:
                r.read()
                return f"{r.status_code} {r.text[:200]}"
            event, final = "message", None
            for line in r.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("final", "error"):
                    if event == "error":
                        return f"error event: {line[:200]}"
                    final = json.loads(line.split(":", 1)[1])
        if final is None:
            return "no final event"
        return _expect_data(final)


def _brief(body: dict[str, Any]) -> str:
    return (
        f"intent={body.get('intent')} skill={body.get('skill')} {str(body.get('message'))[:120]!r}"
    )


def _expect_data(body: dict[str, Any]) -> str | None:
    if body.get("skill") in ("data_query", "analytics") and body.get("data"):
        return None
    return f"not a data answer: {_brief(body)}"


def login(base: str, username: str) -> dict[str, str]:
    r = httpx.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": "demo"}, timeout=120
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def closed_loop(mix: Mix, recorder: Recorder, clients: int, duration_s: float) -> float:
    """``clients`` threads each send the mix's next request when the last is answered."""
    cycle = iter_cycle()
    lock = threading.Lock()
    deadline = time.monotonic() + duration_s

    def client_loop() -> None:
        with httpx.Client(timeout=60) as client:
            while time.monotonic() < deadline:
                with lock:
                    kind = next(cycle)
                for outcome in mix.send(client, kind):
                    recorder.add(outcome)

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def open_loop(
    mix: Mix,
    recorder: Recorder,
    rate: float,
    duration_s: float,
    *,
    max_in_flight: int = 64,
) -> float:
    """``rate`` requests a second on a fixed schedule, each timed from when it was due.

    A request due while ``max_in_flight`` are unanswered is not sent but counted as shed
    (``recorder.shed``): a server slower than the rate would otherwise build a queue that
    outlives the run.
    """
    cycle = iter_cycle()
    local = threading.local()
    clients: list[httpx.Client] = []
    in_flight = threading.BoundedSemaphore(max_in_flight)

    def run(kind: str, due: float) -> None:
        try:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(timeout=60)
                clients.append(client)
            # The first request is timed from when it was due (an action's "yes" follows
            # its answer and is timed on its own).
            late_ms = (time.perf_counter() - due) * 1000
            for i, outcome in enumerate(mix.send(client, kind)):
                outcome.ms += late_ms if i == 0 else 0.0
                recorder.add(outcome)
        finally:
            in_flight.release()

    started = time.perf_counter()
    total = int(rate * duration_s)
    sent = 0
    with ThreadPoolExecutor(max_workers=max_in_flight) as pool:
        while sent < total:
            due = started + sent / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            kind = next(cycle)
            if in_flight.acquire(blocking=False):
                pool.submit(run, kind, due)
            else:
                with recorder.lock:
                    recorder.shed += REQUESTS.get(kind, 1)
            # An action is two requests: it takes two places in the schedule.
            sent += REQUESTS.get(kind, 1)
    elapsed = time.perf_counter() - started
    for client in clients:
        client.close()
    return elapsed


class WaitSampler:
    """What the server's PostgreSQL backends wait on, sampled every ``every_s`` during the load.

    Each sample reads ``pg_stat_activity`` for the run's database (other than this sampler's
    own backend): per state and wait event (``Lock/transactionid``, ``Client/ClientRead``,
    none = running), how many backends; for lock waits, the statement that waits and the one
    that holds it (``pg_blocking_pids``). Counts are backend-samples: 10 samples of 2 waiting
    backends count 20.
    """

    QUERY = text(
        "SELECT a.state, a.wait_event_type, a.wait_event, left(a.query, 90),"
        " (SELECT left(b.query, 90) FROM pg_stat_activity b"
        "  WHERE b.pid = (pg_blocking_pids(a.pid))[1] LIMIT 1)"
        " FROM pg_stat_activity a"
        " WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()"
        " AND a.backend_type = 'client backend'"
    )

    def __init__(self, url: str, every_s: float = 0.1) -> None:
        self.engine = create_engine(url, pool_size=1, max_overflow=0)
        self.every_s = every_s
        self.samples = 0
        self.events: dict[str, int] = {}
        self.locks: dict[tuple[str, str], int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WaitSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.engine.dispose()

    def _run(self) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            while not self._stop.wait(self.every_s):
                self.samples += 1
                for state, kind, event, query, blocker in conn.execute(self.QUERY):
                    key = f"{state}:{kind or '-'}/{event or '-'}"
                    self.events[key] = self.events.get(key, 0) + 1
                    if kind == "Lock":
                        pair = (" ".join(query.split()), " ".join((blocker or "?").split()))
                        self.locks[pair] = self.locks.get(pair, 0) + 1

    def report(self, lines: int = 8) -> str:
        out = [f"pg_stat_activity: {self.samples} samples, backend-samples by state:wait"]
        for key, n in sorted(self.events.items(), key=lambda kv: -kv[1])[:lines]:
            out.append(f"  {n:6d}  {key}")
        out.append("lock waits (waiting statement <- blocker's last statement):")
        for (query, blocker), n in sorted(self.locks.items(), key=lambda kv: -kv[1])[:lines]:
            out.append(f"  {n:6d}  {query}  <-  {blocker}")
        return "\n".join(out)


def iter_cycle() -> Iterator[str]:
    while True:
        yield from CYCLE


@contextmanager
def demo_database(
    backend: str,
    workdir: Path,
    *,
    url: str | None = None,
    template: str | None = None,
    months: int = 13,
    scale: float = 1.0,
) -> Iterator[str]:
    """A demo database of this run's own (dropped at the end on PostgreSQL), or ``url``."""
    if url:
        yield url
        return
    if backend == "sqlite":
        path = workdir / f"mixed-{os.getpid()}.db"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        _build(url, months, scale)
        yield url
        return
    name = f"bench_mixed_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    clause = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        if not template:
            _build(url, months, scale)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _build(url: str, months: int, scale: float) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    with session_scope(sessionmaker(bind=engine)) as session:
        build_demo(session, PasswordHasher(), today=DEMO_TODAY, months=months, scale=scale)
    print(f"built the demo in {time.perf_counter() - started:.1f} s", flush=True)
    engine.dispose()


@contextmanager
def serve(
    url: str, workdir: Path, *, workers: int = 1, ready_timeout_s: float = 900, **extra_env: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``companion serve`` on a free port over ``url``; its base URL and process."""
    port = free_port()
    data_dir = workdir / "data"  # the trained NLU is kept here between runs
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "COMPANION_DATABASE_URL": url,
        "COMPANION_DATA_DIR": str(data_dir),
        "COMPANION_DEMO_MODE": "true",
        "COMPANION_TODAY": DEMO_TODAY.isoformat(),
        "COMPANION_LOG_LEVEL": "WARNING",
        # Two users send every request: the per-user limits (chat turns, and proposals a
        # minute) would refuse most of them; this measures the server, not the limits.
        "COMPANION_RATE_LIMITS__ENABLED": "false",
        "COMPANION_ACTIONS__PROPOSALS_PER_MINUTE": "100000",
        **extra_env,
    }
    companion = os.path.join(os.path.dirname(sys.executable), "companion")
    command = [companion, "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    log_path = workdir / f"server-{port}.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_timeout_s
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the server exited:\n{log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"the server was not ready in time:\n{log_path.read_text()[-4000:]}"
                )
            time.sleep(0.5)
        yield base, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def warm_up(mix: Mix, rounds: int = 1, hot_items: int = 1) -> None:
    """One pass of the mix, unrecorded: first turns load what later ones reuse.

    With several stock levels, each is proposed and confirmed once first, and the first
    ``hot_items`` that work are kept (a name the chat reads otherwise is skipped, and said).
    """
    with httpx.Client(timeout=600) as client:
        if len(mix.adjustments) > 1:
            kept = []
            for message in mix.adjustments:
                failed = [o for o in mix._action(client, message) if o.error]
                if failed:
                    print(f"warm-up: skipped {message!r}: {failed[0].error}", flush=True)
                    continue
                kept.append(message)
                if len(kept) == hot_items:
                    break
            if len(kept) < hot_items:
                raise SystemExit(f"warm-up: only {len(kept)} stock levels could be adjusted")
            mix.adjustments = kept
        for _ in range(rounds):
            for kind in CYCLE:
                for outcome in mix.send(client, kind):
                    if outcome.error:
                        raise SystemExit(f"warm-up: {outcome.kind}: {outcome.error}")


def process_tree(root: int) -> list[int]:
    """``root`` and every process under it (uvicorn's supervisor and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds each of ``pids`` has used so far (gone ones left out)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return out


def pg_backends(database: str) -> list[int]:
    """The local PostgreSQL backends serving ``database`` (by their process title)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                title = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres: ") and f" {database} " in title:
                pids.append(int(entry))
    return pids


@dataclass
class CpuMeter:
    """CPU seconds used between ``start`` and ``stop`` by the server, PostgreSQL and the bench.

    Processes are those alive at ``stop`` (a backend that ended during the load is missed:
    the pool keeps its connections, so few do); their CPU before ``start`` is subtracted.
    """

    server_pid: int
    database: str | None
    before: dict[int, float] = field(default_factory=dict)
    bench_before: float = 0.0
    used: dict[str, float] = field(default_factory=dict)

    def _pids(self) -> tuple[list[int], list[int]]:
        server = process_tree(self.server_pid)
        return server, pg_backends(self.database) if self.database else []

    def start(self) -> None:
        server, pg = self._pids()
        self.before = cpu_seconds(server + pg)
        times = os.times()
        self.bench_before = times.user + times.system

    def stop(self) -> None:
        server, pg = self._pids()
        now = cpu_seconds(server + pg)
        times = os.times()
        self.used = {
            "server": sum(now[p] - self.before.get(p, 0.0) for p in server if p in now),
            "postgresql": sum(now[p] - self.before.get(p, 0.0) for p in pg if p in now),
            "bench": times.user + times.system - self.bench_before,
        }

    def report(self, requests: int, elapsed_s: float) -> str:
        cores = os.cpu_count() or 1
        parts = [
            f"{name} {seconds:.1f} s ({seconds / max(requests, 1) * 1000:.1f} ms/request)"
            for name, seconds in self.used.items()
        ]
        busy = sum(self.used.values()) / (elapsed_s * cores)
        return (
            f"CPU over {requests} requests: "
            + ", ".join(parts)
            + f"; together {busy:.0%} of {cores} cores"
        )


def run_load(
    mix: Mix, *, clients: int | None, rate: float | None, duration_s: float, recorder: Recorder
) -> float:
    if rate:
        return open_loop(mix, recorder, rate, duration_s)
    return closed_loop(mix, recorder, clients or 8, duration_s)


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--database-url", help="an existing demo database (kept)")
    parser.add_argument("--pg-template", help="copy this PostgreSQL database instead of building")
    parser.add_argument("--months", type=int, default=13)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=1, help="companion serve --workers")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/helperF"))


def main(argv: list[str] | None = None, report: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_server_arguments(parser)
    drive = parser.add_mutually_exclusive_group()
    drive.add_argument("--clients", type=int, help="closed loop: concurrent clients (default 8)")
    drive.add_argument("--rate", type=float, help="open loop: requests per second")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument(
        "--waits", action="store_true", help="PostgreSQL: sample what the backends wait on"
    )
    parser.add_argument(
        "--hot-items",
        type=int,
        default=8,
        help="stock levels the adjustments go round (1: all on one level, as before)",
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    with (
        demo_database(
            args.backend,
            args.workdir,
            url=args.database_url,
            template=args.pg_template,
            months=args.months,
            scale=args.scale,
        ) as url,
        serve(url, args.workdir, workers=args.workers) as (base, server),
    ):
        mix = Mix(base, stock_levels(url, args.hot_items))
        warm_up(mix, hot_items=args.hot_items)
        recorder = Recorder()
        load_before = os.getloadavg()
        postgresql = make_url(url).get_backend_name() == "postgresql"
        cpu = CpuMeter(server.pid, make_url(url).database if postgresql else None)
        sampling = args.waits and postgresql
        with WaitSampler(url) if sampling else nullcontext() as sampler:
            cpu.start()
            elapsed = run_load(
                mix,
                clients=args.clients,
                rate=args.rate,
                duration_s=args.duration,
                recorder=recorder,
            )
            cpu.stop()
        driver = f"rate={args.rate}/s" if args.rate else f"clients={args.clients or 8}"
        report(
            f"{make_url(url).get_backend_name()} workers={args.workers} {driver}"
            f" hot-items={len(mix.adjustments)} duration={elapsed:.0f}s"
            f" load before {load_before[0]:.1f} after {os.getloadavg()[0]:.1f}"
        )
        report(format_summary(recorder.summary(elapsed)))
        report(cpu.report(len(recorder.since(0)), elapsed))
        if recorder.shed:
            report(
                f"shed (not sent: {args.rate}/s was more than the server answered): {recorder.shed}"
            )
        for sample in recorder.error_samples():
            report(f"  error {sample}")
        if sampler is not None:
            report(sampler.report())


if __name__ == "__main__":
    main()
