"""``companion serve`` as a real process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from llmserver import free_port


@contextmanager
def served(
    env: dict[str, str],
    log_path: Path,
    *,
    workers: int = 1,
    ready_path: str = "/healthz",
    startup_timeout_s: float = 30,
) -> Iterator[str]:
    """Start the server with ``env`` over the process environment; yield its base URL.

    Waits until ``ready_path`` answers 200 (the log is shown if it exits or takes too long)
    and stops the process on the way out.
    """
    port = free_port()
    command = [sys.executable, "-c", "from companion.cli.main import app; app()"]
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, *args],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout_s
        while True:
            assert process.poll() is None, f"the server exited:\n{log_path.read_text()}"
            try:
                if httpx.get(f"{base}{ready_path}", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"no answer in time:\n{log_path.read_text()}"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if shutdown hangs
            process.kill()
            process.wait()
