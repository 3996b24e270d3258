"""The retrain gate's verdict from the scores before and after: "no worse" on the held-out
set and the company's approved examples (accuracy, and message by message), and no batch
that contradicts the shipped data."""

from __future__ import annotations

import numpy as np

from companion.assistant.learning.company_models import CompanyModels, Score, fit_correction
from companion.assistant.learning.retrain import BORDERLINE, gate_reasons
from companion.assistant.nlu import EvalExample
from companion.assistant.nlu.linear import LinearModel, fit_softmax, softmax

SET = [EvalExample(f"message {n}", "a" if n % 2 else "b") for n in range(6)]
TRUTH = tuple(e.intent for e in SET)
SHIPPED = Score(0.99, 1000, ())


def score(predicted: tuple[str, ...], margins: tuple[float, ...] = (0.5,) * 6) -> Score:
    right = sum(p == t for p, t in zip(predicted, TRUTH, strict=True))
    return Score(right / len(TRUTH), len(TRUTH), predicted, margins)


def verdict(before: Score, after: Score, tolerance: float = 0.0) -> list[str]:
    same = score(TRUTH)
    return gate_reasons(
        heldout=(SET, before, after),
        company=(SET, same, same),
        shipped=(SHIPPED, SHIPPED),
        tolerance=tolerance,
    )


def flipped(predicted: tuple[str, ...], at: int, to: str) -> tuple[str, ...]:
    return predicted[:at] + (to,) + predicted[at + 1 :]


def test_the_same_readings_pass_and_one_fewer_right_is_refused_at_tolerance_0() -> None:
    assert verdict(score(TRUTH), score(TRUTH)) == []
    worse = score(flipped(TRUTH, 0, "c"))
    assert verdict(score(TRUTH), worse) == ["worse on the held-out set"]
    # A tolerance lets that much of a drop through (not the default).
    assert verdict(score(TRUTH), worse, tolerance=0.2) == [
        "reads a held-out message wrong that the model in use read right firmly"
    ]


def test_a_borderline_flip_passes_only_when_another_message_is_fixed() -> None:
    before_readings = flipped(TRUTH, 1, "b")  # message 1 read wrong before
    margins = (0.003, 0.4, 0.5, 0.5, 0.5, 0.5)  # message 0 read right by 0.003
    before = score(before_readings, margins)
    swapped = flipped(TRUTH, 0, "c")  # message 0 flips, message 1 is fixed
    assert verdict(before, score(swapped)) == []
    alone = flipped(before_readings, 0, "c")  # message 0 flips, nothing fixed
    assert verdict(before, score(alone)) == ["worse on the held-out set"]


def test_a_firm_reading_broken_is_refused_even_when_accuracy_holds() -> None:
    before_readings = flipped(TRUTH, 1, "b")
    before = score(before_readings, (BORDERLINE, 0.4, 0.5, 0.5, 0.5, 0.5))
    assert verdict(before, score(flipped(TRUTH, 0, "c"))) == [
        "reads a held-out message wrong that the model in use read right firmly"
    ]


def test_the_company_set_and_the_shipped_data_are_gated_too() -> None:
    same = score(TRUTH)
    reasons = gate_reasons(
        heldout=(SET, same, same),
        company=(SET, same, score(flipped(TRUTH, 2, "a"))),
        shipped=(SHIPPED, Score(0.98, 1000, ())),
        tolerance=0.0,
    )
    assert reasons == [
        "worse on the company's approved examples",
        "contradicts the shipped training data",
    ]


def test_without_corrections_the_fit_is_the_shipped_model_itself() -> None:
    """The shipped rows fitted to the shipped model's readings pull nothing: ΔW = 0 exactly,
    whereas fitting them to their labels again moves the model (the old borderline flips)."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(120, 6))
    y = (x[:, 0] + 0.5 * rng.normal(size=120) > 0).astype(np.int64)
    base = fit_softmax(x, y, 2, c=10.0)
    own = fit_correction(x, softmax(base.logits(x)), base, c=1.0, max_iter=100)
    assert np.array_equal(own.weights, base.weights) and np.array_equal(own.bias, base.bias)
    labels = fit_correction(x, np.eye(2)[y], base, c=1.0, max_iter=100)
    assert float(np.abs(labels.weights - base.weights).max()) > 1e-3
    assert isinstance(labels, LinearModel) and CompanyModels is not None
