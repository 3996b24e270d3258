"""The server's PostgreSQL connections terminated under load (``pg_terminate_backend``).

Only the test database's backends are terminated (never another database's, never the
server itself). To have requests surely in flight when it happens, the test first locks a
table every signed-in request reads, so they wait in PostgreSQL; then it terminates every
backend of the database but its own. The waiting requests must fail fast with the 503
``database_unavailable`` envelope (Retry-After), not a 500 and not a hang, and the
server's pool must recover by itself: requests succeed again within 10 s.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from faults_support import Served, server_env
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

IN_FLIGHT = 6
RECOVERY_S = 10.0
FAIL_FAST_S = 5.0


def backends_waiting(conn: Connection) -> int:
    """The backends of this database waiting on a lock, now (not the transaction's snapshot)."""
    conn.execute(text("SELECT pg_stat_clear_snapshot()"))
    return int(
        conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    )


def terminate_the_servers_backends(conn: Connection) -> int:
    """``pg_terminate_backend`` on every other backend of this test's own database."""
    return len(
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
    )


# pg_terminate_backend is PostgreSQL's: this module's tests run on it alone (no SQLite
# variant to skip; COMPANION_TEST_BACKENDS=sqlite still narrows a local run on purpose).
@pytest.fixture(
    scope="module",
    params=[
        b
        for b in ("postgresql",)
        if b in os.environ.get("COMPANION_TEST_BACKENDS", "sqlite,postgresql")
    ],
)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.slow
def test_terminated_connections_are_a_fast_503_and_the_pool_recovers(
    demo_engine: Engine, demo_url: str, tmp_path: Path
) -> None:
    env = server_env(demo_url, tmp_path / "data", "2026-03-15")
    with Served(env, tmp_path / "server.log") as server, server.client("finance") as http:
        assert http.get("/me").status_code == 200  # the pool holds a live connection
        with demo_engine.connect() as holder, ThreadPoolExecutor(IN_FLIGHT) as pool:
            holder.begin()
            holder.execute(text("LOCK TABLE memberships IN ACCESS EXCLUSIVE MODE"))

            def timed_get(path: str) -> tuple[httpx.Response, float]:
                # A connection of its own each: the requests run side by side.
                with httpx.Client(base_url=http.base_url, headers=http.headers) as own:
                    response = own.get(path, timeout=30)
                return response, time.monotonic()

            futures = [pool.submit(timed_get, "/me") for _ in range(IN_FLIGHT)]
            deadline = time.monotonic() + 15
            while backends_waiting(holder) < IN_FLIGHT and time.monotonic() < deadline:
                time.sleep(0.05)
            assert backends_waiting(holder) == IN_FLIGHT
            killed_at = time.monotonic()
            assert terminate_the_servers_backends(holder) >= IN_FLIGHT
            answers = [f.result(timeout=30) for f in futures]
            holder.rollback()
        for response, answered_at in answers:
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "database_unavailable"
            assert int(response.headers["Retry-After"]) >= 1
            assert answered_at - killed_at < FAIL_FAST_S
        # Recovery on its own: the pool drops dead connections (pre-ping) and opens new ones.
        recovered_by = time.monotonic() + RECOVERY_S
        while True:
            me = http.get("/me")
            if me.status_code == 200:
                break
            assert me.status_code == 503, me.text
            assert time.monotonic() < recovered_by, "no recovery within 10 s"
            time.sleep(0.2)
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda _: http.get("/me").status_code, range(12)))
        assert statuses == [200] * 12
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log, log[-6000:]


def sse_events(lines: Iterator[str]) -> list[tuple[str, dict[str, Any]]]:
    """``(event, data)`` of a text/event-stream body."""
    events, kind, data = [], "message", ""
    for line in lines:
        if not line:
            if data:
                events.append((kind, json.loads(data)))
            kind, data = "message", ""
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
    return events


@pytest.mark.slow
def test_a_streamed_turn_whose_connection_is_terminated_ends_with_database_unavailable(
    demo_engine: Engine, demo_url: str, tmp_path: Path, nlu_cache: Path
) -> None:
    """The streamed chat says what /ai/chat says (503 database_unavailable), as its error
    event: the turn runs in a thread of its own, past the request's error handlers."""
    # The run's trained NLU: the turn reaches its query at once instead of training one.
    shutil.copytree(nlu_cache, tmp_path / "data" / "nlu")
    env = server_env(demo_url, tmp_path / "data", "2026-03-15")
    with Served(env, tmp_path / "server.log") as server, server.client("finance") as http:
        assert http.get("/me").status_code == 200
        got: dict[str, Any] = {}
        with demo_engine.connect() as holder:
            holder.begin()
            # The cash balance's query waits on this lock (sign-in reads neither table).
            holder.execute(text("LOCK TABLE bank_accounts, account_days IN ACCESS EXCLUSIVE MODE"))

            def stream() -> None:
                with http.stream(
                    "POST", "/ai/chat/stream", json={"message": "what's our cash balance?"}
                ) as response:
                    got["status"] = response.status_code
                    got["events"] = sse_events(response.iter_lines())

            reader = threading.Thread(target=stream)
            reader.start()
            deadline = time.monotonic() + 60  # the NLU is loaded first
            while backends_waiting(holder) < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert backends_waiting(holder) == 1
            assert terminate_the_servers_backends(holder) >= 1
            reader.join(timeout=FAIL_FAST_S * 2)
            holder.rollback()
        assert not reader.is_alive(), "the stream did not end"
        assert got["status"] == 200
        kind, data = got["events"][-1]
        assert kind == "error", got["events"]
        assert data["error"]["code"] == "database_unavailable"
        assert data["error"]["details"]["retry_after"] >= 1
        # And the server recovers on its own (the pool dropped the dead connection).
        recovered_by = time.monotonic() + RECOVERY_S
        while (me := http.get("/me")).status_code != 200:
            assert me.status_code == 503, me.text
            assert time.monotonic() < recovered_by, "no recovery within 10 s"
            time.sleep(0.2)
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log, log[-6000:]
