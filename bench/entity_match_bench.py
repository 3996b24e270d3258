"""Master-data matching at a large company's size: 20,000 customers, 2,000 suppliers, 5,000 items.

    .venv/bin/python bench/entity_match_bench.py [--rounds 5] [--baseline OLD_master.py]

Names are made as ``bench/bulk_company.py`` makes its big company's ("Golden Traders Dhaka",
"<that> Supply", "Copper Hinge Large"), plus 6 warehouses and 4 bank accounts. 50 messages:
30 without a name of the company's (as chat turns mostly are) and 20 naming one in full, with
a typo, in part, in lower case or a name the company lacks. Each message is timed through
``match_master`` alone and through ``extract_entities`` (what a parse spends on entities:
the matcher, unknown-name reporting and the other extractors); one warm-up pass, then
``--rounds`` timed passes. Prints p50 / p95 / max per message, wall and CPU, with the load.

``--baseline`` takes a ``master.py`` of another revision (``git show
HEAD~1:src/companion/assistant/nlu/entities/master.py > /tmp/old_master.py``): both match
every message, interleaved in the same run, and every answer (matches, ambiguous candidates,
unknown names, all entities) is compared; the script exits 1 if any differs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

from bulk_company import ADJ, MATERIAL, NOUN, SIZE, THING, TOWN  # noqa: E402
from common import p as percentile  # noqa: E402

from companion.assistant.nlu import entities as entities_module  # noqa: E402
from companion.assistant.nlu.entities import extract_entities  # noqa: E402
from companion.assistant.nlu.entities import master as current  # noqa: E402

TODAY = dt.date(2026, 11, 20)
WAREHOUSES = ["Dhaka Central Warehouse", "Chattogram Port Depot", "Khulna Depot", "Rangpur Hub",
              "Sylhet Store", "Gazipur Factory Store"]  # fmt: skip
BANKS = ["Dutch-Bangla Bank Current", "BRAC Bank Savings", "City Bank Operating", "Cash in Hand"]

WITHOUT_NAMES = [
    "what's our cash balance?",
    "show me the receivables aging",
    "what do we owe our suppliers by age",
    "cash flow this month",
    "list purchase orders awaiting approval",
    "what's waiting for my approval?",
    "stock levels in all warehouses",
    "which items are below reorder level?",
    "give me the dashboard summary",
    "sales last month",
    "which invoices are overdue by more than 60 days?",
    "top 5 customers this year",
    "list our customers",
    "profit and loss for last quarter",
    "what is our inventory worth?",
    "how much did we sell in the first quarter compared with last year",
    "show me unpaid bills due this week",
    "invoice INV-2026-0045 status",
    "approve PO-2026-0042",
    "gross margin by month this year",
    "expenses by account last month",
    "ei mash e koto sales hoyeche?",
    "supplier der kache koto baki ache",
    "amader bank e koto taka ache",
    "pls show recievables asap",
    "invntory valuation for all warehouses pls",
    "which customers have not paid for more than 90 days and what do they owe in total",
    "record a payment of 1.5 lakh received today",
    "yes go ahead",
    "what is the company policy on annual leave?",
]
# {c}: a customer's name, {s}: a supplier's, {i}: an item's; .typo drops one letter.
WITH_NAMES = [
    "what is the balance of {c}",
    "how much does {c.typo} owe us",
    "show invoices for {c.lower}",
    "sales to {c} last month",
    "{c.first} er kache koto paoa ache?",
    "statement for {c.two} this quarter",
    "create an invoice for {c} for 20 {i}",
    "how much do we owe {s}",
    "bills from {s.typo} still open",
    "purchase orders to {s} this year",
    "stock of {i}",
    "how many {i.typo} do we have in Khulna Depot",
    "price of {i.lower}",
    "reorder {i} from {s}",
    "what does Zeta Holdings Narsingdi owe us",
    "sales of Titanium Widget XXL last month",
    "compare {c} and {c2} sales this year",
    "receipts from {c} and {c2.typo} in October",
    "move 10 {i} from Dhaka Central Warehouse to Rangpur Hub",
    "transfer 50000 from BRAC Bank Savings to City Bank Operating",
]


def master_rows(seed: int = 7) -> dict[str, list[tuple[int, str, str]]]:
    """The big company's records: (id, name, code) per kind, as bulk_company names them."""
    rng = random.Random(seed)
    names = [f"{a} {b} {t}" for t in TOWN for a in ADJ for b in NOUN]
    items = [f"{m} {t} {s}" for s in SIZE for m in MATERIAL for t in THING]
    rng.shuffle(names)
    rng.shuffle(items)
    return {
        "customers": [(n + 1, name, f"CUST-{n + 1:05d}") for n, name in enumerate(names[:20000])],
        "suppliers": [
            (n + 1, f"{name} Supply", f"SUPP-{n + 1:05d}") for n, name in enumerate(names[-2000:])
        ],
        "products": [(n + 1, name, f"SKU-{n + 1:05d}") for n, name in enumerate(items[:5000])],
        "warehouses": [(n + 1, name, f"WH{n + 1}") for n, name in enumerate(WAREHOUSES)],
        "bank_accounts": [(n + 1, name, "") for n, name in enumerate(BANKS)],
    }


def messages(rows: dict[str, list[tuple[int, str, str]]], seed: int = 11) -> list[str]:
    """The 50 messages, names filled in from the company's records."""
    rng = random.Random(seed)
    out = list(WITHOUT_NAMES)
    for template in WITH_NAMES:
        fills = {
            "c": rng.choice(rows["customers"])[1],
            "c2": rng.choice(rows["customers"])[1],
            "s": rng.choice(rows["suppliers"])[1],
            "i": rng.choice(rows["products"])[1],
        }
        text = template
        for key, name in fills.items():
            words = name.split()
            cut = rng.randrange(1, len(name) - 1)
            forms = {
                "": name,
                ".typo": name[:cut] + name[cut + 1 :] if name[cut] != " " else name[:-1],
                ".lower": name.lower(),
                ".first": words[0] if words[0] not in ADJ else " ".join(words[:2]),
                ".two": " ".join(words[:2]),
            }
            for suffix, form in forms.items():
                text = text.replace("{" + key + suffix + "}", form)
        out.append(text)
    return out


def load_baseline(path: str) -> ModuleType:
    """A ``master.py`` of another revision, as its own module."""
    spec = importlib.util.spec_from_file_location("baseline_master", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def match_answer(module: ModuleType, text: str, master: Any) -> str:
    """Every match and numbered miss of ``text``, as comparable JSON."""
    misses: list[Any] = []
    found = module.match_master(text, master, misses=misses)
    return json.dumps(
        {
            "matches": [[m.kind, m.start, m.end, m.to_dict()] for m in found],
            "misses": [
                [m.kind, m.text, m.start, m.end, [[r.id, s] for r, s in m.close]] for m in misses
            ],
        },
        sort_keys=True,
    )


def entities_answer(module: ModuleType, text: str, master: Any) -> str:
    """``extract_entities`` of ``text`` with ``module``'s matcher, as comparable JSON."""
    entities_module.match_master = module.match_master  # type: ignore[attr-defined]
    try:
        out = extract_entities(text, today=TODAY, master=master)
    finally:
        entities_module.match_master = current.match_master  # type: ignore[attr-defined]
    return json.dumps(out.entities, sort_keys=True, default=str)


def timed(call: Callable[[], str]) -> tuple[str, float, float]:
    """``call``'s answer, its wall and CPU milliseconds."""
    started, started_cpu = time.perf_counter(), time.process_time()
    answer = call()
    return (
        answer,
        (time.perf_counter() - started) * 1000,
        (time.process_time() - started_cpu) * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", help="a master.py of another revision, compared in-run")
    args = parser.parse_args()
    rows = master_rows()
    texts = messages(rows)
    variants: dict[str, tuple[ModuleType, Any]] = {}
    if args.baseline:
        base = load_baseline(args.baseline)
        variants["baseline"] = (base, base.MasterData.build(**rows))
    variants["current"] = (current, current.MasterData.build(**rows))
    for name, (module, master) in variants.items():
        started = time.perf_counter()
        for kind in module.KINDS:
            master.index(kind)
        print(f"{name}: index built in {(time.perf_counter() - started) * 1000:.0f} ms")
    stages = {"match_master": match_answer, "extract_entities": entities_answer}
    wall: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    answers: dict[tuple[str, str, str], str] = {}
    for round_no in range(args.rounds + 1):
        order = list(variants) if round_no % 2 else list(reversed(variants))
        for text in texts:
            for stage, answer_of in stages.items():
                for name in order:
                    module, master = variants[name]
                    answer, ms, cpu_ms = timed(lambda: answer_of(module, text, master))  # noqa: B023
                    answers[(stage, name, text)] = answer
                    if round_no:  # round 0 is the warm-up
                        wall.setdefault((stage, name), []).append(ms)
                        cpu.setdefault((stage, name), []).append(cpu_ms)
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    sizes = {kind: len(records) for kind, records in rows.items()}
    print(f"{len(texts)} messages x {args.rounds} rounds; records: {sizes}")
    for label, table in (("wall", wall), ("cpu", cpu)):
        for (stage, name), values in table.items():
            print(
                f"{label:4} {stage:16} {name:8}  p50 {percentile(values, 50):7.2f} ms  "
                f"p95 {percentile(values, 95):7.2f} ms  max {max(values):7.2f} ms"
            )
    print(f"uptime: {load}")
    if args.baseline:
        differ = [
            (stage, text)
            for stage in stages
            for text in texts
            if answers[(stage, "baseline", text)] != answers[(stage, "current", text)]
        ]
        print(f"answers identical: {len(texts) * len(stages) - len(differ)} of "
              f"{len(texts) * len(stages)}")  # fmt: skip
        for stage, text in differ:
            print(f"  differs ({stage}): {text!r}")
            print(f"    baseline: {answers[(stage, 'baseline', text)]}")
            print(f"    current:  {answers[(stage, 'current', text)]}")
        if differ:
            sys.exit(1)


if __name__ == "__main__":
    main()
