"""Fixtures of the learning-loop tests (the data and helpers are in learning_support)."""

from __future__ import annotations

from pathlib import Path

import pytest
from learning_support import Shop
from sqlalchemy.orm import Session

from companion.assistant.learning import telemetry as learning_telemetry
from companion.assistant.learning.company_models import CompanyModels, TrainParams
from companion.assistant.nlu import NLU
from companion.assistant.nlu.rasa import parse_rasa_nlu_text
from companion.llm.embeddings import FakeEmbedder
from factories import make_company, make_context
from learning_fixtures import HELDOUT, SMALL_NLU, TODAY


@pytest.fixture(scope="session", autouse=True)
def stored_telemetry() -> None:
    """Events go to the database, as in every process that bootstraps."""
    learning_telemetry.install()


@pytest.fixture(scope="session")
def small_nlu() -> NLU:
    return NLU.from_data(parse_rasa_nlu_text(SMALL_NLU), embedder=FakeEmbedder(), cache_dir=None)


@pytest.fixture
def models(small_nlu: NLU, tmp_path: Path) -> CompanyModels:
    return CompanyModels(
        small_nlu,
        tmp_path,
        heldout=lambda: list(HELDOUT),
        params=TrainParams(weight=3, max_iter=200),
        today=lambda: TODAY,
    )


@pytest.fixture
def shop(session: Session) -> Shop:
    acme, globex = make_company(session, "lacme", "BDT"), make_company(session, "lglobex")
    return Shop(
        session=session,
        user=make_context(session, acme, ["finance"]),
        reviewer=make_context(session, acme, ["admin"]),
        other_user=make_context(session, globex, ["finance"]),
        other_reviewer=make_context(session, globex, ["admin"]),
    )
