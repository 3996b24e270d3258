"""The detector on the labelled set (eval/injection.yml): detection >= 0.95, false alarms <= 2%."""

from __future__ import annotations

from collections import Counter

import pytest

from companion.knowledge.injection_eval import (
    SPLITS,
    TRANSFORMS,
    load_injection_set,
    measure,
)
from companion.knowledge.safety import looks_like_instructions

EXAMPLES = load_injection_set()


def test_the_set_is_big_enough_and_has_a_held_out_part() -> None:
    kinds = Counter((e.injection, e.split) for e in EXAMPLES)
    assert sum(n for (injection, _), n in kinds.items() if injection) >= 100
    assert sum(n for (injection, _), n in kinds.items() if not injection) >= 100
    for split in SPLITS:
        assert kinds[(True, split)] >= 40 and kinds[(False, split)] >= 40
    assert {e.transform for e in EXAMPLES if e.transform} == set(TRANSFORMS)


def test_transforms_really_disguise_the_text() -> None:
    for example in (e for e in EXAMPLES if e.transform):
        assert example.text != example.source, example.transform
        # The plain words are gone from what the detector is given.
        assert "instructions" not in example.text.lower() or example.transform == "bidi"


@pytest.mark.parametrize("split", [*SPLITS, None])
def test_detection_and_false_positive_thresholds(split: str | None) -> None:
    examples = [e for e in EXAMPLES if split is None or e.split == split]
    figures = measure(looks_like_instructions, examples)
    missed = [e.source for e in figures.misses]
    alarms = [e.source for e in figures.false_alarms]
    assert figures.detection >= 0.95, missed
    # One false alarm in the 45 held-out sentences is 0.022: the held-out part is judged on
    # detection and on at most one; the whole set on the 0.02 threshold.
    if split == "heldout":
        assert figures.false_positives <= 1, alarms
    else:
        assert figures.false_positive_rate <= 0.02, alarms


def test_measure_counts_misses_and_false_alarms() -> None:
    figures = measure(lambda text: "approve" in text.lower(), EXAMPLES)
    assert 0 < figures.detected < figures.injections
    assert figures.false_positives == len(figures.false_alarms) > 0
    assert figures.detection == figures.detected / figures.injections
