"""The sentence-level evidence behind `confident`: stored at ingestion, read at answer time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from companion.knowledge.evaluation import (
    EvalSet,
    Evidence,
    Question,
    by_company,
    f1,
    fit_evidence_rule,
    is_relevant,
)
from companion.knowledge.index.local import LocalIndex
from companion.knowledge.retrieval import Calibration, ChunkDoc, Retriever, evidence_sentences
from companion.llm.embeddings import FakeEmbedder

HOTELS = "Travel policy > Hotels\nHotels in Dhaka cost BDT 6,000 a night. Book through the desk."
TABLE = "Travel policy > Caps\n| Place | Cap |\n|---|---|\n| Dhaka | BDT 6,000 |"


def chunk(cid: str, text: str, *, document: int = 1) -> ChunkDoc:
    return ChunkDoc(cid, document, 1, (), "Travel policy", None, text, None, "POLICY")


def retriever(root: Path | None = None) -> Retriever:
    embedder = FakeEmbedder()
    index = LocalIndex(root, dim=embedder.dim, embedder=embedder.name)
    return Retriever(index, embedder, calibration=Calibration(0.5, 0.0))


def test_evidence_sentences_drop_the_heading_line_and_table_rules() -> None:
    assert evidence_sentences(chunk("a#0", HOTELS)) == [
        "Hotels in Dhaka cost BDT 6,000 a night.",
        "Book through the desk.",
    ]
    assert evidence_sentences(chunk("a#1", TABLE)) == ["| Place | Cap |", "| Dhaka | BDT 6,000 |"]


def test_indexing_stores_one_vector_per_sentence() -> None:
    r = retriever()
    r.index([chunk("a#0", HOTELS), chunk("a#1", TABLE)])
    stored = r.vector_index.sentence_vectors(["a#0", "a#1", "missing#0"])
    assert set(stored) == {"a#0", "a#1"}
    expected = r.embedder.embed(evidence_sentences(chunk("a#0", HOTELS)))
    assert stored["a#0"].shape == (2, r.embedder.dim)
    assert np.allclose(stored["a#0"], expected, atol=2e-3)  # stored in half precision


def test_evidence_is_the_best_sentence_cosine() -> None:
    r = retriever()
    r.index([chunk("a#0", HOTELS)])
    question = "Book through the desk."
    result = r.retrieve(question, company_id=1, roles=[])
    # The question is one of the sentences word for word: its cosine is 1, the chunk's less.
    assert result.evidence == pytest.approx(1.0, abs=2e-3)
    assert result.top_dense < 0.99


def test_chunks_indexed_without_sentence_vectors_are_embedded_at_answer_time() -> None:
    stored, bare = retriever(), retriever()
    stored.index([chunk("a#0", HOTELS)])
    c = chunk("a#0", HOTELS)
    bare.index_upsert([c], bare.embed_chunks([c.text]))  # as an index written before them
    assert bare.vector_index.sentence_vectors(["a#0"]) == {}
    question = "how much is a hotel in Dhaka"
    a = stored.retrieve(question, company_id=1, roles=[])
    b = bare.retrieve(question, company_id=1, roles=[])
    assert b.evidence == pytest.approx(a.evidence, abs=2e-3) and b.evidence > 0.0


def test_removing_a_document_removes_its_sentence_vectors() -> None:
    r = retriever()
    r.index([chunk("a#0", HOTELS), chunk("b#0", TABLE, document=2)])
    r.remove_document(1)
    assert set(r.vector_index.sentence_vectors(["a#0", "b#0"])) == {"b#0"}


def test_sentence_vectors_survive_a_restart(tmp_path: Path) -> None:
    first = retriever(tmp_path)
    c = chunk("a#0", HOTELS)
    first.index([c])
    first.index_upsert([chunk("b#0", TABLE)], first.embed_chunks([TABLE]))  # none stored
    again = retriever(tmp_path)
    stored = again.vector_index.sentence_vectors(["a#0", "b#0"])
    assert set(stored) == {"a#0"}
    assert np.allclose(stored["a#0"], first.vector_index.sentence_vectors(["a#0"])["a#0"])


# Answerable questions have strong sentence evidence, or weaker evidence and full coverage;
# unanswerable ones share a word now and then (coverage 0.5) but no sentence says it.
ANSWERABLE = Evidence(
    [0.70, 0.65, 0.45, 0.40, 0.60], [1.0, 0.5, 1.0, 1.0, 0.5], [0.5, 0.5, 0.4, 0.4, 0.5]
)
UNANSWERABLE = Evidence([0.35, 0.50, 0.30, 0.42], [0.5, 0.0, 0.0, 0.5], [0.3, 0.4, 0.3, 0.4])


def test_fit_evidence_rule_picks_a_weight_that_separates_the_sets() -> None:
    fit = fit_evidence_rule(ANSWERABLE, UNANSWERABLE, weights=(0.0, 0.5))
    # Without coverage (weight 0) 0.50 (unanswerable) beats 0.45 and 0.40 (answerable).
    assert fit.weight == 0.5 and fit.rule.floor is None
    report = fit.judge(ANSWERABLE, UNANSWERABLE)
    assert (report.precision, report.recall, report.answered_rate) == (1.0, 1.0, 1.0)
    alone = fit_evidence_rule(ANSWERABLE, UNANSWERABLE, weights=(0.0,))
    assert alone.judge(ANSWERABLE, UNANSWERABLE).recall < 1.0
    assert f1(fit.loo) > f1(alone.loo)


def test_judge_scores_follow_the_weight() -> None:
    fit = fit_evidence_rule(ANSWERABLE, UNANSWERABLE, weights=(0.5,))
    assert fit.judge_scores(UNANSWERABLE) == pytest.approx([0.60, 0.50, 0.30, 0.67])


def test_by_company_keeps_the_order_of_the_set() -> None:
    eval_set = EvalSet(
        [Question("q1", "acme", "travel", "x"), Question("q2", "globex", "travel", "y")],
        [Question("u1", "globex")],
    )
    a, u = by_company(
        eval_set,
        Evidence([0.1, 0.2], [0.0, 1.0], [0.3, 0.4]),
        Evidence([0.5], [0.5], [0.5]),
        "globex",
    )
    assert a == Evidence([0.2], [1.0], [0.4]) and u == Evidence([0.5], [0.5], [0.5])


def test_a_help_page_label_matches_only_that_global_page() -> None:
    question = Question("how long?", "acme", "help:confirmations", "expires after 5 minutes")
    text = "Confirmations\nA pending confirmation expires after 5 minutes."
    page = ChunkDoc("kb_1#0", 1, None, (), "C", None, text, "help/confirmations.md", "FAQ")
    other = ChunkDoc("kb_2#0", 2, None, (), "C", None, text, "help/other.md", "FAQ")
    company = ChunkDoc("kb_3#0", 3, 1, (), "C", None, text, "help/confirmations.md", "FAQ")
    assert is_relevant(page, question)
    assert not is_relevant(other, question) and not is_relevant(company, question)
