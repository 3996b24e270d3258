"""A fresh clone to its first answer: `make run` on a machine that has nothing installed yet.

    .venv/bin/python bench/first_run.py [--wheels DIR | --no-wheel] [--llm] [--keep DIR]

Clones this repository's HEAD into a new folder, runs ``make run`` there with pip's cache
off (every package is downloaded, as on a new machine) and the server on a free port, then
signs in as ``finance`` and asks one question. Prints when each step ended, counted from
the start: the install (``.venv/.installed``), the demo built, the server ready
(``/readyz``), the first answer. ``--no-wheel`` points ``WHEELS`` at an empty folder (no
prebuilt llama-cpp-python); ``--llm`` asks ``make run LLM=1`` (compiles llama-cpp-python
when there is no wheel). The server is stopped at the end; the folder is removed unless
``--keep``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
QUESTION = "what's our cash balance?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    wheels = parser.add_mutually_exclusive_group()
    wheels.add_argument("--wheels", type=Path, help="a folder with prebuilt wheels")
    wheels.add_argument("--no-wheel", action="store_true", help="no prebuilt llama-cpp-python")
    parser.add_argument("--llm", action="store_true", help="make run LLM=1")
    parser.add_argument("--keep", type=Path, help="clone here and keep it")
    parser.add_argument("--deadline", type=float, default=3600, help="give up after (s)")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="companion-first-run-"))
    clone = work / "main"
    empty = work / "no-wheels"
    empty.mkdir(parents=True, exist_ok=True)
    wheel_dir = empty if args.no_wheel else (args.wheels or REPO.parent / "shared" / "wheels")
    port = free_port()
    env = {
        **os.environ,
        "PIP_NO_CACHE_DIR": "1",
        "COMPANION_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("COMPANION_DATABASE_URL", "COMPANION_DATA_DIR", "VIRTUAL_ENV"):
        env.pop(name, None)
    print(f"load at start {load()}; wheels: {wheel_dir}; llm: {args.llm}", flush=True)
    started = time.perf_counter()
    marks: dict[str, float] = {}

    def mark(name: str) -> None:
        marks.setdefault(name, time.perf_counter() - started)
        print(f"{marks[name]:8.1f} s  {name}  (load {load()})", flush=True)

    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    mark("cloned")
    make = ["make", "run", f"WHEELS={wheel_dir}"] + (["LLM=1"] if args.llm else [])
    log = (work / "make-run.log").open("w")
    proc = subprocess.Popen(
        make,
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )

    def follow() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            log.flush()
            if "Built in" in line:
                mark("demo built")

    threading.Thread(target=follow, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    try:
        while time.perf_counter() - started < args.deadline:
            if "installed" not in marks and (clone / ".venv" / ".installed").exists():
                mark("installed")
            if proc.poll() is not None:
                raise SystemExit(f"make run ended with {proc.returncode}: see {log.name}")
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    mark("ready")
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("no ready server before the deadline")
        token = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "finance", "password": "demo"}
        ).json()["access_token"]
        asked = time.perf_counter()
        reply = httpx.post(
            f"{base}/api/v1/ai/chat",
            headers={"Authorization": f"Bearer {token}"},
            json={"message": QUESTION},
            timeout=60,
        )
        reply.raise_for_status()
        mark("first answer")
        print(
            f"first answer in {1000 * (time.perf_counter() - asked):.0f} ms: "
            f"{reply.json()['message'][:120]!r}"
        )
        models = httpx.get(f"{base}/readyz", timeout=5).json()
        print(f"readyz: {models}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("  ".join(f"{name} {seconds:.1f} s" for name, seconds in marks.items()))
    sys.exit(0)


if __name__ == "__main__":
    main()
