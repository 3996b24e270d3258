"""Chat over HTTP with concurrent clients, against a real server process on loopback.

    .venv/bin/python bench/http_load.py [--database-url URL] [--clients 8] [--requests 400]

Starts ``companion serve`` on a free 127.0.0.1 port, logs in as ``finance``, and has
``--clients`` threads send ``--requests`` chat questions in all (bounded in count and
time). Reports answered requests per second, errors, latency median/p95 and the server's
CPU time per chat request (Linux), next to the same server's ``/healthz`` throughput
measured in the same run as the baseline.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx

sys.path.insert(0, os.path.dirname(__file__))

from common import DEMO_TODAY, QUESTIONS, demo_database, p  # noqa: E402

DEADLINE_S = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_ready(base: str, attempts: int) -> None:
    """Poll ``/readyz`` every half second until the server answers 200 (or give up)."""
    for _ in range(attempts):
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not become ready")


def bearer(base: str, username: str = "finance") -> dict[str, str]:
    """An Authorization header for a demo user (password ``demo``)."""
    token = httpx.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": "demo"}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process and its child processes (Linux /proc), else None."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        children = open(f"/proc/{pid}/task/{pid}/children").read().split()
        total = 0.0
        for p in [pid, *map(int, children)]:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        return total
    except (OSError, ValueError):
        return None


def load(
    clients: int, total: int, send: Callable[[httpx.Client, int], httpx.Response]
) -> tuple[float, list[float], int]:
    """(requests per second, latencies in ms, errors) for ``total`` requests."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(total))
    deadline = time.monotonic() + DEADLINE_S

    def worker() -> None:
        nonlocal errors
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < deadline:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                started = time.perf_counter()
                response = send(client, n)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        errors += 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / (time.perf_counter() - started), latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    url = demo_database(args.database_url)
    port = free_port()
    env = {
        **os.environ,
        "COMPANION_DATABASE_URL": url,
        "COMPANION_DEMO_MODE": "true",
        "COMPANION_TODAY": DEMO_TODAY.isoformat(),
        "COMPANION_LOG_LEVEL": "WARNING",
        # One user asks every question: the per-user chat rate limit (30 a minute) would
        # answer most of them 429, and this measures the server, not the limit.
        "COMPANION_RATE_LIMITS__ENABLED": "false",
    }
    companion = os.path.join(os.path.dirname(sys.executable), "companion")
    command = [companion, "serve", "--port", str(port)]
    if args.workers > 1:
        command += ["--workers", str(args.workers)]
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, 1200)  # 10 minutes: a warm start on a loaded machine
        headers = bearer(base)
        # Warm-up: the first turn loads the NLU and builds the knowledge index (seconds).
        httpx.post(
            f"{base}/api/v1/ai/chat", json={"message": "hello"}, headers=headers, timeout=300
        )

        def health(client: httpx.Client, n: int) -> httpx.Response:
            return client.get(f"{base}/healthz")

        def chat(client: httpx.Client, n: int) -> httpx.Response:
            message = QUESTIONS[n % len(QUESTIONS)]
            return client.post(f"{base}/api/v1/ai/chat", json={"message": message}, headers=headers)

        h_rps, h_lat, h_err = load(args.clients, args.requests, health)
        cpu_before = cpu_seconds(server.pid)
        c_rps, c_lat, c_err = load(args.clients, args.requests, chat)
        cpu_after = cpu_seconds(server.pid)
        print(f"clients={args.clients} requests={args.requests} workers={args.workers}")
        print(
            f"/healthz (baseline)  {h_rps:7.1f} req/s  median {statistics.median(h_lat):7.2f} ms"
            f"  p95 {p(h_lat, 95):7.2f} ms  errors {h_err}"
        )
        print(
            f"/api/v1/ai/chat      {c_rps:7.1f} req/s  median {statistics.median(c_lat):7.2f} ms"
            f"  p95 {p(c_lat, 95):7.2f} ms  errors {c_err}"
        )
        print(f"chat / healthz throughput: {c_rps / h_rps:.3f}")
        if cpu_before is not None and cpu_after is not None:
            per_turn = (cpu_after - cpu_before) / len(c_lat) * 1000
            print(f"server CPU per chat request: {per_turn:.1f} ms (user + system, all threads)")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
