"""Zero leaks: a document's distinctive phrase, asked by another company or by a role without
access, brings back no chunk of that document, on both index adapters, with the real model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from index_support import ADAPTERS, open_adapter

from companion.cli.evaluation import demo_chunks
from companion.demo.documents import policy_documents
from companion.knowledge.evaluation import DEMO_COMPANY_IDS, normalise
from companion.knowledge.retrieval import ChunkDoc, Retriever
from companion.llm.embeddings import load_embedder

pytestmark = pytest.mark.slow

RESTRICTED_ID = 900
RESTRICTED_PHRASE = "Padma retention grant"
RESTRICTED = ChunkDoc(
    chunk_id=f"kb_{RESTRICTED_ID}#0",
    document_id=RESTRICTED_ID,
    company_id=DEMO_COMPANY_IDS["acme"],
    roles=("executive",),
    title="Acme executive compensation",
    section="Retention",
    text=(
        "Acme executive compensation > Retention\nThe Padma retention grant pays senior "
        "managers BDT 1,200,000 over three years, vesting each July."
    ),
    source_url="/api/v1/ai/knowledge/900",
    doc_type="POLICY",
    topic="compensation",
)
# Everyone but the role the restricted document is for.
OTHER_ROLES = ["finance", "sales", "procurement", "inventory", "viewer", "admin"]


@pytest.fixture(scope="module", params=ADAPTERS)
def retriever(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Retriever]:
    embedder = load_embedder("onnx")
    root: Path = tmp_path_factory.mktemp(f"leaks-{request.param}")
    with open_adapter(str(request.param), root, dim=embedder.dim, embedder=embedder.name) as index:
        built = Retriever(index, embedder)
        built.index([*demo_chunks(), RESTRICTED])
        yield built


def _documents_of(result_hits: list[ChunkDoc]) -> set[int]:
    return {c.document_id for c in result_hits}


def test_each_marker_is_found_by_its_own_company(retriever: Retriever) -> None:
    """The positive control: the phrase does retrieve its document for its owner."""
    for number, document in enumerate(policy_documents(), start=1):
        own = retriever.retrieve(
            document.marker, company_id=DEMO_COMPANY_IDS[document.company], roles=["viewer"]
        )
        assert number in _documents_of([h.chunk for h in own.hits]), document.marker


def test_no_chunk_of_a_document_reaches_the_other_company(retriever: Retriever) -> None:
    for number, document in enumerate(policy_documents(), start=1):
        other = "globex" if document.company == "acme" else "acme"
        for roles in (["viewer"], ["executive"], OTHER_ROLES):
            found = retriever.retrieve(
                document.marker, company_id=DEMO_COMPANY_IDS[other], roles=roles, k=50
            )
            assert found.hits, "the other company still gets its own chunks"
            assert number not in _documents_of([h.chunk for h in found.hits]), document.marker
            for hit in found.hits:
                assert hit.chunk.company_id == DEMO_COMPANY_IDS[other]
                assert normalise(document.marker) not in normalise(hit.chunk.text)


def test_a_restricted_document_stays_with_its_role(retriever: Retriever) -> None:
    acme = DEMO_COMPANY_IDS["acme"]
    for roles in ([], ["viewer"], OTHER_ROLES):
        found = retriever.retrieve(RESTRICTED_PHRASE, company_id=acme, roles=roles, k=50)
        assert RESTRICTED_ID not in _documents_of([h.chunk for h in found.hits])
        assert all("Padma" not in h.chunk.text for h in found.hits)
    globex_exec = retriever.retrieve(
        RESTRICTED_PHRASE, company_id=DEMO_COMPANY_IDS["globex"], roles=["executive"], k=50
    )
    assert RESTRICTED_ID not in _documents_of([h.chunk for h in globex_exec.hits])
    allowed = retriever.retrieve(RESTRICTED_PHRASE, company_id=acme, roles=["executive"])
    assert allowed.hits[0].chunk.document_id == RESTRICTED_ID
