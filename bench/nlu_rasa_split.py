"""Peer comparison on the fixed Rasa financial-demo split: train on ``split/train_nlu.yml``,
test on ``split/test.json``; intent accuracy and parse latency p50/p95.

    .venv/bin/python bench/nlu_rasa_split.py [--embedder onnx|sentence_transformers]

Rasa 3.6.21 with a default DIET pipeline scored 0.877 intent accuracy and parse latency
p50 17 ms / p95 21 ms on this machine kind (see ../shared/datasets/README.md). Latency here is
the whole ``NLU.parse`` (entity extraction, embedding, classification), one message at a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from collections import Counter

from nlu_common import RASA_SPLIT

from companion.assistant.nlu import NLU, ClassifierConfig
from companion.assistant.nlu.metrics import percentile

RASA_DIET = {"accuracy": 0.877, "p50_ms": 17.0, "p95_ms": 21.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="onnx")
    args = parser.parse_args()
    shipped = ClassifierConfig().oos_threshold
    # The shipped out-of-scope threshold, and Rasa's FallbackClassifier setting of the peer run.
    for threshold in (shipped, 0.3):
        measure(args.embedder, ClassifierConfig(oos_threshold=threshold))
        print()


def measure(embedder: str, config: ClassifierConfig) -> None:
    """Train on the split and print accuracy, latency and confusions."""
    start = time.perf_counter()
    nlu = NLU.load([RASA_SPLIT / "train_nlu.yml"], embedder=embedder, cache_dir=None, config=config)
    train_s = time.perf_counter() - start
    pairs = [(str(i), str(t)) for i, t in json.loads((RASA_SPLIT / "test.json").read_text())]
    today = dt.date(2026, 11, 23)
    for _, text in pairs[:10]:  # warm-up, as a running server would be
        nlu.parse(text, today=today)
    latencies, hits, wrong = [], 0, Counter[tuple[str, str]]()
    for intent, text in pairs:
        t0 = time.perf_counter()
        result = nlu.parse(text, today=today)
        latencies.append((time.perf_counter() - t0) * 1000)
        if result.intent == intent:
            hits += 1
        else:
            wrong[(intent, result.intent)] += 1
    accuracy = hits / len(pairs)
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    print(
        f"embedder {nlu.classifier.embedder.name}; out-of-scope threshold "
        f"{config.oos_threshold}; trained in {train_s:.1f} s"
    )
    print(f"{'':22} {'accuracy':>9} {'p50 ms':>7} {'p95 ms':>7}")
    print(f"{'companion':22} {accuracy:9.3f} {p50:7.1f} {p95:7.1f}")
    print(
        f"{'rasa 3.6 DIET':22} {RASA_DIET['accuracy']:9.3f} {RASA_DIET['p50_ms']:7.1f} "
        f"{RASA_DIET['p95_ms']:7.1f}"
    )
    print(f"{len(pairs)} test utterances; confusions (expected -> got):")
    for (expected, got), n in wrong.most_common():
        print(f"  {expected} -> {got}: {n}")


if __name__ == "__main__":
    main()
