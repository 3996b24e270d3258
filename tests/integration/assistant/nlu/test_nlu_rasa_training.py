"""Training on a whole public Rasa data set (seconds, so not in the unit tier)."""

from __future__ import annotations

from companion.assistant.nlu import NLU, load_rasa_nlu
from companion.llm.embeddings import FakeEmbedder
from nlu_fixtures import DATASETS, TODAY

FINANCIAL = DATASETS / "rasa-financial-demo"


def test_rasa_financial_demo_trains_and_parses() -> None:
    data = load_rasa_nlu([FINANCIAL / "nlu.yml", FINANCIAL / "domain.yml"])
    nlu = NLU.from_data(data, embedder=FakeEmbedder(), cache_dir=None)
    assert set(nlu.intents) == set(data.intents)
    result = nlu.parse("what's my credit card balance?", today=TODAY)
    assert result.intent in data.intents
