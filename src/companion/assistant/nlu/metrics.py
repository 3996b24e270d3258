"""Evaluation of the NLU on a labelled set: intent accuracy, per-intent precision and recall,
entity accuracy, out-of-scope precision/recall/F1, and parse latency."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from companion.assistant.nlu.classifier import OUT_OF_SCOPE
from companion.assistant.nlu.entities.master import MasterData


class Parser(Protocol):
    """Anything with ``NLU.parse``'s signature (the NLU itself, or a test double)."""

    def parse(
        self,
        text: str,
        *,
        today: dt.date,
        fiscal_year_start_month: int = 1,
        master: MasterData | None = None,
    ) -> Any: ...


@dataclass(frozen=True)
class EvalExample:
    """One labelled utterance; entities are the expected values (a subset is fine)."""

    text: str
    intent: str
    entities: dict[str, Any] = field(default_factory=dict)
    today: dt.date | None = None
    fiscal_year_start_month: int | None = None
    master: MasterData | None = None


@dataclass(frozen=True)
class IntentScore:
    """Precision, recall and F1 of one intent."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class EvalReport:
    """Every figure ``companion eval`` prints."""

    count: int
    intent_accuracy: float
    per_intent: dict[str, IntentScore]
    entity_accuracy: float | None
    entity_total: int
    oos_precision: float
    oos_recall: float
    oos_f1: float
    latency_p50_ms: float
    latency_p95_ms: float
    errors: list[dict[str, Any]] = field(default_factory=list)
    # Messages labelled as something other than an action that were read as one.
    read_as_action: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)

    def format(self) -> str:
        """A short human-readable summary with the per-intent table."""
        ent = "n/a" if self.entity_accuracy is None else f"{self.entity_accuracy:.3f}"
        lines = [
            f"utterances        {self.count}",
            f"intent accuracy   {self.intent_accuracy:.3f}",
            f"entity accuracy   {ent} ({self.entity_total} expected values)",
            f"out of scope      P {self.oos_precision:.3f}  R {self.oos_recall:.3f}  "
            f"F1 {self.oos_f1:.3f}",
            f"parse latency     p50 {self.latency_p50_ms:.1f} ms  p95 {self.latency_p95_ms:.1f} ms",
            f"read as action    {len(self.read_as_action)} messages that ask for no action",
            "",
            f"{'intent':28} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>4}",
        ]
        for name, s in sorted(self.per_intent.items()):
            lines.append(f"{name:28} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.support:4d}")
        return "\n".join(lines)


def intent_accuracy(expected: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of exact intent matches (0.0 for an empty set)."""
    if not expected:
        return 0.0
    return sum(e == p for e, p in zip(expected, predicted, strict=True)) / len(expected)


def per_intent_scores(expected: Sequence[str], predicted: Sequence[str]) -> dict[str, IntentScore]:
    """Precision/recall/F1 per intent seen in either list."""
    scores = {}
    for name in sorted(set(expected) | set(predicted)):
        tp = sum(e == name and p == name for e, p in zip(expected, predicted, strict=True))
        fp = sum(e != name and p == name for e, p in zip(expected, predicted, strict=True))
        fn = sum(e == name and p != name for e, p in zip(expected, predicted, strict=True))
        precision, recall, f1 = prf(tp, fp, fn)
        scores[name] = IntentScore(precision, recall, f1, tp + fn)
    return scores


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall, F1 from counts (0.0 where undefined)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def oos_scores(
    expected_oos: Sequence[bool], predicted_oos: Sequence[bool]
) -> tuple[float, float, float]:
    """Out-of-scope detection as a binary task: precision, recall, F1."""
    pairs = list(zip(expected_oos, predicted_oos, strict=True))
    tp = sum(e and p for e, p in pairs)
    fp = sum(p and not e for e, p in pairs)
    fn = sum(e and not p for e, p in pairs)
    return prf(tp, fp, fn)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (0.0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


def entity_matches(expected: Any, predicted: Any) -> bool:
    """Whether a predicted entity value says what the expected one says.

    Numbers compare as Decimals; a string matches a resolved entity's id, name, text or
    normalised value (case-insensitive); dicts compare key by key on the expected keys.
    """
    if predicted is None:
        return False
    if isinstance(expected, dict):
        if not isinstance(predicted, dict):
            return False
        return all(
            entity_matches(v, predicted.get(k)) for k, v in expected.items() if v is not None
        )
    if isinstance(predicted, dict):
        return any(
            entity_matches(expected, predicted.get(key))
            for key in ("value", "id", "name", "text", "code")
            if predicted.get(key) is not None
        )
    number_e, number_p = _number(expected), _number(predicted)
    if number_e is not None and number_p is not None:
        return number_e == number_p
    return str(expected).strip().lower() == str(predicted).strip().lower()


def evaluate(
    nlu: Parser,
    examples: Iterable[EvalExample],
    *,
    today: dt.date | None = None,
    fiscal_year_start_month: int = 1,
    master: MasterData | None = None,
    actions: Collection[str] = (),
) -> EvalReport:
    """Parse every example once and score the results; per-example settings win over these.

    ``actions``: the intents that change data; a message labelled otherwise but read as one of
    them is listed in ``read_as_action`` (a question must never become an action).
    """
    expected: list[str] = []
    predicted: list[str] = []
    exp_oos: list[bool] = []
    pred_oos: list[bool] = []
    latencies: list[float] = []
    entity_hits = entity_total = 0
    errors: list[dict[str, Any]] = []
    read_as_action: list[str] = []
    for ex in examples:
        start = time.perf_counter()
        result = nlu.parse(
            ex.text,
            today=ex.today or today or dt.date.today(),
            fiscal_year_start_month=ex.fiscal_year_start_month or fiscal_year_start_month,
            master=ex.master or master,
        )
        latencies.append((time.perf_counter() - start) * 1000)
        expected.append(ex.intent)
        predicted.append(result.intent)
        exp_oos.append(ex.intent == OUT_OF_SCOPE)
        pred_oos.append(bool(result.is_out_of_scope))
        if result.intent in actions and ex.intent not in actions:
            read_as_action.append(ex.text)
        missed = []
        for name, value in ex.entities.items():
            entity_total += 1
            if entity_matches(value, result.entities.get(name)):
                entity_hits += 1
            else:
                missed.append(name)
        if result.intent != ex.intent or missed:
            errors.append(
                {
                    "text": ex.text,
                    "expected": ex.intent,
                    "predicted": result.intent,
                    "confidence": round(float(result.confidence), 3),
                    "missed_entities": missed,
                }
            )
    precision, recall, f1 = oos_scores(exp_oos, pred_oos)
    return EvalReport(
        count=len(expected),
        intent_accuracy=intent_accuracy(expected, predicted),
        per_intent=per_intent_scores(expected, predicted),
        entity_accuracy=entity_hits / entity_total if entity_total else None,
        entity_total=entity_total,
        oos_precision=precision,
        oos_recall=recall,
        oos_f1=f1,
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        errors=errors,
        read_as_action=read_as_action,
    )


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.replace(",", "").strip())
        except InvalidOperation:
            return None
    return None
