"""Fitting the abstention rule (cosine floor + confidence threshold) and judging it."""

from __future__ import annotations

import pytest

from companion.knowledge.evaluation import (
    Rule,
    Scores,
    decision_abstention,
    fit_rule,
    leave_one_out_rule,
    rule_abstention,
)
from companion.knowledge.index.local import LocalIndex
from companion.knowledge.retrieval import Calibration, ChunkDoc, Retriever
from companion.llm.embeddings import FakeEmbedder

# Answerable: high confidence, best cosine >= 0.30. Unanswerable: one hides behind a high
# confidence (its topic word matched by accident) but its best cosine is low.
ANSWERABLE = Scores([0.70, 0.80, 0.90, 0.75], [0.30, 0.40, 0.50, 0.35])
UNANSWERABLE = Scores([0.20, 0.30, 0.85], [0.10, 0.20, 0.22])


def test_the_floor_sits_under_every_answerable_best_cosine() -> None:
    rule = fit_rule(ANSWERABLE, UNANSWERABLE)
    assert rule.floor == 0.29  # 0.30 - 0.005, rounded down to 0.01
    report = rule_abstention(ANSWERABLE, UNANSWERABLE, rule)
    assert (report.precision, report.recall, report.answered_rate) == (1.0, 1.0, 1.0)


def test_without_the_floor_the_accidental_match_is_answered() -> None:
    rule = fit_rule(ANSWERABLE, UNANSWERABLE, floor=False)
    assert rule.floor is None
    report = rule_abstention(ANSWERABLE, UNANSWERABLE, rule)
    assert report.recall == pytest.approx(2 / 3) and report.answered_rate == 1.0


def test_gated_pushes_questions_under_the_floor_below_any_threshold() -> None:
    rule = Rule(threshold=0.5, floor=0.25)
    assert rule.gated(Scores([0.9, 0.9], [0.3, 0.2])) == [0.9, -2.0]
    assert Rule(0.5).gated(Scores([0.9], [0.2])) == [0.9]


def test_leave_one_out_refits_without_the_judged_question() -> None:
    report = leave_one_out_rule(ANSWERABLE, UNANSWERABLE)
    # Left out, the lowest answerable cosine (0.30) is under the floor fitted on the rest.
    assert report.answered_rate == pytest.approx(3 / 4)
    assert report.recall == 1.0 and report.precision == pytest.approx(3 / 4)


def test_decisions_count_like_scores() -> None:
    report = decision_abstention([True, True, False], [False, True])
    assert report.precision == pytest.approx(1 / 2)
    assert report.recall == pytest.approx(1 / 2)
    assert report.answered_rate == pytest.approx(2 / 3)


def test_the_retriever_applies_the_floor() -> None:
    embedder = FakeEmbedder()
    chunk = ChunkDoc("a#0", 1, 1, (), "Doc", None, "hotel cap in Dhaka", None, "POLICY")
    results = {}
    for floor in (None, 0.99):
        retriever = Retriever(
            LocalIndex(None, dim=embedder.dim, embedder=embedder.name),
            embedder,
            calibration=Calibration(0.5, 0.0, min_top_dense=floor),
        )
        retriever.index([chunk])
        results[floor] = retriever.retrieve("hotel cap", company_id=1, roles=[])
    assert results[None].confident and results[None].top_dense < 0.99
    assert not results[0.99].confident and results[0.99].hits
