"""Extractive answers from a retrieval result built by hand (no model, no database)."""

from __future__ import annotations

from companion.knowledge.answers import NOT_FOUND, extractive_answer, terms
from companion.knowledge.retrieval import ChunkDoc, Hit, RetrievalResult


def chunk(
    doc: int,
    ordinal: int,
    section: str | None,
    body: str,
    *,
    title: str = "Travel policy",
    company: int | None = 1,
    topic: str | None = None,
) -> ChunkDoc:
    heading = f"{title} > {section}" if section else title
    return ChunkDoc(
        chunk_id=f"kb_{doc}#{ordinal}",
        document_id=doc,
        company_id=company,
        roles=(),
        title=title,
        section=section,
        text=f"{heading}\n{body}",
        source_url=f"/api/v1/ai/knowledge/{doc}",
        doc_type="POLICY",
        topic=topic,
    )


def result(*chunks: ChunkDoc, confident: bool = True) -> RetrievalResult:
    hits = [
        Hit(c, score=1.0 / (i + 1), dense_score=0.6, sparse_score=3.0, dense_rank=i, sparse_rank=i)
        for i, c in enumerate(chunks)
    ]
    return RetrievalResult(query="q", hits=hits, confident=confident, top_dense=0.6, neutralised=0)


HOTELS = chunk(
    12,
    3,
    "5. Hotels (per night, taxes included)",
    "Dhaka — Staff: BDT 6,000; Managers and above: BDT 9,000.\n"
    "Other districts — Staff: BDT 3,500; Managers and above: BDT 5,000.\n"
    "Anything above the cap is paid by the traveller unless the CEO approved it in advance.",
)
BOOKING = chunk(
    12,
    1,
    "2. Booking",
    "All tickets and hotel rooms are booked by the Motijheel travel desk. "
    "Book domestic trips at least 3 working days ahead.",
)


def test_the_most_relevant_sentences_are_quoted_with_numbered_sources() -> None:
    answer = extractive_answer(
        "How much can staff spend on a hotel in Dhaka?", result(HOTELS, BOOKING)
    )
    assert answer.found
    assert answer.quotes[0].text.startswith("Dhaka — Staff: BDT 6,000")
    assert "“Dhaka — Staff: BDT 6,000; Managers and above: BDT 9,000.” [1]" in answer.text
    first = answer.sources[0]
    assert first == {
        "id": "kb_12#3",
        "number": 1,
        "title": "Travel policy",
        "section": "5. Hotels (per night, taxes included)",
        "url": "/api/v1/ai/knowledge/12",
        "snippet": first["snippet"],
    }
    assert "BDT 6,000" in first["snippet"]
    assert "Sources: [1] Travel policy, 5. Hotels" in answer.text
    # Every [n] in the text names a source in the list, and the other way round.
    numbers = {s["number"] for s in answer.sources}
    assert numbers == {q.source for q in answer.quotes}


def test_sentences_from_a_second_chunk_get_the_next_number() -> None:
    answer = extractive_answer(
        "who books hotel rooms and what is the Dhaka hotel cap?", result(HOTELS, BOOKING)
    )
    ids = [s["id"] for s in answer.sources]
    assert ids == ["kb_12#3", "kb_12#1"]
    assert any(q.source == 2 and "Motijheel travel desk" in q.text for q in answer.quotes)
    assert "[2]" in answer.text


def test_not_confident_or_empty_is_an_honest_not_found() -> None:
    assert extractive_answer("hotel?", result(HOTELS, confident=False)).text == NOT_FOUND
    empty = extractive_answer("hotel?", result())
    assert empty.text == NOT_FOUND and not empty.found and empty.sources == []


def test_a_company_document_beats_the_global_one_on_the_same_topic() -> None:
    company = chunk(5, 0, None, "Invoices are posted by the finance desk only.", topic="invoice")
    global_help = chunk(
        90,
        0,
        None,
        "Post an invoice from chat and confirm it.",
        company=None,
        topic="invoice",
        title="How to create and post an invoice",
    )
    answer = extractive_answer("how do I post an invoice?", result(global_help, company))
    assert [s["id"] for s in answer.sources] == ["kb_5#0"]


def test_terms_drop_stop_words_and_stem() -> None:
    assert terms("What is the limit for hotels?") == {"limit", "hotel"}
    assert terms("BDT 6,000 per night") == {"bdt", "6,000", "per", "night"}


def test_passages_sharing_no_word_with_the_question_are_not_an_answer() -> None:
    # Retrieval was confident, but nothing retrieved mentions pets or offices: say so.
    answer = extractive_answer("what is the policy on pets in the office?", result(HOTELS, BOOKING))
    assert answer.text == NOT_FOUND and answer.sources == []
    # Partial overlap is retrieval's call (its calibrated `confident`), not refused here.
    partial = extractive_answer("can pets stay in hotel rooms?", result(HOTELS, BOOKING))
    assert partial.found and "hotel rooms" in partial.text
    # Words of the question found in the section heading count as found.
    hotel = extractive_answer("taxes included per night?", result(HOTELS))
    assert hotel.found
