"""The evaluation harness on the shipped held-out set, as the demo users, on the demo data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from companion.assistant.evaluation import load_eval_set, resolve_period
from companion.bootstrap import Container
from companion.cli.evaluation import run_eval
from companion.errors import ValidationFailed


def test_the_held_out_set_covers_every_contract_intent() -> None:
    examples = load_eval_set()
    assert len(examples) >= 300
    intents = {e.intent for e in examples}
    assert {"cash_balance", "inventory_valuation", "void_document", "out_of_scope"} <= intents
    assert len(intents) == 36


def test_symbolic_periods_resolve_on_the_company_calendar() -> None:
    today = dt.date(2026, 3, 15)
    assert resolve_period("last_month", today, 1) == {"start": "2026-02-01", "end": "2026-02-28"}
    assert resolve_period("2026-01-01..2026-03-31", today, 7) == {
        "start": "2026-01-01",
        "end": "2026-03-31",
    }
    with pytest.raises(ValidationFailed):
        resolve_period("someday", today, 1)


def test_a_broken_set_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("examples:\n  - text: hi\n")
    with pytest.raises(ValidationFailed, match="needs 'text' and 'intent'"):
        load_eval_set(bad)
    bad.write_text("not: [valid")
    with pytest.raises(ValidationFailed):
        load_eval_set(bad)


def test_held_out_accuracy_stays_above_the_floor(demo_container: Container) -> None:
    """A regression gate well above the brief's 85% floor (the benchmark reports the figure)."""
    report = run_eval(demo_container, load_eval_set())
    assert report.count >= 300
    assert report.intent_accuracy >= 0.90, report.format()
    assert report.entity_accuracy is not None and report.entity_accuracy >= 0.8
