"""The server's PostgreSQL connections terminated under load (``pg_terminate_backend``).

Only the test database's backends are terminated (never another database's, never the
server itself). To have requests surely in flight when it happens, the test first locks a
table every signed-in request reads, so they wait in PostgreSQL; then it terminates every
backend of the database but its own. The waiting requests must fail fast with the 503
``database_unavailable`` envelope (Retry-After), not a 500 and not a hang, and the
server's pool must recover by itself: requests succeed again within 10 s.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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


@pytest.fixture
def postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")


@pytest.mark.slow
def test_terminated_connections_are_a_fast_503_and_the_pool_recovers(
    postgresql_only: None, demo_engine: Engine, demo_url: str, tmp_path: Path
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
