"""Extractive answers that answer: spans across sentences, near misses, direct leads.

Passages built by hand, as in test_kb_answers; phrased after the h2o HR policy and the
Debian Policy Manual (the documents the bench measures on), not copied from them.
"""

from __future__ import annotations

from companion.knowledge.answers import NOT_FOUND, extractive_answer
from companion.knowledge.chunking import split_sentences
from companion.knowledge.leads import direct_answer
from companion.knowledge.retrieval import ChunkDoc, Hit, RetrievalResult


def chunk(
    doc: int, ordinal: int, section: str, body: str, title: str = "Staff handbook"
) -> ChunkDoc:
    return ChunkDoc(
        chunk_id=f"kb_{doc}#{ordinal}",
        document_id=doc,
        company_id=1,
        roles=(),
        title=title,
        section=section,
        text=f"{title} > {section}\n{body}",
        source_url=f"/api/v1/ai/knowledge/{doc}",
        doc_type="POLICY",
    )


def result(*chunks: ChunkDoc) -> RetrievalResult:
    hits = [
        Hit(c, score=1.0 / (i + 1), dense_score=0.6, sparse_score=3.0, dense_rank=i, sparse_rank=i)
        for i, c in enumerate(chunks)
    ]
    return RetrievalResult(query="q", hits=hits, confident=True, top_dense=0.6, neutralised=0)


FOUNDER = chunk(
    1,
    0,
    "History",
    "Rahim Uddin worked ten years at the port authority before starting Padma Traders in 1992. "
    "He established his own company to import ceiling fans. "
    "Today the firm employs forty people.",
    title="Company history",
)
EDITORS = chunk(
    2,
    0,
    "1.3.2. Current process",
    "The Policy Editors delegate their editorial power to the mailing list.\n"
    "The current Policy Editors are:\n1. Nasrin Akter\n2. Tanvir Hasan\n"
    "Please do not write to the editors in person.",
    title="Packaging policy",
)
LOANS = chunk(
    3,
    0,
    "18. COMPUTER LOAN",
    "18.1 Confirmed staff can obtain an interest-free computer loan. "
    "The maximum loan amount will be 80% of the cost of the computer set or $2,400, whichever "
    "is lower.\n18.2 Loan repayment shall be for a maximum period of 2 years.",
)
ALLOWANCES = chunk(
    4,
    0,
    "6. HANDPHONE ALLOWANCE",
    "6.1 Staff who must stay in contact may be granted a handphone allowance of $50 per "
    "month.\n6.2 Staff in receipt of handphone allowance shall remain contactable at all times.",
)
LEAVE = chunk(
    5,
    0,
    "6. MEDICAL LEAVE",
    "6.1 Staff shall be entitled to paid outpatient medical leave not exceeding an aggregate "
    "of 14 working days in each calendar year.\n"
    "6.2 Hospitalisation leave is granted up to 60 days less any outpatient leave taken.",
)
CONDUCT = chunk(
    6,
    0,
    "2. PROFESSIONAL DECORUM",
    "2.4 A staff shall not consume liquor during official working hours.\n"
    "8.1 Staff can apply for telecommuting to balance personal commitments with work.",
)


def test_a_sentence_that_points_back_is_quoted_with_the_one_it_points_to() -> None:
    answer = extractive_answer("who established his own company to import fans?", result(FOUNDER))
    assert answer.found
    quote = next(q.text for q in answer.quotes if "established" in q.text)
    # "He established his own company" alone would not say who, which company, or when.
    assert "Rahim Uddin" in quote and "Padma Traders" in quote and "1992" in quote
    assert answer.text.count("Padma Traders") == 1  # not quoted twice


def test_a_sentence_ending_in_a_colon_is_quoted_with_the_list_it_opens() -> None:
    answer = extractive_answer("who are the current policy editors?", result(EDITORS))
    assert "Nasrin Akter" in answer.text and "Tanvir Hasan" in answer.text
    assert "write to the editors in person" not in answer.quotes[0].text


def test_a_near_miss_says_it_could_not_find_it() -> None:
    # The passages are about loans and allowances, not about the kind asked for.
    assert extractive_answer("is there a car loan scheme?", result(LOANS)).text == NOT_FOUND
    night = extractive_answer("what is the night-shift allowance?", result(ALLOWANCES, LOANS))
    assert night.text == NOT_FOUND and not night.found
    assert extractive_answer("is there a housing subsidy?", result(LOANS)).text == NOT_FOUND
    # What the passages do hold is still answered.
    loan = extractive_answer("what is the maximum computer loan amount?", result(LOANS))
    assert loan.found and "$2,400" in loan.text
    handphone = extractive_answer("how much is the handphone allowance?", result(ALLOWANCES))
    assert handphone.found and "$50 per month" in handphone.text


def test_yes_no_questions_lead_with_the_answer_the_sentence_states() -> None:
    yes = extractive_answer("Can staff apply for telecommuting?", result(CONDUCT))
    assert yes.text.startswith("Yes [1] — from your documents:\n"), yes.text
    assert "“8.1 Staff can apply for telecommuting" in yes.text
    no = extractive_answer(
        "Can a staff consume liquor during official working hours?", result(CONDUCT)
    )
    assert no.text.startswith("No [1] — from your documents:"), no.text
    interest = extractive_answer("Is the computer loan interest-free?", result(LOANS))
    assert interest.text.startswith("Yes [1]"), interest.text
    # The sentence doesn't state it (nothing about printers): quoted as before, no lead.
    unsure = extractive_answer("Can the computer loan pay for printers?", result(LOANS))
    assert unsure.found and unsure.text.startswith("From your documents:"), unsure.text


def test_how_many_questions_lead_with_the_figure() -> None:
    answer = extractive_answer(
        "How many days of outpatient medical leave do staff get per year?", result(LEAVE)
    )
    assert answer.text.startswith("14 working days [1] — from your documents:"), answer.text
    years = extractive_answer("How long is the computer loan repayment period?", result(LOANS))
    assert years.text.startswith("2 years [1]"), years.text


def test_a_sentence_in_two_overlapping_chunks_is_quoted_once() -> None:
    twin = chunk(3, 1, "18. COMPUTER LOAN", LOANS.text.split("\n", 1)[1])
    answer = extractive_answer("what is the maximum computer loan amount?", result(LOANS, twin))
    texts = [q.text for q in answer.quotes]
    assert len(texts) == len(set(texts))


def test_direct_answers_only_when_the_sentence_states_them() -> None:
    assert direct_answer(
        "Is the extra priority deprecated?", "The extra priority is deprecated."
    ) == ("Yes")
    assert (
        direct_answer(
            "Is official time-off given for screening?",
            "No official time-off is given for screening.",
        )
        == "No"
    )
    # "contrib" is not "main": the sentence is about something near.
    assert (
        direct_answer("Must packages in main comply?", "Packages in contrib must comply.") is None
    )
    # Several figures: which one answers is not plain.
    table = "Grade N1 to N3 14 working days, Grade N4 and above 18 working days"
    assert direct_answer("How many days of annual leave?", table) is None
    # A paragraph number is no figure.
    assert (
        direct_answer("How long is the lunch break?", "6.1 The lunch break is 1 hour.") == "1 hour"
    )
    assert direct_answer("What is the lunch break?", "6.1 The lunch break is 1 hour.") is None


def test_sentences_are_not_split_at_abbreviations() -> None:
    assert split_sentences(
        "Where a holiday falls on a rest day (i.e. Sunday), Monday is paid. Next rule."
    ) == ["Where a holiday falls on a rest day (i.e. Sunday), Monday is paid.", "Next rule."]
    assert split_sentences("Gifts (e.g. Flowers) may be kept. See No. 5 for more. Done.") == [
        "Gifts (e.g. Flowers) may be kept.",
        "See No. 5 for more.",
        "Done.",
    ]
    assert split_sentences("Staff posted to the U.S. Embassy are covered. Others are not.") == [
        "Staff posted to the U.S. Embassy are covered.",
        "Others are not.",
    ]
