from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from companion.assistant.nlu import ClassifierConfig, IntentClassifier, TrainingData
from companion.assistant.nlu.classifier import OUT_OF_SCOPE, cache_key, load_or_train
from companion.assistant.nlu.rasa import TrainingDataError, parse_rasa_nlu_text
from companion.llm.embeddings import FakeEmbedder

FAST = ClassifierConfig(calibration_folds=3)


def test_trains_and_ranks(tiny_data: TrainingData) -> None:
    clf = IntentClassifier.train(tiny_data, FakeEmbedder(), FAST)
    (pred,) = clf.predict(["which invoices are overdue"])
    assert pred.intent == "overdue_invoices"
    assert not pred.is_out_of_scope
    probs = [p for _, p in pred.ranking]
    assert probs == sorted(probs, reverse=True)
    assert abs(clf.probabilities(["hello"]).sum() - 1.0) < 1e-9
    assert clf.predict([]) == []
    assert clf.temperature > 0


def test_out_of_scope_by_class_and_by_threshold(tiny_data: TrainingData) -> None:
    clf = IntentClassifier.train(tiny_data, FakeEmbedder(), FAST)
    (weather,) = clf.predict(["what is the weather today"])
    assert weather.intent == OUT_OF_SCOPE and weather.is_out_of_scope
    strict = IntentClassifier(
        labels=clf.labels,
        model=clf.model,
        temperature=clf.temperature,
        config=ClassifierConfig(oos_threshold=0.999),
        embedder=clf.embedder,
    )
    (unsure,) = strict.predict(["overdue bank"])
    assert unsure.intent == OUT_OF_SCOPE and unsure.is_out_of_scope
    assert unsure.ranking[0][0] != OUT_OF_SCOPE  # the best guess is still reported
    assert unsure.confidence == pytest.approx(1 - unsure.ranking[0][1])


def test_save_and_load_round_trip(tiny_data: TrainingData, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    clf = IntentClassifier.train(tiny_data, embedder, FAST)
    path = tmp_path / "model.npz"
    clf.save(path)
    loaded = IntentClassifier.load(path, embedder)
    texts = ["approve PO-2026-0042", "hello"]
    assert np.allclose(loaded.probabilities(texts), clf.probabilities(texts))
    assert loaded.labels == clf.labels and loaded.config == clf.config
    with pytest.raises(ValueError, match="another version or embedder"):
        IntentClassifier.load(path, FakeEmbedder(dim=64))


def test_disk_cache_skips_retraining(tiny_data: TrainingData, tmp_path: Path) -> None:
    first = FakeEmbedder()
    load_or_train(tiny_data, first, cache_dir=tmp_path, config=FAST)
    assert len(list(tmp_path.glob("intent-*.npz"))) == 1
    second = FakeEmbedder()
    load_or_train(tiny_data, second, cache_dir=tmp_path, config=FAST)
    assert second.calls == 0  # loaded from disk: no training examples embedded


def test_damaged_cache_is_rebuilt(tiny_data: TrainingData, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    load_or_train(tiny_data, embedder, cache_dir=tmp_path, config=FAST)
    (path,) = tmp_path.glob("intent-*.npz")
    path.write_bytes(b"not a zip file")
    clf = load_or_train(tiny_data, FakeEmbedder(), cache_dir=tmp_path, config=FAST)
    assert clf.predict(["hello"])[0].intent == "greet"
    assert IntentClassifier.load(path, FakeEmbedder()).labels == clf.labels


def test_cache_key_depends_on_data_embedder_and_config(tiny_data: TrainingData) -> None:
    other = parse_rasa_nlu_text(
        "nlu:\n- intent: a\n  examples: |\n    - x\n- intent: b\n  examples: |\n    - y\n"
    )
    base = cache_key(tiny_data, FakeEmbedder(), FAST)
    assert base == cache_key(tiny_data, FakeEmbedder(), FAST)
    assert base != cache_key(other, FakeEmbedder(), FAST)
    assert base != cache_key(tiny_data, FakeEmbedder(dim=64), FAST)
    assert base != cache_key(tiny_data, FakeEmbedder(), ClassifierConfig(c=1.0))


def test_needs_two_intents() -> None:
    single = parse_rasa_nlu_text("nlu:\n- intent: a\n  examples: |\n    - x\n    - y\n")
    with pytest.raises(TrainingDataError, match="at least two intents"):
        IntentClassifier.train(single, FakeEmbedder())


def test_novelty_check_needs_distance_and_doubt(tiny_data: TrainingData) -> None:
    clf = IntentClassifier.train(tiny_data, FakeEmbedder(), FAST)
    assert clf.anchors.shape == (24, clf.embedder.dim)  # the in-scope examples only
    probs = np.zeros(len(clf.labels))
    probs[clf.labels.index("greet")] = 0.7
    probs[clf.labels.index(OUT_OF_SCOPE)] = 0.3
    assert not clf.decide(probs, similarity=0.9).is_out_of_scope
    far = clf.decide(probs, similarity=0.1)
    assert far.is_out_of_scope and far.similarity == 0.1
    probs[clf.labels.index("greet")], probs[clf.labels.index(OUT_OF_SCOPE)] = 0.95, 0.05
    assert not clf.decide(probs, similarity=0.1).is_out_of_scope  # sure enough: kept
    (known,) = clf.predict(["which invoices are overdue"])
    assert known.similarity == pytest.approx(1.0, abs=1e-5)
