"""Model work has its own bounded queue: data questions never wait behind it (issue 21, F8).

A real uvicorn server on its own database (committed data, real connections: requests run
concurrently), a slow model (the fake provider, sleeping), drafts that fill every slot.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from e2e_support import make_settings

from companion.assistant.nlu import NLU
from companion.assistant.service import Assistant
from companion.assistant.understanding import CompanyNLU
from companion.auth import service as auth_service
from companion.auth.models import User
from companion.bootstrap import Container, bootstrap
from companion.kit import migrate
from companion.kit.clock import FixedClock
from companion.kit.db import make_engine, make_session_factory, session_scope
from companion.llm import FakeProvider, LLMService, PolicyBook, ProviderRegistry
from companion.llm.admission import ModelGate
from companion.web.app import create_app
from dbutil import new_database_url
from factories import make_context
from finance_factories import JAN, make_books, posted_invoice
from llmserver import free_port

DRAFT = "/api/v1/ai/drafts/payment-reminder"
CHAT = "/api/v1/ai/chat"
MODEL_DELAY_S = 4.0
TODAY = JAN + dt.timedelta(days=90)


@dataclass
class World:
    base: str
    container: Container
    fake: FakeProvider
    gate: ModelGate
    tokens: dict[str, str]
    customer_id: int

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}


@pytest.fixture
def world(
    backend: str, tmp_path: Path, pg_database_factory: list[str], nlu: NLU
) -> Iterator[World]:
    url = new_database_url(backend, tmp_path, pg_database_factory)
    engine = make_engine(url)
    migrate.upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        books = make_books(session, "acme")  # acme-finance
        posted_invoice(session, books, amount="250.00", on=JAN, due=JAN + dt.timedelta(days=10))
        make_context(session, books.company, ["finance"], username="acme-finance2")
        make_context(session, books.company, ["finance"], username="acme-finance3")
        make_context(session, books.company, ["viewer"], username="acme-viewer")
        customer_id = books.customer.id
    clock = FixedClock(dt.datetime.combine(TODAY, dt.time(10, 0), tzinfo=dt.UTC))
    settings = make_settings(url, data_dir=tmp_path, today=TODAY)
    container = bootstrap(settings, engine=engine, clock=clock)
    policies = tmp_path / "policies.yml"
    policies.write_text("version: 1\nuse_cases:\n  chat:\n    enabled: true\n    cache_ttl_s: 0\n")
    # Echo: phrasing gives the exact answer back; a draft is not JSON (the template is used).
    fake = FakeProvider(mode="echo")
    # Two model calls at once, one per user, no queue: the third is refused at once.
    gate = ModelGate(2, max_queued=0, max_per_user=1)
    container._llm = LLMService(
        ProviderRegistry({"default": lambda: fake}), PolicyBook.load(policies), gate=gate
    )
    container._assistant = Assistant(
        CompanyNLU(nlu), clock, retriever=container.retriever, llm=container.llm
    )
    with session_scope(container.session_factory) as session:
        users = session.query(User).all()
        tokens = {u.username: auth_service.issue_token(settings, clock, u)[0] for u in users}
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(container), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield World(f"http://127.0.0.1:{port}", container, fake, gate, tokens, customer_id)
    server.should_exit = True
    thread.join(timeout=15)
    engine.dispose()


def _wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_data_questions_answer_while_drafts_hold_every_model_slot(world: World) -> None:
    with httpx.Client(base_url=world.base, timeout=30) as http:
        _while_drafts_run(world, http)
    assert world.gate.snapshot()["running"] == 0


def _while_drafts_run(world: World, http: httpx.Client) -> None:
    viewer = world.headers("acme-viewer")
    # Warm up (NLU, first queries) with an instant model; the exact answer to compare with.
    exact = http.post(CHAT, json={"message": "sales last month"}, headers=viewer)
    assert exact.status_code == 200, exact.text
    assert exact.json()["usage"]["llm"]["generated"] is True
    world.fake.delay_s = MODEL_DELAY_S

    def draft(username: str) -> httpx.Response:
        with httpx.Client(base_url=world.base, timeout=30) as client:
            return client.post(
                DRAFT, json={"customer_id": world.customer_id}, headers=world.headers(username)
            )

    with ThreadPoolExecutor(2) as pool:
        started = time.monotonic()
        drafts: list[Future[httpx.Response]] = [
            pool.submit(draft, "acme-finance"),
            pool.submit(draft, "acme-finance2"),
        ]
        _wait_for(lambda: world.gate.snapshot()["running"] == 2)

        mine_again = draft("acme-finance")  # the same user, a second model request
        assert mine_again.status_code == 429, mine_again.text
        assert mine_again.json()["error"]["code"] == "llm_user_busy"
        assert int(mine_again.headers["Retry-After"]) >= 1

        third = draft("acme-finance3")  # the (N+1)th model request
        assert third.status_code == 503, third.text
        assert third.json()["error"]["code"] == "llm_busy"
        assert int(third.headers["Retry-After"]) >= 1

        asked = time.monotonic()
        answer = http.post(CHAT, json={"message": "sales last month"}, headers=viewer)
        answered_in = time.monotonic() - asked
        assert answer.status_code == 200, answer.text
        # Not behind the drafts (each sleeps 4 s in the model) and without the model.
        assert answered_in < 1.5, answered_in
        assert answer.json()["message"] == exact.json()["message"]
        assert answer.json()["usage"]["llm"]["fallback_reason"] == "model_busy"
        assert not any(d.done() for d in drafts), "the drafts were still being written"
        assert time.monotonic() - started < MODEL_DELAY_S

        for done in drafts:
            assert done.result().status_code == 200, done.result().text
    assert len([c for c in world.fake.calls if c["kind"] == "json"]) == 2  # the drafts only
