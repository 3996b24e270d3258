"""Out-of-scope detection of the shipped NLU, measured on CLINC150.

    .venv/bin/python bench/nlu_oos.py [--embedder onnx|sentence_transformers]

Positives (truly out of scope): CLINC150 ``oos_test`` (1,000 utterances) and, for choosing the
threshold, ``oos_val`` (100). Negatives (in scope): our own ERP questions
(tests/unit/assistant/nlu/data/inscope_sample.yml; even rows tune, odd rows report) and, when
it exists, the independent held-out set's non-out_of_scope utterances. Also reports the share
of CLINC's in-domain ``test`` split (banking, travel, small talk: none of it ERP) that the NLU
calls out of scope. CLINC is evaluation data only: nothing here trains on it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from nlu_common import DEMO_MASTER, ROOT, clinc, heldout, inscope_sample

from companion.assistant.nlu import NLU, OUT_OF_SCOPE, ClassifierConfig, Understanding
from companion.assistant.nlu.metrics import oos_scores

TODAY = dt.date(2026, 11, 23)


def run(nlu: NLU, texts: list[str]) -> list[Understanding]:
    """Parse each text as a chat turn would (one at a time, demo master data)."""
    return [nlu.parse(t, today=TODAY, fiscal_year_start_month=7, master=DEMO_MASTER) for t in texts]


def is_oos(u: Understanding, threshold: float, config: ClassifierConfig) -> bool:
    """The out-of-scope decision at another confidence threshold (same novelty check)."""
    top, p = u.alternatives[0]
    novel = u.similarity < config.min_similarity and p < config.novelty_confidence
    return top == OUT_OF_SCOPE or p < threshold or novel


def report(name: str, pos: list[Understanding], neg: list[Understanding]) -> None:
    """Precision/recall/F1 of the shipped decision."""
    expected = [True] * len(pos) + [False] * len(neg)
    predicted = [u.is_out_of_scope for u in pos + neg]
    p, r, f = oos_scores(expected, predicted)
    print(f"{name:58} P {p:.3f}  R {r:.3f}  F1 {f:.3f}  (pos {len(pos)}, neg {len(neg)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="onnx")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "var" / "nlu")
    args = parser.parse_args()

    nlu = NLU.load(embedder=args.embedder, cache_dir=args.cache_dir)
    data = clinc()
    sample = inscope_sample()
    start = time.perf_counter()
    oos_val = run(nlu, [t for t, _ in data["oos_val"]])
    oos_test = run(nlu, [t for t, _ in data["oos_test"]])
    in_tune = run(nlu, [t for _, t in sample[0::2]])
    in_report = run(nlu, [t for _, t in sample[1::2]])
    clinc_in = run(nlu, [t for t, _ in data["test"]])
    elapsed = time.perf_counter() - start

    config = nlu.classifier.config
    print(
        f"embedder {nlu.classifier.embedder.name}; confidence threshold {config.oos_threshold}, "
        f"novelty: similarity < {config.min_similarity} unless confidence >= "
        f"{config.novelty_confidence}"
    )
    print("confidence-threshold sweep on the tuning half (CLINC oos_val vs even in-scope rows):")
    for t in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7):
        expected = [True] * len(oos_val) + [False] * len(in_tune)
        predicted = [is_oos(u, t, nlu.classifier.config) for u in oos_val + in_tune]
        p, r, f = oos_scores(expected, predicted)
        print(f"  {t:.2f}: P {p:.3f}  R {r:.3f}  F1 {f:.3f}")
    print()
    report("CLINC oos_test vs our in-scope sample (odd rows)", oos_test, in_report)
    in_acc = sum(u.intent == i for u, (i, _) in zip(in_report, sample[1::2], strict=True))
    print(f"  in-scope sample intent accuracy (odd rows): {in_acc / len(in_report):.3f}")
    held = heldout()
    if held:
        in_pairs = [(i, t) for i, t in held if i != OUT_OF_SCOPE]
        held_in = run(nlu, [t for _, t in in_pairs])
        report("CLINC oos_test vs held-out non-out_of_scope", oos_test, held_in)
        hits = sum(u.intent == i for u, (i, _) in zip(held_in, in_pairs, strict=True))
        print(f"  held-out in-scope intent accuracy: {hits / len(in_pairs):.3f} (no master data)")
    else:
        print("held-out set not present yet: skipped that pairing")
    share = sum(u.is_out_of_scope for u in clinc_in) / len(clinc_in)
    print(f"CLINC in-domain test ({len(clinc_in)}, none ERP) called out of scope: {share:.3f}")
    n = len(oos_val) + len(oos_test) + len(in_tune) + len(in_report) + len(clinc_in)
    print(f"{n} parses in {elapsed:.1f} s ({elapsed / n * 1000:.1f} ms each)")


if __name__ == "__main__":
    main()
