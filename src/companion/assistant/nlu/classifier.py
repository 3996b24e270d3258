"""The intent classifier: features -> softmax regression -> temperature-calibrated probabilities,
with an out-of-scope decision; trained once per (training data, embedder, config) and cached."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from companion.assistant.nlu.features import FeatureConfig, featurise
from companion.assistant.nlu.linear import (
    LinearModel,
    fit_softmax,
    fit_temperature,
    softmax,
    stratified_folds,
)
from companion.assistant.nlu.rasa import TrainingData, TrainingDataError
from companion.llm.embeddings import Embedder

log = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"
# Bumped whenever the saved format or the training procedure changes meaning (4: Bangla words
# are whole words in the n-grams; 5: Bangla script is romanised before featurising).
FORMAT_VERSION = 5


@dataclass(frozen=True)
class ClassifierConfig:
    """Training knobs; all of them are part of the cache key."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    c: float = 10.0
    calibration_folds: int = 5
    # Below this calibrated confidence a message is out of scope. The out_of_scope class, trained
    # on many kinds of negatives, makes most of those decisions; the threshold only catches
    # what it has never seen. Chosen with CLINC150's oos_val against our in-scope tuning
    # questions (bench/nlu_oos.py: recall flat from 0.0 to 0.5) and the cross-validated
    # accuracy and out-of-scope F1 of the training data (bench/nlu_cv.py: both fall above 0.35).
    oos_threshold: float = 0.35
    # A message whose embedding is this far from every in-scope training example is out of
    # scope unless the classifier is very sure (typos and slang sit far but classify well).
    min_similarity: float = 0.4
    novelty_confidence: float = 0.9
    seed: int = 0

    def key(self) -> str:
        """A stable description for cache keys."""
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class Prediction:
    """One classified message: the decision and the full ranking."""

    intent: str
    confidence: float
    is_out_of_scope: bool
    ranking: tuple[tuple[str, float], ...]
    similarity: float = 1.0  # cosine to the nearest in-scope training example


class IntentClassifier:
    """A trained classifier bound to the embedder it was trained with."""

    def __init__(
        self,
        *,
        labels: list[str],
        model: LinearModel,
        temperature: float,
        config: ClassifierConfig,
        embedder: Embedder,
        anchors: npt.NDArray[np.float32] | None = None,
    ) -> None:
        self.labels = labels
        self.model = model
        self.temperature = temperature
        self.config = config
        self.embedder = embedder
        # Unit embeddings of the in-scope training examples, for the novelty check.
        self.anchors = anchors if anchors is not None else np.zeros((0, embedder.dim), np.float32)

    @classmethod
    def train(
        cls,
        data: TrainingData,
        embedder: Embedder,
        config: ClassifierConfig | None = None,
    ) -> IntentClassifier:
        """Fit on every example; calibrate the temperature on out-of-fold predictions."""
        config = config or ClassifierConfig()
        texts, labels, names = _arrays(data)
        features = featurise(texts, embedder, config.features)
        model = fit_softmax(features, labels, len(names), c=config.c)
        temperature = 1.0
        if config.calibration_folds > 1 and len(texts) >= 2 * config.calibration_folds:
            logits = out_of_fold_logits(features, labels, len(names), config, init=model)
            temperature = fit_temperature(logits, labels)
        in_scope = labels != names.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in names else labels >= 0
        anchors = np.ascontiguousarray(features[in_scope, : embedder.dim], dtype=np.float32)
        return cls(
            labels=names,
            model=model,
            temperature=temperature,
            config=config,
            embedder=embedder,
            anchors=anchors,
        )

    def probabilities(self, texts: list[str]) -> npt.NDArray[np.float64]:
        """Calibrated class probabilities, one row per text, columns in ``labels`` order."""
        return self._scores(texts)[0]

    def predict(self, texts: list[str], *, top_k: int = 5) -> list[Prediction]:
        """Decisions for a batch of texts."""
        if not texts:
            return []
        probs, similarity = self._scores(texts)
        return [
            self.decide(row, top_k=top_k, similarity=float(sim))
            for row, sim in zip(probs, similarity, strict=True)
        ]

    def decide(
        self, probs: npt.NDArray[np.float64], *, top_k: int = 5, similarity: float = 1.0
    ) -> Prediction:
        """Turn one probability row into an intent, a confidence and an out-of-scope flag."""
        order = np.argsort(-probs)
        ranking = tuple((self.labels[i], float(probs[i])) for i in order[:top_k])
        best, best_p = ranking[0]
        if best == OUT_OF_SCOPE:
            return Prediction(OUT_OF_SCOPE, best_p, True, ranking, similarity)
        novel = similarity < self.config.min_similarity and best_p < self.config.novelty_confidence
        if best_p < self.config.oos_threshold or novel:
            # Confidence in "none of the above" is what the best guess leaves over.
            return Prediction(OUT_OF_SCOPE, 1.0 - best_p, True, ranking, similarity)
        return Prediction(best, best_p, False, ranking, similarity)

    def _scores(self, texts: list[str]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]:
        features = featurise(texts, self.embedder, self.config.features)
        probs = softmax(self.model.logits(features), self.temperature)
        if len(self.anchors) == 0:
            return probs, np.ones(len(texts), dtype=np.float32)
        # numpy's own loop, not BLAS: OpenBLAS runs this product on two threads that wait for
        # each other on a busy machine (1.1 ms of CPU a message against einsum's 0.35 ms).
        similarity = np.einsum("ij,kj->ik", features[:, : self.embedder.dim], self.anchors)
        return probs, np.asarray(similarity.max(axis=1), dtype=np.float32)

    def save(self, path: Path) -> None:
        """Write atomically as .npz (no pickle), so a crash never leaves a torn file."""
        meta = {
            "format": FORMAT_VERSION,
            "labels": self.labels,
            "temperature": self.temperature,
            "config": asdict(self.config),
            "embedder": self.embedder.name,
            "dim": self.embedder.dim,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".nlu-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(
                    handle,
                    weights=self.model.weights,
                    bias=self.model.bias,
                    anchors=self.anchors,
                    meta=np.array(json.dumps(meta)),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path, embedder: Embedder) -> IntentClassifier:
        """Read a saved classifier; refuses one made with another embedder or format."""
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"]))
            weights = np.asarray(archive["weights"], dtype=np.float64)
            bias = np.asarray(archive["bias"], dtype=np.float64)
            anchors = np.asarray(archive["anchors"], dtype=np.float32)
        if meta.get("format") != FORMAT_VERSION or meta.get("embedder") != embedder.name:
            raise ValueError(f"{path} was made by another version or embedder")
        raw = dict(meta["config"])
        config = ClassifierConfig(**{**raw, "features": FeatureConfig(**raw["features"])})
        return cls(
            labels=list(meta["labels"]),
            model=LinearModel(weights=weights, bias=bias),
            temperature=float(meta["temperature"]),
            config=config,
            embedder=embedder,
            anchors=anchors,
        )


def out_of_fold_logits(
    features: npt.NDArray[np.float32],
    labels: npt.NDArray[np.int64],
    n_classes: int,
    config: ClassifierConfig,
    *,
    init: LinearModel | None = None,
) -> npt.NDArray[np.float64]:
    """Logits for each example from a model that did not see it (k-fold)."""
    logits = np.zeros((len(labels), n_classes))
    for fold in stratified_folds(labels, config.calibration_folds, config.seed):
        train = np.setdiff1d(np.arange(len(labels)), fold)
        model = fit_softmax(features[train], labels[train], n_classes, c=config.c, init=init)
        logits[fold] = model.logits(features[fold])
    return logits


def cache_key(data: TrainingData, embedder: Embedder, config: ClassifierConfig) -> str:
    """sha256 of the training data, the embedder's name and the training config."""
    blob = "\n".join([data.fingerprint(), embedder.name, config.key(), str(FORMAT_VERSION)])
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def load_or_train(
    data: TrainingData,
    embedder: Embedder,
    *,
    cache_dir: Path | None,
    config: ClassifierConfig | None = None,
) -> IntentClassifier:
    """The cached classifier for this data and embedder, trained and saved on a miss."""
    config = config or ClassifierConfig()
    if cache_dir is None:
        return IntentClassifier.train(data, embedder, config)
    path = cache_dir / f"intent-{cache_key(data, embedder, config)[:32]}.npz"
    if path.is_file():
        try:
            return IntentClassifier.load(path, embedder)
        except (OSError, ValueError, KeyError) as exc:
            # A damaged or stale cache file is rebuilt, never trusted.
            log.warning("discarding NLU model cache %s: %s", path, exc)
    classifier = IntentClassifier.train(data, embedder, config)
    classifier.save(path)
    return classifier


def _arrays(data: TrainingData) -> tuple[list[str], npt.NDArray[np.int64], list[str]]:
    names = data.intents
    if len(names) < 2:
        raise TrainingDataError(
            "training needs examples of at least two intents", details={"intents": names}
        )
    index = {name: i for i, name in enumerate(names)}
    texts = [e.text for e in data.examples]
    labels = np.array([index[e.intent] for e in data.examples], dtype=np.int64)
    return texts, labels, names
