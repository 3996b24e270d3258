"""The evaluation harness on the shipped held-out set, as the demo users, on the demo data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from companion.assistant.evaluation import default_set_path, load_eval_set, resolve_period
from companion.assistant.nlu.guard import asks
from companion.bootstrap import Container
from companion.cli.evaluation import run_eval
from companion.errors import ValidationFailed

MIXED = default_set_path().with_name("heldout_mixed.yml")


def test_the_held_out_set_covers_every_contract_intent() -> None:
    examples = load_eval_set()
    assert len(examples) >= 300
    intents = {e.intent for e in examples}
    assert {"cash_balance", "inventory_valuation", "void_document", "out_of_scope"} <= intents
    assert len(intents) == 37


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
    """The English held-out set keeps its level while the NLU learns Banglish.

    0.967 on ``companion demo``'s data (docs/performance.md), 0.959 on this fixture's demo,
    whose names differ; the gate sits just under the fixture's figure.
    """
    report = run_eval(demo_container, load_eval_set())
    assert report.count >= 300
    assert report.intent_accuracy >= 0.95, report.format()
    assert report.entity_accuracy is not None and report.entity_accuracy >= 0.8
    # Nothing that asks for no action is read as one ("new customers last quarter", a noun
    # phrase over a period, is a question since issue 13).
    assert not report.read_as_action, report.read_as_action


def test_the_mixed_set_covers_every_intent_and_way_of_writing() -> None:
    raw = yaml.safe_load(MIXED.read_text(encoding="utf-8"))["examples"]
    assert len(raw) >= 200
    assert {e["kind"] for e in raw} == {"typo", "banglish", "bangla", "rambling"}
    assert len({e["intent"] for e in raw}) == 36
    # Questions about an action's subject are in it ("has PO-… been approved?" in Banglish).
    assert sum(1 for e in raw if "?" in e["text"] and e["intent"] == "purchase_orders") >= 2


def test_mixed_held_out_accuracy_and_no_question_read_as_an_action(
    demo_container: Container,
) -> None:
    """Typos, Banglish, Bangla script and rambling (issue 20): understood, no question misread.

    0.933 on ``companion demo``'s data (docs/performance.md); 0.926 on this fixture's smaller
    demo, which lacks some of the names the set uses. One message that is no question ("note
    koro: …", a request to remember, read as create_customer) is read as an action; none may
    be a question, and there may not be more.
    """
    report = run_eval(demo_container, load_eval_set(MIXED))
    assert report.count >= 200
    assert report.intent_accuracy >= 0.915, report.format()
    assert not [text for text in report.read_as_action if asks(text)]
    assert len(report.read_as_action) <= 1, report.read_as_action
    assert report.entity_accuracy is not None and report.entity_accuracy >= 0.8
