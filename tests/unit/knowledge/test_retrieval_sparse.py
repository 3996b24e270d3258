"""BM25: tokens, exact scores, and statistics limited to what the caller may see."""

from __future__ import annotations

import math

import numpy as np
import pytest

from companion.knowledge.sparse import (
    K1,
    B,
    SparseIndex,
    document_weights,
    query_weights,
    term_id,
    tokenize,
)


def test_tokenize_stems_drops_stop_words_and_keeps_numbers_whole() -> None:
    assert tokenize("The Hotels are booked for 3,000 taka at $0.67 per mile") == [
        "hotel",
        "book",
        "3000",
        "taka",
        "0.67",
        "mile",
    ]


def test_tokenize_matches_inflections() -> None:
    assert tokenize("approving approved approvals")[0] == tokenize("approve")[0]


def _mask(size: int, visible: list[int]) -> np.ndarray:
    mask = np.zeros(size, dtype=np.bool_)
    mask[visible] = True
    return mask


def test_scores_equal_the_bm25_formula() -> None:
    index = SparseIndex()
    index.add(0, "p", "hotel cap in Dhaka")
    index.add(1, "p", "train tickets booked by the travel desk")
    index.add(2, "p", "hotel invoices and boarding passes")
    hits = index.search("hotel", _mask(3, [0, 1, 2]), ["p"], k=5)

    docs, df = 3, 2
    avgdl = (3 + 5 + 4) / 3  # terms after stop words: hotel cap dhaka / train ticket ... etc.
    idf = math.log(1 + (docs - df + 0.5) / (df + 0.5))

    def bm25(length: int) -> float:
        return idf * (1 * (K1 + 1)) / (1 + K1 * (1 - B + B * length / avgdl))

    assert [slot for slot, _ in hits] == [0, 2]  # the shorter chunk ranks first
    assert hits[0][1] == pytest.approx(bm25(3), rel=1e-5)
    assert hits[1][1] == pytest.approx(bm25(4), rel=1e-5)


def test_invisible_slots_never_rank_even_when_they_match_best() -> None:
    index = SparseIndex()
    index.add(0, ("a",), "hotel hotel hotel cap")
    index.add(1, ("b",), "a hotel somewhere in a long sentence about other things")
    hits = index.search("hotel cap", _mask(2, [1]), [("b",)], k=5)
    assert [slot for slot, _ in hits] == [1]


def test_other_partitions_do_not_change_scores() -> None:
    """Another tenant's documents change neither the IDF nor the average length."""
    alone = SparseIndex()
    alone.add(0, "acme", "hotel cap in Dhaka is six thousand")
    alone.add(1, "acme", "leave policy annual days")
    crowded = SparseIndex()
    crowded.add(0, "acme", "hotel cap in Dhaka is six thousand")
    crowded.add(1, "acme", "leave policy annual days")
    for slot in range(2, 40):
        crowded.add(slot, "globex", "hotel hotel lodging cap for a standard city " * 3)
    mask = _mask(40, [0, 1])
    assert crowded.search("hotel cap", mask, ["acme"], 5) == alone.search(
        "hotel cap", mask[:2], ["acme"], 5
    )


def test_remove_forgets_postings_and_statistics() -> None:
    index = SparseIndex()
    index.add(0, "p", "hotel cap")
    index.add(1, "p", "leave days")
    index.remove(0)
    index.remove(0)  # a second removal is a no-op
    assert len(index) == 1
    assert index.search("hotel", _mask(2, [0, 1]), ["p"], 5) == []
    index.add(0, "p", "hotel cap again")
    assert [s for s, _ in index.search("hotel", _mask(2, [0, 1]), ["p"], 5)] == [0]


def test_re_adding_a_slot_replaces_its_text() -> None:
    index = SparseIndex()
    index.add(0, "p", "hotel cap")
    index.add(0, "p", "leave days")
    assert index.search("hotel", _mask(1, [0]), ["p"], 5) == []
    assert len(index) == 1


def test_query_without_known_terms_finds_nothing() -> None:
    index = SparseIndex()
    index.add(0, "p", "hotel cap")
    assert index.search("pension", _mask(1, [0]), ["p"], 5) == []
    assert index.search("the and of", _mask(1, [0]), ["p"], 5) == []


def test_sparse_vector_weights_for_qdrant() -> None:
    weights = document_weights(["hotel", "hotel", "cap"], avg_length=3.0)
    hotel, cap = weights[term_id("hotel")], weights[term_id("cap")]
    assert hotel > cap > 0
    assert cap == pytest.approx(1 * (K1 + 1) / (1 + K1))
    assert query_weights(["hotel", "hotel", "cap"]) == {term_id("hotel"): 1.0, term_id("cap"): 1.0}
    assert 0 <= term_id("anything") < 2**31
