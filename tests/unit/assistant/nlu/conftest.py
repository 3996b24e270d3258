"""Fixtures of the NLU unit tests: a tiny training set with the fake embedder (fast). The shipped
NLU on the real embedder is tests/integration/assistant/nlu's."""

from __future__ import annotations

import pytest

from companion.assistant.nlu import NLU, TrainingData
from companion.assistant.nlu.rasa import parse_rasa_nlu_text
from companion.llm.embeddings import FakeEmbedder
from nlu_fixtures import TINY_NLU


@pytest.fixture(scope="session")
def tiny_data() -> TrainingData:
    return parse_rasa_nlu_text(TINY_NLU, source="tiny")


@pytest.fixture(scope="session")
def fake_nlu(tiny_data: TrainingData) -> NLU:
    return NLU.from_data(tiny_data, embedder=FakeEmbedder(), cache_dir=None)
