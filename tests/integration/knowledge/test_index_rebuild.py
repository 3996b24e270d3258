"""A missing index is rebuilt from the database's chunk table (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from index_support import ADAPTERS, doc, open_adapter
from sqlalchemy.orm import Session

from companion.knowledge.index.local import LocalIndex
from companion.knowledge.models import KnowledgeChunk, KnowledgeDocument
from companion.knowledge.repository import iter_chunk_docs
from companion.knowledge.retrieval import Retriever
from companion.llm.embeddings import FakeEmbedder
from factories import make_company

EMBEDDER = FakeEmbedder()


def store_document(
    session: Session,
    company_id: int | None,
    title: str,
    chunks: list[str],
    *,
    roles: list[str] | None = None,
) -> KnowledgeDocument:
    content = "\n\n".join(chunks)
    document = KnowledgeDocument(
        company_id=company_id,
        title=title,
        content=content,
        doc_type="POLICY",
        tags=[],
        roles=roles or [],
        topic=title.lower(),
        content_hash=hashlib.sha256(content.encode()).hexdigest(),
        source_key=title.lower(),
    )
    session.add(document)
    session.flush()
    for ordinal, text in enumerate(chunks):
        session.add(
            KnowledgeChunk(
                document_id=document.id,
                company_id=company_id,
                ordinal=ordinal,
                section=None,
                text=f"{title}\n{text}",
            )
        )
    session.flush()
    return document


@pytest.mark.parametrize("kind", ADAPTERS)
def test_missing_index_is_rebuilt_from_the_chunk_table(
    session: Session, tmp_path: Path, kind: str
) -> None:
    acme = make_company(session, "acme-kb")
    globex = make_company(session, "globex-kb")
    travel = store_document(session, acme.id, "Travel", ["hotel cap BDT 6000", "train desk"])
    store_document(session, globex.id, "Lodging", ["hotel cap 189 dollars"])
    store_document(session, acme.id, "Payroll", ["salary bands secret"], roles=["finance"])
    store_document(session, None, "Help", ["how to create an invoice"])

    with open_adapter(kind, tmp_path, dim=EMBEDDER.dim, embedder=EMBEDDER.name) as index:
        assert index.current_version() is None
        retriever = Retriever(index, EMBEDDER, source=lambda: iter_chunk_docs(session))
        version = retriever.ensure_built()
        assert version is not None and index.count() == 5

        found = retriever.retrieve("hotel cap", company_id=acme.id, roles=["sales"], k=10)
        ids = {h.chunk.chunk_id for h in found.hits}
        assert f"kb_{travel.id}#0" in ids
        companies = {h.chunk.company_id for h in found.hits}
        assert companies <= {acme.id, None}  # never globex's lodging chunk
        assert not any("salary" in h.chunk.text for h in found.hits)  # finance only
        finance = retriever.retrieve("salary bands", company_id=acme.id, roles=["finance"])
        assert any("salary" in h.chunk.text for h in finance.hits)
        top = found.hits[0].chunk
        assert top.source_url and top.title == "Travel"


def test_a_second_process_sees_writes_through_the_files(tmp_path: Path) -> None:
    """The CLI ingesting beside a running server: the server reloads what changed on disk."""
    server = LocalIndex(tmp_path / "kb", dim=EMBEDDER.dim, embedder=EMBEDDER.name)
    cli = LocalIndex(tmp_path / "kb", dim=EMBEDDER.dim, embedder=EMBEDDER.name)
    chunk = doc("kb_1#0", "hotel cap Dhaka")
    cli.upsert([chunk], EMBEDDER.embed([chunk.text]))
    assert server.count() == 1
    assert server.current_version() == cli.current_version()
    cli.delete_document(1)
    assert server.count() == 0


def test_an_index_made_by_another_embedder_counts_as_missing(tmp_path: Path) -> None:
    old = LocalIndex(tmp_path / "kb", dim=EMBEDDER.dim, embedder="another-model")
    chunk = doc("kb_1#0", "hotel cap Dhaka")
    old.upsert([chunk], EMBEDDER.embed([chunk.text]))
    reopened = LocalIndex(tmp_path / "kb", dim=EMBEDDER.dim, embedder=EMBEDDER.name)
    assert reopened.current_version() is None
    retriever = Retriever(reopened, EMBEDDER, source=lambda: [chunk])
    assert retriever.ensure_built() is not None
    assert reopened.count() == 1
