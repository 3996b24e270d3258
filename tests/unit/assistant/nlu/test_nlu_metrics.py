from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from companion.assistant.nlu import EvalExample, evaluate
from companion.assistant.nlu.entities.master import MasterData
from companion.assistant.nlu.metrics import (
    entity_matches,
    intent_accuracy,
    oos_scores,
    per_intent_scores,
    percentile,
    prf,
)


def test_intent_accuracy_and_per_intent_scores() -> None:
    expected = ["a", "a", "b", "c"]
    predicted = ["a", "b", "b", "b"]
    assert intent_accuracy(expected, predicted) == 0.5
    scores = per_intent_scores(expected, predicted)
    assert scores["a"].precision == 1.0 and scores["a"].recall == 0.5 and scores["a"].support == 2
    assert scores["b"].precision == pytest.approx(1 / 3) and scores["b"].recall == 1.0
    assert scores["c"].f1 == 0.0
    assert intent_accuracy([], []) == 0.0


def test_prf_and_oos_scores() -> None:
    assert prf(0, 0, 0) == (0.0, 0.0, 0.0)
    p, r, f = oos_scores([True, True, False, False], [True, False, True, False])
    assert (p, r, f) == (0.5, 0.5, 0.5)


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([], 95) == 0.0
    assert percentile([7.0], 95) == 7.0


@pytest.mark.parametrize(
    ("expected", "predicted", "ok"),
    [
        (50000, Decimal("50000"), True),
        ("1,200", Decimal(1200), True),
        (12.5, Decimal("12.5"), True),
        ("Rahim Traders", {"text": "rahim", "id": 1, "name": "Rahim Traders"}, True),
        (1, {"text": "rahim", "id": 1, "name": "Rahim Traders"}, True),
        ("Bengal Foods", {"text": "rahim", "id": 1, "name": "Rahim Traders"}, False),
        ("PO-2026-0042", {"text": "po-2026-42", "value": "PO-2026-0042"}, True),
        (
            {"start": "2026-10-01", "end": "2026-10-31"},
            {"start": "2026-10-01", "end": "2026-10-31"},
            True,
        ),
        (
            {"start": "2026-10-01", "end": "2026-10-30"},
            {"start": "2026-10-01", "end": "2026-10-31"},
            False,
        ),
        ({"min": 50000, "max": None}, {"min": Decimal(50000), "max": None}, True),
        ("overdue", "OVERDUE", True),
        ("overdue", None, False),
        ({"start": "2026-10-01"}, "2026-10-01", False),
    ],
)
def test_entity_matches(expected: Any, predicted: Any, ok: bool) -> None:
    assert entity_matches(expected, predicted) is ok


@dataclass
class _Result:
    intent: str
    confidence: float
    is_out_of_scope: bool
    entities: dict[str, Any] = field(default_factory=dict)


class _Stub:
    """Answers from a table; records the arguments it was called with."""

    def __init__(self, table: dict[str, _Result]) -> None:
        self.table = table
        self.calls: list[tuple[str, dt.date, int, MasterData | None]] = []

    def parse(
        self,
        text: str,
        *,
        today: dt.date,
        fiscal_year_start_month: int = 1,
        master: MasterData | None = None,
    ) -> _Result:
        self.calls.append((text, today, fiscal_year_start_month, master))
        return self.table[text]


def test_evaluate_scores_intents_entities_and_oos() -> None:
    stub = _Stub(
        {
            "cash?": _Result("cash_balance", 0.9, False),
            "sales last month": _Result(
                "sales_summary",
                0.8,
                False,
                {"period": {"start": "2026-10-01", "end": "2026-10-31"}},
            ),
            "weather": _Result("out_of_scope", 0.9, True),
            "joke": _Result("greet", 0.4, False),
        }
    )
    master = MasterData()
    examples = [
        EvalExample("cash?", "cash_balance"),
        EvalExample(
            "sales last month",
            "sales_summary",
            {"period": {"start": "2026-10-01", "end": "2026-10-31"}, "customer": "Rahim"},
        ),
        EvalExample(
            "weather", "out_of_scope", today=dt.date(2025, 1, 1), fiscal_year_start_month=7
        ),
        EvalExample("joke", "out_of_scope"),
    ]
    report = evaluate(stub, examples, today=dt.date(2026, 11, 23), master=master)
    assert report.count == 4
    assert report.intent_accuracy == 0.75
    assert report.entity_accuracy == 0.5 and report.entity_total == 2
    assert (report.oos_precision, report.oos_recall) == (1.0, 0.5)
    assert report.per_intent["out_of_scope"].recall == 0.5
    assert report.latency_p95_ms >= report.latency_p50_ms >= 0.0
    assert [e["text"] for e in report.errors] == ["sales last month", "joke"]
    assert report.errors[0]["missed_entities"] == ["customer"]
    assert stub.calls[2][1:3] == (dt.date(2025, 1, 1), 7)
    assert stub.calls[0][1:] == (dt.date(2026, 11, 23), 1, master)
    text = report.format()
    assert "intent accuracy   0.750" in text and "out_of_scope" in text
    assert report.to_dict()["per_intent"]["cash_balance"]["precision"] == 1.0


def test_evaluate_lists_messages_read_as_an_action() -> None:
    stub = _Stub(
        {
            "has PO-1 been approved?": _Result("approve_purchase_order", 0.9, False),
            "approve PO-1": _Result("approve_purchase_order", 0.9, False),
            "reject PO-2": _Result("approve_purchase_order", 0.6, False),
            "cash?": _Result("cash_balance", 0.9, False),
        }
    )
    examples = [
        EvalExample("has PO-1 been approved?", "purchase_orders"),
        EvalExample("approve PO-1", "approve_purchase_order"),
        EvalExample("reject PO-2", "reject_purchase_order"),  # wrong action: not a question
        EvalExample("cash?", "cash_balance"),
    ]
    actions = {"approve_purchase_order", "reject_purchase_order"}
    report = evaluate(stub, examples, today=dt.date(2026, 11, 23), actions=actions)
    assert report.read_as_action == ["has PO-1 been approved?"]
    assert "read as action    1 " in report.format()
    assert evaluate(stub, examples, today=dt.date(2026, 11, 23)).read_as_action == []
