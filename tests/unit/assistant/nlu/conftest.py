"""Fixtures of the NLU tests: a tiny training set with the fake embedder (fast), and the shipped
NLU with the real default embedder (trained once per machine, cached in pytest's cache dir)."""

from __future__ import annotations

import pytest
from nlu_fixtures import TINY_NLU

from companion.assistant.nlu import NLU, TrainingData
from companion.assistant.nlu.rasa import parse_rasa_nlu_text
from companion.llm.embeddings import FakeEmbedder


@pytest.fixture(scope="session")
def tiny_data() -> TrainingData:
    return parse_rasa_nlu_text(TINY_NLU, source="tiny")


@pytest.fixture(scope="session")
def fake_nlu(tiny_data: TrainingData) -> NLU:
    return NLU.from_data(tiny_data, embedder=FakeEmbedder(), cache_dir=None)


@pytest.fixture(scope="session")
def real_nlu(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> NLU:
    """The shipped data on the default (ONNX) embedder; the first run trains (~25 s)."""
    cache = getattr(pytestconfig, "cache", None)  # absent under `-p no:cacheprovider`
    folder = cache.mkdir("companion-nlu-model") if cache else tmp_path_factory.mktemp("nlu-model")
    return NLU.load(cache_dir=folder)
