"""Money-safe confirmations across two real worker processes, on SQLite and PostgreSQL.

``companion serve --workers 2`` runs over a small committed demo. Each round proposes a
payment in chat, then releases at once API confirms, chat "yes" turns and cancels (API and
chat) against it, followed by more "yes" turns: whatever wins, the ledger holds exactly one
receipt for the round's amount or none, and every token executed at most once.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_support import TEST_SECRET
from served import served
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from companion.assistant.actions.models import AiAction
from companion.demo.service import build_demo
from companion.erp.payments.models import Payment
from companion.kit import migrate
from companion.kit.db import make_engine, make_session_factory, session_scope
from dbutil import new_database_url
from factories import CHEAP_HASHER

TODAY = dt.date(2026, 3, 15)
STARTUP_TIMEOUT_S = 120
ROUNDS = 3


@pytest.fixture
def workers(
    backend: str,
    tmp_path: Path,
    pg_database_factory: list[str],
    nlu_cache: Path,
    nlu: Any,
) -> Iterator[tuple[str, Engine]]:
    """Two uvicorn workers on a fresh demo database; the base URL and an engine to check it."""
    url = new_database_url(backend, tmp_path, pg_database_factory)
    engine = make_engine(url)
    migrate.upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        build_demo(session, CHEAP_HASHER, today=TODAY, months=1, scale=0.05)
    # The run's trained NLU (the ``nlu`` fixture made it): the workers load it, not retrain.
    shutil.copytree(nlu_cache, tmp_path / "data" / "nlu")
    env = {
        "COMPANION_DATABASE_URL": url,
        "COMPANION_DATA_DIR": str(tmp_path / "data"),
        "COMPANION_TODAY": TODAY.isoformat(),
        "COMPANION_AUTH__SECRET_KEY": TEST_SECRET,
        "COMPANION_DEMO_MODE": "false",
        "COMPANION_LLM__PROVIDER": "none",
        "COMPANION_LOG_LEVEL": "WARNING",
    }
    log_path = tmp_path / "server.log"
    try:
        with served(
            env, log_path, workers=2, ready_path="/readyz", startup_timeout_s=STARTUP_TIMEOUT_S
        ) as base:
            yield base, engine
        errors = [line for line in log_path.read_text().splitlines() if "Traceback" in line]
        assert not errors, log_path.read_text()[-6000:]
    finally:
        engine.dispose()


def _receipts(engine: Engine, amount: Decimal) -> int:
    with make_session_factory(engine)() as session:
        stmt = select(func.count()).select_from(Payment).where(Payment.amount == amount)
        return int(session.execute(stmt).scalar_one())


def _executed_tokens(engine: Engine, amount: Decimal) -> int:
    with make_session_factory(engine)() as session:
        stmt = (
            select(func.count())
            .select_from(AiAction)
            .where(AiAction.amount == amount, AiAction.status == "executed")
        )
        return int(session.execute(stmt).scalar_one())


def _chat(http: httpx.Client, headers: dict[str, str], message: str, conv: str) -> int:
    body = {"message": message, "conversation_id": conv}
    return http.post("/api/v1/ai/chat", json=body, headers=headers).status_code


@pytest.mark.slow
def test_api_confirms_chat_yes_and_cancels_racing_leave_one_receipt_or_none(
    workers: tuple[str, Engine],
) -> None:
    base, engine = workers
    with httpx.Client(base_url=base, timeout=60) as http:
        login = http.post("/api/v1/auth/login", json={"username": "finance", "password": "demo"})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        customer = http.get("/api/v1/customers", headers=headers).json()["items"][0]["name"]
        banks = http.get("/api/v1/bank-accounts", headers=headers).json()
        bank = banks[0]["name"]
        outcomes: list[int] = []
        for round_no in range(ROUNDS):
            amount = Decimal(f"{round_no + 1}11.37")
            ask = f"record a payment of {amount} from {customer} into {bank}"
            first = http.post("/api/v1/ai/chat", json={"message": ask}, headers=headers).json()
            pending = first["pending_confirmation"]
            assert pending is not None, first["message"]
            token, conv = pending["token"], first["conversation_id"]
            # Cancels only in odd rounds, so both endings (one receipt, none) are raced.
            calls = [("confirm", "api")] * 3 + [("yes", "chat")] * 3
            if round_no % 2:
                calls += [("cancel", "api"), ("no", "chat")]
            barrier = threading.Barrier(len(calls))

            def one(
                verb: str,
                via: str,
                token: str = token,
                conv: str = conv,
                barrier: threading.Barrier = barrier,
            ) -> int:
                with httpx.Client(base_url=base, timeout=60) as own:
                    barrier.wait(timeout=30)
                    if via == "api":
                        path = f"/api/v1/ai/actions/{token}/{verb}"
                        return own.post(path, headers=headers).status_code
                    return _chat(own, headers, verb, conv)

            with ThreadPoolExecutor(max_workers=len(calls)) as pool:
                codes = list(pool.map(lambda call: one(*call), calls))
            assert all(code in (200, 409) for code in codes), codes
            # The user keeps saying "yes" afterwards: nothing executes a copy unasked.
            for _ in range(3):
                assert _chat(http, headers, "yes", conv) == 200
            receipts = _receipts(engine, amount)
            assert receipts in (0, 1), (round_no, receipts)
            assert _executed_tokens(engine, amount) == receipts
            outcomes.append(receipts)
        assert outcomes[0] == 1  # no cancel raced in round 0: one of the confirms won
