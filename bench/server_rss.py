"""RSS per component, a real server's idle RSS, and its first chat turn (warm start).

    .venv/bin/python bench/server_rss.py --data /tmp/api/demo2/var          # all three
    .venv/bin/python bench/server_rss.py --data DIR --only components

``DIR`` holds a demo's SQLite ``companion.db`` (``companion demo --no-serve --months 3
--scale 0.2`` with ``COMPANION_DATA_DIR=DIR``); the shipped settings otherwise.

- components: one fresh process loads, in order, the app (baseline), the NLU, the embedder
  (for memories and the index: the same model), the llama.cpp model of the ``default``
  provider, and the knowledge index; VmRSS after each step.
- idle: ``companion serve`` on a free port; RSS once /readyz is 200 and again after
  ``--idle-s`` seconds with no request.
- first-turn: fresh servers (``--servers``), each asked one ``POST /api/v1/ai/chat`` the
  moment /readyz is 200 (warm start), then ``--turns`` more; median and p95 of the first
  turns and of the later ones. ``--no-warm`` sets COMPANION_API__WARM_START=false (before).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

STEPS = """
import json, os, sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
out = {"python": rss()}
from companion.bootstrap import bootstrap
from companion.web.app import create_app
container = bootstrap()
app = create_app(container)
out["app (baseline)"] = rss()
container.company_models()
out["+ NLU"] = rss()
container.memory_embedder().embed(["warm up"])
out["+ embedder"] = rss()
llm = container.llm()
try:
    provider = llm.registry.get("default")
    out["+ llama model"] = rss()
    out["llama provider"] = type(provider).__name__
except Exception as exc:
    out["+ llama model"] = None
    out["llama provider"] = repr(exc)
container.retriever()
out["+ index"] = rss()
print(json.dumps(out))
"""


def env_for(data: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "COMPANION_DATA_DIR": str(data),
        "COMPANION_DATABASE_URL": f"sqlite:///{data}/companion.db",
        "COMPANION_DEMO_MODE": "true",
        **extra,
    }


def components(data: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", STEPS], env=env_for(data), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Server:
    def __init__(self, data: Path, log: Path, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command = [sys.executable, "-c", "from companion.cli.main import app; app()", *args]
        self.started = time.perf_counter()
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, env=env_for(data, **env), stdout=out, stderr=subprocess.STDOUT
            )

    def wait(self, path: str, timeout: float = 900) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the server exited"
            try:
                if httpx.get(self.base + path, timeout=5).status_code == 200:
                    return time.perf_counter() - self.started
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError(path)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def token(base: str) -> str:
    r = httpx.post(
        base + "/api/v1/auth/login", json={"username": "finance", "password": "demo"}, timeout=60
    )
    r.raise_for_status()
    value: str = r.json()["access_token"]
    return value


def ask(base: str, headers: dict[str, str], message: str) -> float:
    t0 = time.perf_counter()
    r = httpx.post(
        base + "/api/v1/ai/chat", json={"message": message}, headers=headers, timeout=600
    )
    r.raise_for_status()
    return (time.perf_counter() - t0) * 1000


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--only", choices=["components", "idle", "first-turn"])
    parser.add_argument("--idle-s", type=float, default=30)
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--no-warm", action="store_true", help="COMPANION_API__WARM_START=false")
    args = parser.parse_args()
    log = Path("/tmp") / f"server_rss.{os.getpid()}.log"
    env = {"COMPANION_API__WARM_START": "false"} if args.no_warm else {}
    print("load:", os.getloadavg())
    if args.only in (None, "components"):
        print("components (MB):", json.dumps(components(args.data), indent=1))
    if args.only in (None, "idle"):
        server = Server(args.data, log, **env)
        try:
            ready_s = server.wait("/readyz")
            ready = rss_mb(server.process.pid)
            time.sleep(args.idle_s)
            idle = rss_mb(server.process.pid)
            print(f"idle: ready after {ready_s:.1f} s, RSS {ready:.0f} MB then {idle:.0f} MB")
        finally:
            server.stop()
    if args.only in (None, "first-turn"):
        firsts: list[float] = []
        later: list[float] = []
        for _ in range(args.servers):
            server = Server(args.data, log, **env)
            try:
                server.wait("/readyz")
                headers = {"Authorization": f"Bearer {token(server.base)}"}
                firsts.append(ask(server.base, headers, "what is our cash balance"))
                later += [
                    ask(server.base, headers, "what is our cash balance") for _ in range(args.turns)
                ]
            finally:
                server.stop()
        print(
            f"first turn ms: median {statistics.median(firsts):.0f} p95 {p95(firsts):.0f} "
            f"({firsts}); later turns median {statistics.median(later):.0f} p95 {p95(later):.0f}"
        )
    print("load:", os.getloadavg())


if __name__ == "__main__":
    main()
