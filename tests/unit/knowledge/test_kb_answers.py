"""Extractive answers from a retrieval result built by hand (no model, no database)."""

from __future__ import annotations

from companion.knowledge.answers import NOT_FOUND, extractive_answer, quoted_share, terms
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


TERMS = chunk(
    12,
    0,
    None,
    "Policy owner: Finance Manager. Currency: Bangladeshi taka (BDT).\n"
    "Advances in other currencies are converted at the bank's rate on the day of payment.",
)
LEAVE = chunk(
    14,
    4,
    "4. Carrying forward and encashment",
    "Unused annual leave above 20 days is paid at the basic salary rate.",
    title="Leave policy",
)


def test_a_figure_of_something_the_passages_never_name_is_not_found() -> None:
    # The taka and a rate are in the passages; the euro, gold and steel are not.
    for question in (
        "what is the euro to taka rate today?",
        "what's the price of gold today?",
        "euro-to-taka rate now",
    ):
        answer = extractive_answer(question, result(TERMS, LEAVE, HOTELS))
        assert answer.text == NOT_FOUND and not answer.found, question


def test_a_figure_of_something_the_passages_name_is_answered() -> None:
    leave = extractive_answer("at what rate is unused leave paid?", result(LEAVE, TERMS))
    assert leave.found and "basic salary rate" in leave.text
    bank = extractive_answer("what is the bank rate for advances?", result(TERMS, LEAVE))
    assert bank.found and "bank's rate" in bank.text
    hotel = extractive_answer("what is the hotel rate per night in Dhaka?", result(HOTELS))
    assert hotel.found and "BDT 6,000" in hotel.text
    # A policy's rate may be written in other words ("per km" for a mileage rate): only a
    # figure asked as of now must be named.
    mileage = extractive_answer("what is the mileage rate for the hotel?", result(HOTELS))
    assert mileage.found
    assert not extractive_answer("what is the mileage rate today?", result(HOTELS)).found


def test_the_share_of_what_the_question_names_that_the_quotes_hold() -> None:
    hotel = extractive_answer("what is the hotel limit per night in Dhaka?", result(HOTELS))
    assert quoted_share("what is the hotel limit per night in Dhaka?", hotel) == 1.0
    weather = extractive_answer("what's the weather in Dhaka today?", result(HOTELS))
    # Dhaka is quoted, the weather is not ("today" says when, not what).
    assert quoted_share("what's the weather in Dhaka today?", weather) == 0.5
