"""Cross-validated intent accuracy of the shipped training data, per embedder.

    .venv/bin/python bench/nlu_cv.py [--folds 5] [--embedders onnx,sentence_transformers]

Stratified k-fold over src/companion/assistant/nlu/data/nlu.yml: each fold trains the full
pipeline on the other folds and parses the held-back utterances one by one, (a) with master
data holding every name the training data mentions (as a company's master data would), so
names are replaced by what they are, and (b) with no master data, names left as written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

from companion.assistant.nlu import (
    NLU,
    OUT_OF_SCOPE,
    ClassifierConfig,
    MasterData,
    TrainingData,
    Understanding,
    load_rasa_nlu,
)
from companion.assistant.nlu.linear import stratified_folds
from companion.assistant.nlu.understanding import default_data_dir

KINDS = ("customer", "supplier", "product", "warehouse", "bank_account")
THRESHOLDS = (0.0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)


def decided(u: Understanding, threshold: float, config: ClassifierConfig) -> str:
    """The intent at another confidence threshold (same novelty check), from the ranking."""
    top, p = u.alternatives[0]
    novel = u.similarity < config.min_similarity and p < config.novelty_confidence
    return OUT_OF_SCOPE if top == OUT_OF_SCOPE or p < threshold or novel else top


def master_from(data: TrainingData) -> MasterData:
    """Every annotated name of the training data as one company's master data."""
    names: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    for example in data.examples:
        for span in example.entities:
            if span.entity in names:
                names[span.entity].setdefault(span.value, len(names[span.entity]) + 1)
    return MasterData.build(
        customers=[(i, n) for n, i in names["customer"].items()],
        suppliers=[(i, n) for n, i in names["supplier"].items()],
        products=[(i, n) for n, i in names["product"].items()],
        warehouses=[(i, n) for n, i in names["warehouse"].items()],
        bank_accounts=[(i, n) for n, i in names["bank_account"].items()],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--embedders", default="onnx,sentence_transformers")
    args = parser.parse_args()

    data = load_rasa_nlu(default_data_dir())
    master = master_from(data)
    labels = np.array([data.intents.index(e.intent) for e in data.examples])
    folds = stratified_folds(labels, args.folds, seed=0)
    today = dt.date(2026, 11, 23)
    print(f"{len(data.examples)} examples, {len(data.intents)} intents, {args.folds} folds")
    for name in args.embedders.split(","):
        hits_master = hits_raw = 0
        swept = dict.fromkeys(THRESHOLDS, 0)
        start = time.perf_counter()
        for fold in folds:
            held = set(fold.tolist())
            train = TrainingData(
                examples=[e for i, e in enumerate(data.examples) if i not in held],
                synonyms=data.synonyms,
                lookups=data.lookups,
            )
            nlu = NLU.from_data(train, embedder=name, cache_dir=None)
            for i in fold:
                example = data.examples[int(i)]
                with_master = nlu.parse(example.text, today=today, master=master)
                without = nlu.parse(example.text, today=today)
                hits_master += with_master.intent == example.intent
                hits_raw += without.intent == example.intent
                for t in THRESHOLDS:
                    swept[t] += decided(with_master, t, nlu.classifier.config) == example.intent
        n = len(data.examples)
        print(
            f"{name:24} accuracy with master data {hits_master / n:.3f}, "
            f"without {hits_raw / n:.3f} ({time.perf_counter() - start:.0f} s)"
        )
        sweep = ", ".join(f"{t}: {hits / n:.3f}" for t, hits in swept.items())
        print(f"  with master data, by out-of-scope threshold: {sweep}")


if __name__ == "__main__":
    main()
