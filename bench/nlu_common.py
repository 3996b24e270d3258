"""Shared fixtures of the NLU benchmarks: data paths, demo master data, labelled sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from companion.assistant.nlu import MasterData

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
CLINC = DATASETS / "clinc150" / "data_full.json"
RASA_SPLIT = DATASETS / "rasa-financial-demo" / "split"
INSCOPE_SAMPLE = ROOT / "tests" / "unit" / "assistant" / "nlu" / "data" / "inscope_sample.yml"
HELDOUT = ROOT / "src" / "companion" / "assistant" / "nlu" / "eval" / "heldout.yml"

DEMO_MASTER = MasterData.build(
    customers=[
        (1, "Rahim Traders Ltd", "CUST-0001"),
        (2, "Bengal Foods", "CUST-0002"),
        (3, "Meghna Textiles", "CUST-0003"),
        (4, "Lotus Pharma", "CUST-0004"),
        (5, "Star Builders", "CUST-0005"),
    ],
    suppliers=[
        (11, "Karim Steel", "SUP-0001"),
        (12, "Padma Cement", "SUP-0002"),
        (13, "Globe Logistics", "SUP-0003"),
        (14, "Delta Plastics", "SUP-0004"),
        (15, "Eastern Cables", "SUP-0005"),
    ],
    products=[
        (21, "Cement", "ITEM-0001"),
        (22, "Steel Rods", "ITEM-0002"),
        (23, "LED Bulb", "ITEM-0003"),
        (24, "Office Chair", "ITEM-0004"),
        (25, "Paint", "ITEM-0005"),
    ],
    warehouses=[(31, "Dhaka Warehouse", "WH-01"), (32, "Chittagong Depot", "WH-02")],
    bank_accounts=[(41, "City Bank", "BA-01"), (42, "BRAC Bank", "BA-02")],
)


def clinc() -> dict[str, list[list[str]]]:
    """CLINC150 (evaluation only); a missing file is an error, not a skip."""
    data: dict[str, list[list[str]]] = json.loads(CLINC.read_text(encoding="utf-8"))
    return data


def inscope_sample() -> list[tuple[str, str]]:
    """Our own in-scope ERP questions, written apart from the training data: (intent, text)."""
    rows = yaml.safe_load(INSCOPE_SAMPLE.read_text(encoding="utf-8"))
    return [(str(intent), str(text)) for intent, text in rows]


def heldout() -> list[tuple[str, str]] | None:
    """The independent held-out set's (intent, text) pairs, if it exists (never trained on)."""
    if not HELDOUT.is_file():
        return None
    raw: Any = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
    if isinstance(raw, dict):
        raw = next((v for v in raw.values() if isinstance(v, list)), [])
    pairs = []
    for row in raw or []:
        if not isinstance(row, dict):
            continue
        text = row.get("text") or row.get("utterance") or row.get("message")
        intent = row.get("intent") or row.get("expected_intent")
        if isinstance(intent, dict):
            intent = intent.get("name")
        if text and intent:
            pairs.append((str(intent), str(text)))
    return pairs
