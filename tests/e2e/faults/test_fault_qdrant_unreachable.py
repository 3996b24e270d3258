"""Qdrant unreachable: the server gets ready, data questions are answered, and a policy
question is told the knowledge base is unavailable; nothing waits longer than Qdrant's
5 s timeout. The app (warm start on) is pointed at a closed port, or at a port that
accepts connections and never answers; the machine's own services are not touched.
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import Tenants, make_settings
from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from starlette.testclient import TestClient

from companion.assistant.skills.knowledge import UNAVAILABLE
from companion.bootstrap import bootstrap
from companion.config import RagSettings, Settings
from companion.kit.clock import FixedClock
from companion.llm.embeddings import EmbedderCache
from companion.web.app import create_app
from llmserver import free_port

# A turn may wait once for Qdrant's 5 s timeout (the silent port), plus a loaded machine.
BOUND_S = 12.0
READY_S = 120.0  # the warm-up loads the NLU and the embedder too (seconds to a minute)


@pytest.fixture(params=["closed", "silent"])
def dead_qdrant(request: pytest.FixtureRequest) -> Iterator[str]:
    """A Qdrant URL nothing answers at: a closed port, or one that never replies."""
    if request.param == "closed":
        yield f"http://127.0.0.1:{free_port()}"
        return
    with socket.socket() as silent:  # the kernel completes the handshake; nobody reads
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        yield f"http://127.0.0.1:{silent.getsockname()[1]}"


@pytest.fixture
def settings(engine: Engine, dead_qdrant: str, nlu_cache: Path, tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    shutil.copytree(nlu_cache, data / "nlu")  # the run's trained NLU: loaded, not trained
    return make_settings(
        engine.url.render_as_string(hide_password=False),
        data_dir=data,
        rag=RagSettings(index_backend="qdrant", qdrant_url=dead_qdrant),
    )


@pytest.fixture
def warm_client(
    engine: Engine,
    connection: Connection,
    settings: Settings,
    clock: FixedClock,
    embedders: EmbedderCache,
) -> Iterator[TestClient]:
    """The app with warm start on, its sessions joined to the test's transaction."""
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    container = bootstrap(
        settings, engine=engine, session_factory=factory, clock=clock, embedders=embedders
    )
    with TestClient(create_app(container, warm=True), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.slow
# qdrant-client checks the server's version in a thread of its own and warns when it cannot.
@pytest.mark.filterwarnings("ignore:Failed to obtain server version:UserWarning")
def test_without_qdrant_the_server_is_ready_and_answers_what_it_can(
    warm_client: TestClient, tenants: Tenants
) -> None:
    deadline = time.monotonic() + READY_S
    while (ready := warm_client.get("/readyz")).status_code != 200:
        assert ready.json()["error"]["details"]["reason"] == "warming", ready.text
        assert time.monotonic() < deadline, ready.text
        time.sleep(0.2)
    headers = tenants.headers("acme", "finance")

    def ask(message: str) -> dict[str, object]:
        started = time.monotonic()
        answer = warm_client.post("/api/v1/ai/chat", json={"message": message}, headers=headers)
        assert time.monotonic() - started < BOUND_S, message
        assert answer.status_code == 200, answer.text
        body: dict[str, object] = answer.json()
        return body

    policy = ask("what is the travel policy for hotel rooms?")
    assert (policy["skill"], policy["message"]) == ("knowledge", UNAVAILABLE)
    cash = ask("what's our cash balance?")
    assert cash["skill"] == "data_query" and cash["intent"] == "cash_balance", cash
