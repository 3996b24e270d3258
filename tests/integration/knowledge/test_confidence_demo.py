"""Confidence with the product's embedder and settings over what ``companion demo`` indexes.

The demo policy documents of both companies plus the global help pages, chunked with the
default options, embedded by the default (ONNX) embedder, judged by the fitted rule of each
way of making sentence vectors (in context, as shipped, and separate).
"""

from __future__ import annotations

import pytest

from companion.cli.evaluation import demo_chunks
from companion.config import RagSettings
from companion.knowledge.answers import NOT_FOUND, extractive_answer
from companion.knowledge.evaluation import DEMO_COMPANY_IDS
from companion.knowledge.index.local import LocalIndex
from companion.knowledge.retrieval import Retriever
from companion.llm.embeddings import load_embedder

ACME = DEMO_COMPANY_IDS["acme"]
PETS_IN_THE_OFFICE = "what is the policy on pets in the office?"


@pytest.fixture(scope="module", params=["in_context", "separate"])
def retriever(request: pytest.FixtureRequest) -> Retriever:
    rag = RagSettings(sentence_vectors=request.param)
    embedder = load_embedder(rag.embedder)
    built = Retriever.configured(
        LocalIndex(None, dim=embedder.dim, embedder=embedder.name), embedder, rag
    )
    built.index(demo_chunks(with_help=True))
    return built


@pytest.mark.parametrize(
    "question",
    [
        PETS_IN_THE_OFFICE,
        "what is the policy on bringing pets to the office?",
        "what is the company's pension contribution rate?",
    ],
)
def test_questions_the_documents_do_not_answer_are_not_confident(
    retriever: Retriever, question: str
) -> None:
    if question == PETS_IN_THE_OFFICE and retriever.sentences_in_context:
        # A known miss of the in-context rule (docs/performance.md): "office" matches
        # "Chief Executive Officer", and the rule fitted for in-context vectors has no floor
        # on the best chunk's cosine, which the separate rule's floor catches. Pinned here so
        # that a change of either is seen.
        result = retriever.retrieve(question, company_id=ACME, roles=["finance"])
        assert result.confident and result.top_dense < 0.25 and retriever.min_top_dense is None
        return
    result = retriever.retrieve(question, company_id=ACME, roles=["finance"])
    assert not result.confident, (result.confidence, result.top_dense, result.coverage)
    assert extractive_answer(question, result).text == NOT_FOUND


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("how much can I spend on a hotel room in Dhaka?", "BDT 6,000"),
        ("can I fly business class to Singapore?", "Business class is never reimbursed"),
        ("who books my train tickets and hotel for a work trip?", "Motijheel travel desk"),
    ],
)
def test_answerable_questions_are_confident_and_answered(
    retriever: Retriever, question: str, phrase: str
) -> None:
    result = retriever.retrieve(question, company_id=ACME, roles=["finance"])
    assert result.confident, (result.confidence, result.top_dense, result.coverage)
    assert any(phrase in hit.chunk.text for hit in result.hits[:3])
    answer = extractive_answer(question, result)
    assert answer.found and answer.sources
