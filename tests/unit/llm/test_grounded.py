"""Generated knowledge answers: citations checked, fallbacks to the extractive answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

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
from companion.llm.grounded import (
    MAX_ANSWER_CHARS,
    GroundedAnswer,
    build_prompt,
    check_citations,
    knowledge_answer,
    passages_of,
    stream_knowledge_answer,
    trim_answer,
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


def result(confident: bool = True) -> RetrievalResult:
    hits = [
        Hit(
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
            dense_score=0.8 - i * 0.1,
            sparse_score=None,
            dense_rank=i + 1,
            sparse_rank=None,
        )
        for i, (title, section, text) in enumerate(PASSAGES)
    ]
    return RetrievalResult(
        query=QUESTION, hits=hits, confident=confident, top_dense=0.8, neutralised=0
    )


def llm_with(tmp_path: Path, provider: FakeProvider, policy: str = "cache_ttl_s: 0") -> LLMService:
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
    assert "square brackets" in messages[0]["content"]


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
        ("Hotel stays are capped at BDT 8,000 per night.", "no_citation"),
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
