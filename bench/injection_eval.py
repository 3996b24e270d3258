"""Instruction detector: detection and false positives on the labelled set, and its cost.

    .venv/bin/python bench/injection_eval.py [--show] [--runs 3]

1. Quality: src/companion/knowledge/eval/injection.yml, the dev part (the patterns were
   tuned on it) and the held-out part (never tuned on), and both; per transform and per
   language group with --show, and every miss and false alarm.
2. The old detector's figures on the same set, for comparison, when given with --baseline
   (a git revision to read knowledge/safety.py from, e.g. e74db59).
3. False alarms on real policy text: every sentence of the h2o HR policy
   (../shared/datasets, read, never copied) and of the shipped demo documents.
4. Cost: microseconds per character of ``find_instructions`` on the HR policy, uncached.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

from companion.demo.documents import policy_documents, read_document
from companion.knowledge.chunking import split_sentences
from companion.knowledge.injection_eval import SPLITS, Figures, load_injection_set, measure
from companion.knowledge.safety import find_instructions, looks_like_instructions

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT.parent / "shared" / "datasets" / "h2o-hr-policy" / "HR_Policy.txt"


def line(name: str, f: Figures) -> str:
    return (
        f"{name:<10} detection {f.detected}/{f.injections} = {f.detection:.3f}   "
        f"false positives {f.false_positives}/{f.ordinary} = {f.false_positive_rate:.3f}"
    )


def old_detector(revision: str) -> Callable[[str], bool]:
    """``looks_like_instructions`` as it was at ``revision``."""
    source = subprocess.run(
        ["git", "show", f"{revision}:src/companion/knowledge/safety.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("old_safety")
    sys.modules["old_safety"] = module  # dataclasses look their module up
    exec(compile(source, "old_safety.py", "exec"), module.__dict__)
    detect: Callable[[str], bool] = module.looks_like_instructions
    return detect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="list misses and false alarms")
    parser.add_argument("--baseline", help="git revision of the detector to compare with")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    examples = load_injection_set()
    detectors: list[tuple[str, Callable[[str], bool]]] = [("now", looks_like_instructions)]
    if args.baseline:
        detectors.append((f"at {args.baseline}", old_detector(args.baseline)))
    for label, detect in detectors:
        print(f"Labelled set, detector {label}:")
        for split in (*SPLITS, None):
            part = [e for e in examples if split is None or e.split == split]
            figures = measure(detect, part)
            print("  " + line(split or "all", figures))
            if args.show and split is None:
                for e in figures.misses:
                    print(f"    miss [{e.split}, {e.transform or 'plain'}] {e.source}")
                for e in figures.false_alarms:
                    print(f"    false alarm [{e.split}] {e.source}")
        if args.show:
            groups = sorted({e.transform or "plain" for e in examples if e.injection})
            for group in groups:
                part = [e for e in examples if e.injection and (e.transform or "plain") == group]
                f = measure(detect, part)
                print(f"    {group:<14} {f.detected}/{f.injections}")
    sentences = [s for s in split_sentences(POLICY.read_text("utf-8")) if s.strip()]
    sentences += [s for d in policy_documents() for s in split_sentences(read_document(d))]
    flagged = [s for s in sentences if looks_like_instructions(s)]
    print(f"Real policy sentences (h2o HR policy + demo documents): {len(flagged)} flagged")
    print(f"  of {len(sentences)} = {len(flagged) / len(sentences):.4f}")
    for sentence in flagged:
        print(f"    {sentence[:120]}")
    text = POLICY.read_text("utf-8")
    best = float("inf")
    for run in range(args.runs):
        started = time.perf_counter()
        find_instructions(text + str(run))  # a fresh string each run: nothing cached
        best = min(best, time.perf_counter() - started)
    print(f"Cost: {best * 1e6 / len(text):.2f} µs per character ({len(text):,} characters, best")
    print(f"  of {args.runs}); a 1,000-character chunk about {best * 1e6 / len(text):.1f} ms")


if __name__ == "__main__":
    main()
