"""Generated knowledge answers: citations checked, fallbacks to the extractive answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from companion.assistant.grounding import (
    MAX_ANSWER_CHARS,
    GroundedAnswer,
    attribute,
    build_prompt,
    check_citations,
    excerpt,
    knowledge_answer,
    passages_of,
    stream_knowledge_answer,
    trim_answer,
    unlooped,
)
from companion.knowledge.answers import NOT_FOUND
from companion.knowledge.retrieval import ChunkDoc, Hit, RetrievalResult
from companion.llm import (
    FakeProvider,
    LLMBadResponse,
    LLMService,
    LLMTimeout,
    PolicyBook,
    ProviderRegistry,
)

QUESTION = "What is the hotel limit per night on business travel?"
PASSAGES = [
    (
        "Travel policy",
        "Hotels",
        "Hotel stays on business travel are capped at BDT 8,000 per night. "
        "Receipts are required for every night claimed.",
    ),
    (
        "Travel policy",
        "Approval",
        "Trips abroad need the managing director's approval two weeks before departure.",
    ),
    ("Expense policy", "Meals", "Meal allowances are BDT 1,200 per day while travelling."),
]


def hit(i: int, title: str, section: str, text: str, dense: float) -> Hit:
    return Hit(
        chunk=ChunkDoc(
            chunk_id=f"kb_1#{i}",
            document_id=1,
            company_id=1,
            roles=(),
            title=title,
            section=section,
            text=f"{title} > {section}\n{text}",
            source_url=None,
            doc_type="POLICY",
        ),
        score=1.0 / (i + 1),
        dense_score=dense,
        sparse_score=None,
        dense_rank=i + 1,
        sparse_rank=None,
    )


def result(confident: bool = True, spread: float = 0.01) -> RetrievalResult:
    """The three passages, each ``spread`` below the one before on the dense retriever."""
    hits = [hit(i, *passage, dense=0.8 - i * spread) for i, passage in enumerate(PASSAGES)]
    return RetrievalResult(
        query=QUESTION, hits=hits, confident=confident, top_dense=0.8, neutralised=0
    )


def llm_with(
    tmp_path: Path, provider: FakeProvider, policy: str = "enabled: true, cache_ttl_s: 0"
) -> LLMService:
    path = tmp_path / "policies.yml"
    path.write_text(f"use_cases:\n  knowledge_answer: {{{policy}}}\n", encoding="utf-8")
    return LLMService(ProviderRegistry({"default": lambda: provider}), PolicyBook.load(path))


GOOD = "Hotel stays on business travel are capped at BDT 8,000 per night [1]."


def test_prompt_holds_the_numbered_passages_and_the_question_only() -> None:
    messages = build_prompt(QUESTION, passages_of(result()))
    user = messages[-1]["content"]
    assert "[1] Travel policy, Hotels\nHotel stays" in user
    assert "[3] Expense policy, Meals" in user and "[4]" not in user
    assert user.endswith(f"Question: {QUESTION}")
    assert "passages only" in messages[0]["content"]
    # The worked example before it is the same for every question (a cacheable prefix).
    other = build_prompt("Who approves trips abroad?", passages_of(result()))
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[:3] == other[:3] and "Hotel" not in messages[1]["content"]


def test_lower_hits_far_below_the_top_one_are_not_given() -> None:
    assert len(passages_of(result(spread=0.01))) == 3
    assert [h.chunk.chunk_id for h in passages_of(result(spread=0.1))] == ["kb_1#0"]
    assert passages_of(result(spread=0.01), limit=2)[-1].chunk.chunk_id == "kb_1#1"


def test_a_long_passage_is_cut_to_the_sentences_that_match_the_question() -> None:
    filler = " ".join(f"Rule {n} concerns stationery orders and desk moves." for n in range(30))
    text = f"{filler} Hotel stays are capped at BDT 8,000 per night. {filler}"
    cut = excerpt(QUESTION, hit(0, "Travel policy", "Misc", text, 0.8), limit=200)
    assert "Hotel stays are capped at BDT 8,000 per night." in cut and len(cut) <= 200
    table = "| Place | Staff | |---|---| | Dhaka | **BDT 6,000** | | Sylhet | BDT 5,000 |"
    rows = excerpt("hotel limit in Sylhet", hit(0, "Travel", "Hotels", table, 0.8), limit=45)
    assert rows == "| Place | Staff |\n| Sylhet | BDT 5,000 |"  # header kept, markup dropped


def test_a_well_cited_answer_is_kept_with_its_sources(tmp_path: Path) -> None:
    provider = FakeProvider([GOOD])
    answer = knowledge_answer(llm_with(tmp_path, provider), "acme", QUESTION, result())
    assert isinstance(answer, GroundedAnswer)
    assert answer.generated and answer.found and answer.fallback_reason is None
    assert answer.text == f"{GOOD}\nSources: [1] Travel policy, Hotels"
    assert [(s["id"], s["number"]) for s in answer.sources] == [("kb_1#0", 1)]
    assert answer.sources[0]["snippet"].startswith("Hotel stays on business travel")
    assert "[1] Travel policy, Hotels" in provider.calls[0]["messages"][-1]["content"]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("Hotel stays are capped at BDT 8,000 per night [4].", "unknown_citation"),
        ("Hotel stays are capped at BDT 9,000 per night [1].", "unsupported_figure"),
        # The figure is real but in passage [3], not in the passage cited.
        ("Hotel stays are capped at BDT 1,200 per night [1].", "unsupported_figure"),
        (
            "Employees may bring pets, wear jeans and claim gym memberships freely [2].",
            "low_support",
        ),
        ("   ", "empty"),
    ],
)
def test_bad_answers_fall_back_to_the_extractive_answer(
    tmp_path: Path, reply: str, reason: str
) -> None:
    answer = knowledge_answer(llm_with(tmp_path, FakeProvider([reply])), "acme", QUESTION, result())
    assert not answer.generated and answer.fallback_reason == reason
    assert answer.found and answer.text.startswith("From your documents:")
    assert "BDT 8,000 per night" in answer.text  # the extractive quote
    assert answer.generation is not None


# A question two passages answer, each in part.
BOTH = "What are the limits for hotel stays and meal allowances?"
ATTRIBUTABLE = (
    "Hotel stays on business travel are capped at BDT 8,000 per night. "
    "Meal allowances are BDT 1,200 per day."
)


def test_a_supported_answer_without_markers_is_attributed(tmp_path: Path) -> None:
    answer = knowledge_answer(
        llm_with(tmp_path, FakeProvider([ATTRIBUTABLE])), "acme", BOTH, result()
    )
    assert answer.generated and answer.attributed and answer.fallback_reason is None
    assert answer.text == (
        "Hotel stays on business travel are capped at BDT 8,000 per night [1]. "
        "Meal allowances are BDT 1,200 per day [3].\n"
        "Sources: [1] Travel policy, Hotels; [3] Expense policy, Meals"
    )
    assert [(s["id"], s["number"]) for s in answer.sources] == [("kb_1#0", 1), ("kb_1#2", 3)]


def test_attribution_marks_sentences_without_an_end_and_list_items(tmp_path: Path) -> None:
    passages = passages_of(result())
    verdict = attribute("Receipts are required for every night claimed", QUESTION, passages)
    assert verdict.ok and verdict.text == "Receipts are required for every night claimed [1]"
    listed = attribute(
        "- Hotels: BDT 8,000 per night.\n- Meals: BDT 1,200 per day.", BOTH, passages
    )
    assert listed.text == "- Hotels: BDT 8,000 per night [1].\n- Meals: BDT 1,200 per day [3]."
    assert listed.cited == [1, 3]
    # Without quotes to focus on, a passage supports with all its sentences.
    assert attribute("Trips abroad need the managing director's approval.", QUESTION, passages).ok
    reply = "The answer is: Hotel stays are capped at BDT 8,000 per night."
    answer = knowledge_answer(llm_with(tmp_path, FakeProvider([reply])), "acme", QUESTION, result())
    assert answer.attributed and answer.text.startswith("Hotel stays are capped at BDT 8,000 per")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        # One sentence no passage supports spoils the answer.
        (
            "Hotel stays are capped at BDT 8,000 per night. "
            "Employees may bring pets and wear jeans.",
            "low_support",
        ),
        ("Hotel stays are capped at BDT 9,000 per night.", "unsupported_figure"),
        ("Hotel stays are capped at USD 8,000 per night.", "unsupported_figure"),
        ("Hotel stays are capped at BDT 8,000 per week.", "unsupported_figure"),  # its unit
        # BDT 1,200 is a figure of the meals passage, not of anything about hotels.
        ("Hotel stays are capped at BDT 1,200 per night.", "unsupported_figure"),
        # True of passage [2], but not what the extractive answer quotes for the question.
        ("Trips abroad need the managing director's approval.", "low_support"),
        # The question's own words claim nothing a passage confirms.
        ("Yes, there is a hotel limit per night on business travel.", "low_support"),
        ("The answer is: 8,000.", "unsupported_figure"),  # a lone figure is a guess
        ("The hotel limit is capped.", "low_support"),  # one word beyond the question
        ("The passages do not say what the hotel limit is.", "model_abstained"),
        ("I cannot find the hotel limit in the passages.", "model_abstained"),
        (
            "Hotel stays are booked when the hotel stays are booked by the hotel stays desk.",
            "repetitive",
        ),
    ],
)
def test_unsupported_answers_without_markers_fall_back(
    tmp_path: Path, reply: str, reason: str
) -> None:
    answer = knowledge_answer(llm_with(tmp_path, FakeProvider([reply])), "acme", QUESTION, result())
    assert not answer.generated and not answer.attributed
    assert answer.fallback_reason == reason
    assert answer.text.startswith("From your documents:") and "BDT 8,000 per night" in answer.text


def test_written_markers_get_the_strict_check_not_attribution(tmp_path: Path) -> None:
    # Attribution would give the second sentence passage [3]; one marker written means the
    # model's citations are checked as written, and [1] does not state BDT 1,200.
    reply = "Hotel stays are capped at BDT 8,000 per night [1]. Meals are BDT 1,200 per day."
    answer = knowledge_answer(llm_with(tmp_path, FakeProvider([reply])), "acme", BOTH, result())
    assert not answer.generated and answer.fallback_reason == "unsupported_figure"
    assert attribute(reply.replace(" [1]", ""), BOTH, passages_of(result())).ok


def test_a_looping_answer_is_cut_at_the_first_repeated_sentence() -> None:
    looping = f"{GOOD} Receipts are required [1]. {GOOD} Receipts are required [1]."
    assert unlooped(looping) == f"{GOOD} Receipts are required [1]."
    assert unlooped(GOOD) == GOOD


def test_citation_lists_and_support_are_measured() -> None:
    passages = passages_of(result())
    check = check_citations(
        "Hotels are capped at BDT 8,000 per night [1, 3], meals at BDT 1,200 per day [3].",
        QUESTION,
        passages,
    )
    assert check.ok and check.cited == [1, 3] and check.support >= 0.6


def test_not_confident_retrieval_asks_no_model(tmp_path: Path) -> None:
    provider = FakeProvider([GOOD])
    answer = knowledge_answer(llm_with(tmp_path, provider), "acme", QUESTION, result(False))
    assert answer.text == NOT_FOUND and not answer.found
    assert answer.fallback_reason == "not_found" and provider.calls == []


def test_policy_off_and_provider_failure_fall_back(tmp_path: Path) -> None:
    off = FakeProvider([GOOD])
    answer = knowledge_answer(llm_with(tmp_path, off, "enabled: false"), "acme", QUESTION, result())
    assert answer.fallback_reason == "policy_off" and off.calls == []
    failing = FakeProvider([GOOD])
    failing.fail_next(LLMTimeout("slow"))
    answer = knowledge_answer(llm_with(tmp_path, failing), "acme", QUESTION, result())
    assert answer.fallback_reason == "provider_failed" and not answer.generated
    assert answer.text.startswith("From your documents:")


async def collect(stream: AsyncIterator[str | GroundedAnswer]) -> tuple[list[str], GroundedAnswer]:
    pieces: list[str] = []
    final: GroundedAnswer | None = None
    async for item in stream:
        assert final is None, "nothing may follow the final answer"
        if isinstance(item, GroundedAnswer):
            final = item
        else:
            pieces.append(item)
    assert final is not None
    return pieces, final


def test_stream_yields_tokens_then_the_checked_answer(tmp_path: Path) -> None:
    llm = llm_with(tmp_path, FakeProvider([GOOD]))
    pieces, final = asyncio.run(collect(stream_knowledge_answer(llm, "acme", QUESTION, result())))
    assert len(pieces) > 5 and "".join(pieces) == GOOD
    assert final.generated and final.text.startswith(GOOD)


def test_stream_attributes_an_answer_without_markers(tmp_path: Path) -> None:
    llm = llm_with(tmp_path, FakeProvider([ATTRIBUTABLE]))
    pieces, final = asyncio.run(collect(stream_knowledge_answer(llm, "acme", BOTH, result())))
    assert "".join(pieces) == ATTRIBUTABLE  # what streamed is the model's text, unmarked
    assert final.generated and final.attributed
    assert final.text.startswith(
        "Hotel stays on business travel are capped at BDT 8,000 per night [1]."
    )
    assert final.text.endswith("Sources: [1] Travel policy, Hotels; [3] Expense policy, Meals")
    bad = llm_with(tmp_path, FakeProvider(["Hotels cost BDT 9,000 a night."]))
    pieces, final = asyncio.run(collect(stream_knowledge_answer(bad, "acme", QUESTION, result())))
    assert pieces and not final.generated and final.fallback_reason == "unsupported_figure"
    assert final.text.startswith("From your documents:")


def test_stream_stops_when_the_model_loops(tmp_path: Path) -> None:
    looping = " ".join(["The minibar is never reimbursed."] * 40)
    llm = llm_with(tmp_path, FakeProvider([looping]))
    pieces, final = asyncio.run(collect(stream_knowledge_answer(llm, "acme", QUESTION, result())))
    streamed = "".join(pieces)
    # Stopped as soon as the repeat is whole, well before the 500-character cap.
    assert streamed == "The minibar is never reimbursed. The minibar is never reimbursed."
    assert not final.generated and final.fallback_reason == "low_support"


def test_stream_stops_at_a_blank_line_and_keeps_the_first_paragraph(tmp_path: Path) -> None:
    reply = (
        "Hotel stays are capped at BDT 8,000 per night.\n\n[4] Made-up policy\nBDT 9,000 a night."
    )
    llm = llm_with(tmp_path, FakeProvider([reply]))
    pieces, final = asyncio.run(collect(stream_knowledge_answer(llm, "acme", QUESTION, result())))
    assert "Made-up" not in "".join(pieces)  # stopped at the blank line
    assert final.generated and final.attributed
    assert final.text.split("\nSources:")[0] == "Hotel stays are capped at BDT 8,000 per night [1]."


def test_stream_falls_back_after_a_bad_answer_or_no_model(tmp_path: Path) -> None:
    llm = llm_with(tmp_path, FakeProvider(["Hotels cost BDT 9,000 a night [1]."]))
    pieces, final = asyncio.run(collect(stream_knowledge_answer(llm, "acme", QUESTION, result())))
    assert pieces and final.fallback_reason == "unsupported_figure"
    assert final.text.startswith("From your documents:")
    quiet = FakeProvider([GOOD])
    pieces, final = asyncio.run(
        collect(stream_knowledge_answer(llm_with(tmp_path, quiet), "acme", QUESTION, result(False)))
    )
    assert pieces == [] and final.fallback_reason == "not_found" and quiet.calls == []


def test_stream_failure_before_any_token_falls_back(tmp_path: Path) -> None:
    provider = FakeProvider([GOOD])
    provider.fail_next(LLMBadResponse("broken"))
    pieces, final = asyncio.run(
        collect(stream_knowledge_answer(llm_with(tmp_path, provider), "acme", QUESTION, result()))
    )
    assert pieces == [] and final.fallback_reason == "provider_failed"
    assert final.found and not final.generated


class DiesMidStream(FakeProvider):
    """Streams two pieces, then the connection breaks."""

    async def stream(self, prompt: object, **kwargs: object) -> AsyncIterator[str]:
        yield "Hotel stays"
        yield " are capped"
        raise LLMBadResponse("connection reset mid-stream")


def test_stream_dying_midway_ends_with_the_extractive_answer(tmp_path: Path) -> None:
    llm = llm_with(tmp_path, DiesMidStream([GOOD]))
    pieces, final = asyncio.run(collect(stream_knowledge_answer(llm, "acme", QUESTION, result())))
    assert pieces == ["Hotel stays", " are capped"]
    assert final.fallback_reason == "provider_failed" and not final.generated
    assert final.text.startswith("From your documents:")
    assert llm.health["default"].consecutive_failures == 1


RAMBLING = GOOD + " " + " ".join(["Receipts are required for every night claimed [1]."] * 40)


def test_a_rambling_stream_is_stopped_and_cut_to_whole_sentences(tmp_path: Path) -> None:
    llm = llm_with(tmp_path, FakeProvider([RAMBLING]))
    pieces, final = asyncio.run(collect(stream_knowledge_answer(llm, "acme", QUESTION, result())))
    streamed = "".join(pieces)
    assert len(streamed) < len(RAMBLING) and len(streamed) <= MAX_ANSWER_CHARS + 20
    assert final.generated
    answer = final.text.split("\nSources:")[0]
    assert answer.startswith(GOOD) and answer.endswith("[1].")
    assert len(answer) <= MAX_ANSWER_CHARS


def test_trim_answer_keeps_whole_sentences() -> None:
    assert trim_answer("Short [1].") == "Short [1]."
    text = "Hotels are capped at BDT 8,000 per night [1]. Receipts are required [1]."
    assert trim_answer(text, 50) == "Hotels are capped at BDT 8,000 per night [1]."
    assert trim_answer("x" * 60, 50) == "x" * 50  # no sentence end: a hard cut
