"""The labelled demo retrieval set is well-formed, and the evaluation arithmetic is right."""

from __future__ import annotations

from collections import Counter

import pytest

from companion.cli.evaluation import demo_chunks
from companion.demo.documents import policy_documents, read_document
from companion.knowledge.evaluation import (
    DEMO_COMPANY_IDS,
    Question,
    abstention,
    calibrate,
    evaluate,
    is_relevant,
    leave_one_out_abstention,
    load_set,
    normalise,
)
from companion.knowledge.index.local import LocalIndex
from companion.knowledge.retrieval import Retriever
from companion.llm.embeddings import FakeEmbedder


def test_the_demo_set_is_large_enough_and_covers_both_companies() -> None:
    demo = load_set()
    assert len(demo.answerable) >= 60
    assert len(demo.unanswerable) >= 15
    per_company = Counter(q.company for q in demo.answerable)
    assert set(per_company) == {"acme", "globex"} and min(per_company.values()) >= 25
    assert len({q.text for q in demo.answerable + demo.unanswerable}) == len(demo.answerable) + len(
        demo.unanswerable
    )


def test_every_labelled_passage_is_in_its_document() -> None:
    texts = {(d.company, d.kind): normalise(read_document(d)) for d in policy_documents()}
    for question in load_set().answerable:
        assert question.document is not None and question.passage is not None
        assert normalise(question.passage) in texts[(question.company, question.document)], (
            question.text
        )


def test_every_labelled_passage_lands_inside_one_chunk() -> None:
    """The label must survive chunking, or recall would be capped below 1 by construction."""
    chunks = demo_chunks()
    for question in load_set().answerable:
        assert any(is_relevant(c, question) for c in chunks), question.text


def test_relevance_needs_the_right_company_and_document() -> None:
    chunks = demo_chunks()
    question = Question("hotel?", "acme", "travel", "Motijheel travel desk")
    relevant = [c for c in chunks if is_relevant(c, question)]
    assert relevant and all(c.company_id == DEMO_COMPANY_IDS["acme"] for c in relevant)
    other = Question("hotel?", "globex", "travel", "Motijheel travel desk")
    assert not [c for c in chunks if is_relevant(c, other)]


def test_abstention_precision_and_recall() -> None:
    report = abstention([0.9, 0.8, 0.3], [0.1, 0.2, 0.85], threshold=0.5)
    assert report.precision == pytest.approx(2 / 3)  # abstained on 0.1, 0.2 (right), 0.3 (wrong)
    assert report.recall == pytest.approx(2 / 3)
    assert report.answered_rate == pytest.approx(2 / 3)


def test_calibrate_picks_a_threshold_that_separates_clean_data() -> None:
    threshold = calibrate([0.7, 0.8, 0.9], [0.1, 0.2, 0.3])
    assert 0.3 < threshold < 0.7
    report = abstention([0.7, 0.8, 0.9], [0.1, 0.2, 0.3], threshold)
    assert (report.precision, report.recall, report.answered_rate) == (1.0, 1.0, 1.0)


def test_calibrate_respects_the_precision_floor() -> None:
    answerable = [0.2, 0.6, 0.7, 0.8, 0.9]
    unanswerable = [0.1, 0.15, 0.65]
    threshold = calibrate(answerable, unanswerable, min_precision=0.9)
    assert abstention(answerable, unanswerable, threshold).precision >= 0.9


def test_leave_one_out_never_uses_the_judged_question() -> None:
    report = leave_one_out_abstention([0.7, 0.8, 0.9], [0.1, 0.2, 0.3])
    assert (report.precision, report.recall, report.answered_rate) == (1.0, 1.0, 1.0)


def test_evaluate_runs_every_mode_on_a_fake_embedder() -> None:
    embedder = FakeEmbedder()
    retriever = Retriever(LocalIndex(None, dim=embedder.dim, embedder=embedder.name), embedder)
    retriever.index(demo_chunks())
    report = evaluate(retriever, load_set())
    assert set(report.modes) == {"dense", "sparse", "hybrid"}
    # BM25 alone already finds most passages: the labels and the matching are consistent.
    assert report.modes["sparse"].recall_at_k > 0.8
    for mode in report.modes.values():
        assert 0.0 < mode.mrr <= 1.0
        assert len(mode.misses) == round((1 - mode.recall_at_k) * report.questions)
    assert len(report.answerable_scores) == report.questions
    assert len(report.unanswerable_scores) == report.unanswerable
