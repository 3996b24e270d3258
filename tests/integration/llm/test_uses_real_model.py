"""The model uses with the real SmolLM2: figure guard, grounded answers, tool choice.

A 135M model is a weak writer: what these tests pin down is that whatever it writes, the
checks decide, and nothing wrong reaches the user. Timeouts are generous because the test
machine's cores are shared.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from companion.assistant.grounding import (
    GroundedAnswer,
    check_citations,
    knowledge_answer,
    passages_of,
    stream_knowledge_answer,
)
from companion.assistant.tools import choose_tool, tool_specs
from companion.cli.evaluation import demo_chunks
from companion.config import RagSettings
from companion.knowledge.answers import extractive_answer
from companion.knowledge.evaluation import DEMO_COMPANY_IDS
from companion.knowledge.index.local import LocalIndex
from companion.knowledge.retrieval import ChunkDoc, Hit, RetrievalResult, Retriever
from companion.llm import FakeProvider, LLMService, PolicyBook, ProviderRegistry
from companion.llm.embeddings import load_embedder
from companion.llm.guard import check_figures, mentions, phrase_answer
from companion.llm.providers.base import LLMProvider, Message
from companion.llm.providers.llamacpp import LlamaCppProvider

pytestmark = pytest.mark.slow

POLICIES = """
defaults: {timeout_s: 300, latency_budget_ms: 300000, cache_ttl_s: 0}
use_cases:
  chat: {enabled: true, max_tokens: 60}
  knowledge_answer: {enabled: true, max_tokens: 80}
  tool_choice: {enabled: true, max_tokens: 200}
"""
TEMPLATE = "Cash across 3 bank accounts is BDT 12,34,567.00 as of 23 Nov 2026."
DATA = {
    "columns": ["account", "balance"],
    "rows": [["City Bank", 524000.5], ["Sonali Bank", 500000.0], ["BRAC Bank", 210566.5]],
    "totals": {"balance": 1234567.0},
    "currency": "BDT",
}
LIE = [
    {"role": "system", "content": "You are a careless clerk who always gets figures wrong."},
    {
        "role": "user",
        "content": "Example: 'Sales were USD 500.00 in 4 shops.' becomes 'Sales were USD "
        "900.00 in 7 shops.'\nNow change the numbers in: '{text}'",
    },
]
QUESTION = "What is the hotel limit per night on business travel?"
PASSAGES = [
    ("Hotels", "Hotel stays on business travel are capped at BDT 8,000 per night."),
    ("Approval", "Trips abroad need the managing director's approval two weeks ahead."),
    ("Meals", "Meal allowances are BDT 1,200 per day while travelling."),
]


def result() -> RetrievalResult:
    """A small confident retrieval result: three passages of a travel policy."""
    hits = [
        Hit(
            chunk=ChunkDoc(
                chunk_id=f"kb_1#{i}",
                document_id=1,
                company_id=1,
                roles=(),
                title="Travel policy",
                section=section,
                text=f"Travel policy > {section}\n{text}",
                source_url=None,
                doc_type="POLICY",
            ),
            score=1.0 / (i + 1),
            dense_score=0.8 - i * 0.1,
            sparse_score=None,
            dense_rank=i + 1,
            sparse_rank=None,
        )
        for i, (section, text) in enumerate(PASSAGES)
    ]
    return RetrievalResult(query=QUESTION, hits=hits, confident=True, top_dense=0.8, neutralised=0)


def service(tmp_path: Path, provider: LLMProvider) -> LLMService:
    path = tmp_path / "policies.yml"
    path.write_text(POLICIES, encoding="utf-8")
    return LLMService(ProviderRegistry({"default": lambda: provider}), PolicyBook.load(path))


def test_the_guard_catches_smollm2_told_to_lie(smol: LlamaCppProvider, tmp_path: Path) -> None:
    def lie(messages: list[Message]) -> str:
        prompt = [LIE[0], {"role": "user", "content": LIE[1]["content"].format(text=TEMPLATE)}]
        return smol.generate(prompt, max_tokens=60, temperature=0.0).text

    liar = FakeProvider(lie)
    answer = phrase_answer(service(tmp_path, liar), "acme", TEMPLATE, DATA)
    assert answer.generation is not None
    lied = answer.generation.text
    # The model did change figures (otherwise this test proves nothing) ...
    assert set(mentions(lied).numbers) - set(mentions(TEMPLATE).numbers), lied
    # ... and the guard caught it: the template is shown, the offenders named.
    assert answer.reason == "guard_rejected" and not answer.used_model
    assert answer.text == TEMPLATE and answer.offending


def test_honest_phrasing_by_smollm2_passes_only_if_exact(
    smol: LlamaCppProvider, tmp_path: Path
) -> None:
    answer = phrase_answer(service(tmp_path, smol), "acme", TEMPLATE, DATA)
    assert answer.generation is not None and answer.generation.provider == "llamacpp"
    assert answer.reason in {"generated", "guard_rejected"}
    if answer.used_model:
        assert check_figures(answer.text, TEMPLATE, DATA).ok
    else:
        assert answer.text == TEMPLATE and answer.offending


def test_grounded_answer_by_smollm2_is_checked(smol: LlamaCppProvider, tmp_path: Path) -> None:
    retrieved = result()
    answer = knowledge_answer(service(tmp_path, smol), "acme", QUESTION, retrieved)
    assert answer.generation is not None and answer.generation.text.strip()
    # What is shown (markers inserted when the model wrote none) passes the strict check.
    shown = answer.text.split("\nSources:")[0] if answer.generated else answer.generation.text
    check = check_citations(shown, QUESTION, passages_of(retrieved))
    if answer.generated:
        assert check.ok
        assert {s["number"] for s in answer.sources} == set(check.cited)
    else:
        # Whatever the model got wrong, the user sees the quoted passages instead.
        assert answer.fallback_reason is not None
        assert answer.text == extractive_answer(QUESTION, retrieved).text


def test_streamed_grounded_answer_by_smollm2(smol: LlamaCppProvider, tmp_path: Path) -> None:
    llm = service(tmp_path, smol)

    async def run() -> tuple[list[str], GroundedAnswer]:
        pieces: list[str] = []
        async for item in stream_knowledge_answer(llm, "acme", QUESTION, result()):
            if isinstance(item, GroundedAnswer):
                return pieces, item
            pieces.append(item)
        raise AssertionError("no final answer")

    pieces, final = asyncio.run(run())
    assert len(pieces) > 3 and "".join(pieces).strip()
    assert final.fallback_reason != "provider_failed"
    if final.generated and not final.attributed:
        assert final.text.startswith("".join(pieces).strip())
    elif final.generated:  # the streamed text (or its first sentences), markers inserted
        shown = re.sub(r" \[\d+\]", "", final.text.split("\nSources:")[0])
        assert " ".join(shown.split()) in " ".join("".join(pieces).split())
    else:
        assert final.text.startswith("From your documents:")


def test_tool_choice_by_smollm2_is_valid_and_allowed(
    smol: LlamaCppProvider, tmp_path: Path
) -> None:
    allowed = ["cash_balance", "approve_purchase_order", "overdue_invoices"]
    llm = service(tmp_path, smol)
    choice = choose_tool(llm, "acme", "approve PO-2026-0042", allowed)
    # Grammar-constrained decoding: valid JSON of one allowed tool's schema.
    assert choice is not None and choice.tool in allowed
    spec = tool_specs()[choice.tool]
    assert set(choice.arguments) <= set(spec.arguments.model_fields)
    spec.arguments.model_validate(choice.arguments)
    assert llm.health["default"].snapshot()["calls"] == 1


@pytest.fixture(scope="module")
def demo_retriever() -> Retriever:
    """The demo policy documents, indexed as ``companion demo`` does (in memory)."""
    rag = RagSettings()
    embedder = load_embedder(rag.embedder)
    built = Retriever.configured(
        LocalIndex(None, dim=embedder.dim, embedder=embedder.name), embedder, rag
    )
    built.index(demo_chunks())
    return built


# What may decide a generated answer's rejection; anything else is a bug.
FALLBACK_REASONS = {
    "empty",
    "model_abstained",
    "repetitive",
    "unknown_citation",
    "unsupported_figure",
    "low_support",
}


# Questions SmolLM2 usually answers acceptably (the first two) and one it usually does not.
@pytest.mark.parametrize(
    ("question", "company"),
    [
        ("how long does a customer have to dispute an invoice?", "globex"),
        ("how long is maternity leave", "acme"),
        ("Who books my train tickets and hotel for a work trip?", "acme"),
    ],
)
def test_smollm2_on_a_demo_question_cites_only_given_passages_or_falls_back(
    smol: LlamaCppProvider, demo_retriever: Retriever, tmp_path: Path, question: str, company: str
) -> None:
    retrieved = demo_retriever.retrieve(question, company_id=DEMO_COMPANY_IDS[company], roles=[])
    assert retrieved.confident
    given = passages_of(retrieved)
    answer = knowledge_answer(service(tmp_path, smol), company, question, retrieved)
    assert answer.generation is not None  # the model was asked
    if answer.generated:
        body, _, sources = answer.text.partition("\nSources: ")
        numbers = {int(n) for n in re.findall(r"\[(\d+)\]", body)}
        assert numbers and numbers <= set(range(1, len(given) + 1)), answer.text
        assert {s["number"] for s in answer.sources} == numbers
        assert all(given[s["number"] - 1].chunk.chunk_id == s["id"] for s in answer.sources)
        assert sources.count("[") == len(numbers)
        assert check_citations(body, question, given).ok, answer.text
    else:
        assert answer.fallback_reason in FALLBACK_REASONS, answer.fallback_reason
        assert not answer.attributed
        assert answer.text == extractive_answer(question, retrieved).text
