"""Warm start: /readyz is 503 ``warming`` until the NLU, embedder and index are loaded, and
the first chat turn after that loads no model (counted, not timed)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e_support import Tenants, make_settings
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

import companion.bootstrap as bootstrap_module
import companion.llm.embeddings as embeddings
import companion.llm.factory as llm_factory
from companion.assistant import documents_or_data
from companion.bootstrap import Container
from companion.config import Settings
from companion.web.app import create_app


@pytest.fixture
def settings(engine: Engine, tmp_path: Path, nlu_cache: Path) -> Settings:
    """The test app's settings with a data folder of its own (the run's NLU copied in)."""
    shutil.copytree(nlu_cache, tmp_path / "nlu")
    return make_settings(engine.url.render_as_string(hide_password=False), data_dir=tmp_path)


def counted(loads: list[str], name: str, load: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        loads.append(name)
        return load(*args, **kwargs)

    return wrapper


def test_readyz_is_503_until_warm_and_the_first_turn_loads_nothing(
    container: Container, tenants: Tenants, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[str] = []
    for name in ("build_assistant", "build_company_models", "build_retriever"):
        monkeypatch.setattr(
            bootstrap_module, name, counted(loads, name, getattr(bootstrap_module, name))
        )
    # Built on a first turn before the warm-up's "turn" step: the language-model service (its
    # policies parsed) and the data questions' vocabulary (the NLU's training data read).
    monkeypatch.setattr(
        llm_factory,
        "build_llm_service",
        counted(loads, "build_llm_service", llm_factory.build_llm_service),
    )
    documents_or_data.ledger_words.cache_clear()
    for name, factory in list(embeddings._ADAPTERS.items()):
        monkeypatch.setitem(embeddings._ADAPTERS, name, counted(loads, f"embedder:{name}", factory))
    app = create_app(container, warm=True)
    warmup = app.state.warmup
    gate = threading.Event()
    warmup.steps.insert(0, ("held by the test", lambda: gate.wait(120)))

    with TestClient(app, raise_server_exceptions=False) as client:
        warming = client.get("/readyz")
        assert warming.status_code == 503
        assert warming.json()["error"]["details"]["reason"] == "warming"
        assert warming.headers["Retry-After"] == "1"
        assert client.get("/healthz").status_code == 200  # alive while warming

        gate.set()
        assert warmup.wait(timeout=300), "the warm-up did not finish"
        assert warmup.failed is None
        assert client.get("/readyz").status_code == 200
        assert {
            "build_assistant",
            "build_company_models",
            "build_retriever",
            "build_llm_service",
        } <= set(loads)
        assert documents_or_data.ledger_words.cache_info().currsize == 1
        assert set(warmup.timings_ms) == {"held by the test", "nlu", "embedder", "index", "turn"}

        loaded_before_turn = list(loads)
        turn = client.post(
            "/api/v1/ai/chat",
            json={"message": "what is our cash balance"},
            headers=tenants.headers("acme", "finance"),
        )
        assert turn.status_code == 200, turn.text
        assert turn.json()["intent"] == "cash_balance"
        assert loads == loaded_before_turn, "the first turn loaded a model"
        assert documents_or_data.ledger_words.cache_info().misses == 1  # read once, warming


def test_a_failed_warm_up_keeps_readyz_503_naming_the_error(container: Container) -> None:
    app = create_app(container, warm=True)

    def broken() -> None:
        raise RuntimeError("model file unreadable")

    app.state.warmup.steps[:] = [("nlu", broken)]
    with TestClient(app, raise_server_exceptions=False) as client:
        assert app.state.warmup.wait(timeout=60)
        response = client.get("/readyz")
    assert response.status_code == 503
    details = response.json()["error"]["details"]
    assert details["reason"] == "warmup_failed"
    assert "model file unreadable" in details["error"]


def test_without_warm_start_readyz_does_not_wait_for_models(client: TestClient) -> None:
    assert client.app.state.warmup is None  # type: ignore[attr-defined]
    assert client.get("/readyz").status_code == 200
