"""Knowledge ingestion on SQLite and PostgreSQL: create, re-ingest, delete, global corpus.

The index is K2's real local index behind the real Retriever; only the embedder is the
package's hashed bag-of-words fake (retrieval quality is not what is tested here).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from companion.audit.models import AuditEntry
from companion.errors import NotFound, PermissionDenied
from companion.knowledge import repository as repo
from companion.knowledge import service
from companion.knowledge.index.local import LocalIndex
from companion.knowledge.models import KnowledgeChunk, KnowledgeDocument
from companion.knowledge.retrieval import Calibration, ChunkDoc, Retriever
from companion.knowledge.schemas import EntryIn, EntryMeta
from companion.llm.embeddings.fake import FakeEmbedder
from companion.tenancy.context import RequestContext
from factories import make_company, make_context

TRAVEL = """# Travel policy

## Hotels

Staff may spend up to BDT 6,000 a night in Dhaka on the Motijheel travel desk booking.

## Meals

A daily allowance of BDT 2,500 covers meals.
"""


class Recorder:
    """An index port that records what ingestion asked of it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def index(self, chunks: Sequence[ChunkDoc]) -> None:
        self.calls.append(("index", [c.chunk_id for c in chunks]))

    def remove_document(self, document_id: int) -> None:
        self.calls.append(("remove", document_id))


@pytest.fixture
def retriever() -> Retriever:
    embedder = FakeEmbedder()
    live = Retriever(
        LocalIndex(None, dim=embedder.dim, embedder=embedder.name),
        embedder,
        calibration=Calibration(coverage_weight=0.5, threshold=0.05),
    )
    live.rebuild([])
    return live


@pytest.fixture
def world(session: Session) -> dict[str, RequestContext]:
    acme, globex = make_company(session, "acme", "BDT"), make_company(session, "globex")
    return {
        "admin": make_context(session, acme, ["admin"], "kb-admin"),
        "viewer": make_context(session, acme, ["viewer"], "kb-viewer"),
        "finance": make_context(session, acme, ["finance"], "kb-finance"),
        "globex": make_context(session, globex, ["admin"], "kb-globex"),
    }


def entry(content: str = TRAVEL, **fields: object) -> EntryIn:
    return EntryIn.model_validate({"title": "Travel policy", "content": content, **fields})


def test_ingest_stores_chunks_and_indexes_them_after_the_commit(
    session: Session, world: dict[str, RequestContext], retriever: Retriever
) -> None:
    ctx = world["admin"]
    result = service.ingest_text(session, ctx, entry(tags=["Travel"]), index=retriever)
    document = result.document
    assert result.status == "created" and document.version == 1
    assert document.company_id == ctx.company_id and document.tags == ["travel"]
    chunks = repo.chunks_of(session, document.id)
    assert [c.section for c in chunks] == ["Hotels", "Meals"]
    assert all(c.company_id == ctx.company_id for c in chunks)
    audit = session.execute(select(AuditEntry).where(AuditEntry.action == "kb.create")).scalar_one()
    assert audit.entity_id == str(document.id) and audit.actor == ctx.username
    # Not in the index before the commit; there after it.
    found = retriever.retrieve("Motijheel hotel", company_id=ctx.company_id, roles=ctx.roles)
    assert found.hits == []
    session.commit()
    found = retriever.retrieve("Motijheel hotel", company_id=ctx.company_id, roles=ctx.roles)
    assert found.hits[0].chunk.chunk_id == f"kb_{document.id}#0"
    other = world["globex"]
    assert (
        retriever.retrieve("Motijheel hotel", company_id=other.company_id, roles=("admin",)).hits
        == []
    )


def test_a_rolled_back_ingest_never_reaches_the_index(
    session: Session, world: dict[str, RequestContext]
) -> None:
    recorder = Recorder()
    session.commit()
    service.ingest_text(session, world["admin"], entry(), index=recorder)
    session.rollback()
    session.commit()
    assert recorder.calls == []


def test_reingesting_replaces_chunks_bumps_the_version_and_is_idempotent(
    session: Session, world: dict[str, RequestContext], retriever: Retriever
) -> None:
    ctx = world["admin"]
    first = service.ingest_text(session, ctx, entry(), index=retriever).document
    session.commit()
    same = service.ingest_text(
        session, ctx, entry(TRAVEL.replace("\n\n", "\n\n\n")), index=retriever
    )
    assert same.status == "unchanged" and same.document.id == first.id
    changed = TRAVEL.replace("BDT 6,000", "BDT 7,000").replace("Motijheel", "Gulshan")
    updated = service.ingest_text(session, ctx, entry(changed), index=retriever)
    session.commit()
    assert updated.status == "updated" and updated.document.id == first.id
    assert updated.document.version == 2
    texts = [c.text for c in repo.chunks_of(session, first.id)]
    assert any("BDT 7,000" in t for t in texts) and not any("BDT 6,000" in t for t in texts)
    count = session.execute(
        select(func.count())
        .select_from(KnowledgeDocument)
        .where(KnowledgeDocument.company_id == ctx.company_id)
    ).scalar_one()
    assert count == 1
    hits = retriever.retrieve("Gulshan Motijheel", company_id=ctx.company_id, roles=ctx.roles).hits
    assert [h.chunk.text for h in hits if "Motijheel" in h.chunk.text] == []
    assert any("Gulshan" in h.chunk.text for h in hits)
    # Changing only who may read it is a new version too (the index must learn the roles).
    restricted = service.ingest_text(
        session, ctx, entry(changed, roles=["finance"]), index=retriever
    )
    assert restricted.status == "updated" and restricted.document.version == 3


def test_the_same_content_under_another_name_is_a_duplicate(
    session: Session, world: dict[str, RequestContext]
) -> None:
    ctx = world["admin"]
    first = service.ingest_text(session, ctx, entry()).document
    again = service.ingest_file(
        session, ctx, TRAVEL.encode(), filename="copy-of-travel.md", meta=EntryMeta()
    )
    assert again.status == "unchanged" and again.document.id == first.id


def test_delete_removes_rows_and_every_index_entry(
    session: Session, world: dict[str, RequestContext], retriever: Retriever
) -> None:
    ctx = world["admin"]
    document = service.ingest_text(session, ctx, entry(), index=retriever).document
    session.commit()
    with pytest.raises(NotFound):
        service.delete_document(session, world["globex"], document.id, index=retriever)
    with pytest.raises(PermissionDenied):
        service.delete_document(session, world["viewer"], document.id, index=retriever)
    service.delete_document(session, ctx, document.id, index=retriever)
    session.commit()
    assert session.get(KnowledgeDocument, document.id) is None
    chunks = session.execute(
        select(func.count())
        .select_from(KnowledgeChunk)
        .where(KnowledgeChunk.document_id == document.id)
    ).scalar_one()
    assert chunks == 0
    assert (
        retriever.retrieve("Motijheel hotel", company_id=ctx.company_id, roles=ctx.roles).hits == []
    )


def test_ingest_needs_kb_manage(session: Session, world: dict[str, RequestContext]) -> None:
    with pytest.raises(PermissionDenied) as err:
        service.ingest_text(session, world["viewer"], entry())
    assert err.value.details["permission"] == "kb.manage"


def test_role_restricted_documents_are_hidden_from_other_roles(
    session: Session, world: dict[str, RequestContext]
) -> None:
    document = service.ingest_text(
        session, world["admin"], entry(roles=["finance"], title="Payroll secrets")
    ).document
    assert repo.get_document(session, world["finance"], document.id).id == document.id
    with pytest.raises(NotFound):
        repo.get_document(session, world["viewer"], document.id)
    with pytest.raises(NotFound):
        repo.get_document(session, world["globex"], document.id)
    assert [d.id for d in repo.list_documents(session, world["viewer"])] == []
    assert [d.id for d in repo.list_documents(session, world["finance"])] == [document.id]


def test_the_global_corpus_syncs_once_and_is_readable_by_every_company(
    session: Session, world: dict[str, RequestContext]
) -> None:
    recorder = Recorder()
    first = service.sync_global_corpus(session, index=recorder)
    assert first.created == len(service.global_corpus()) >= 8
    again = service.sync_global_corpus(session, index=recorder)
    assert again.created == 0 and again.unchanged == first.created
    docs = repo.global_documents(session)
    invoice = next(d for d in docs if d.source_name == "help/create-and-post-invoice.md")
    assert invoice.company_id is None and invoice.doc_type == "PROCEDURE"
    assert invoice.topic == "invoice"
    for who in ("viewer", "globex"):
        assert repo.get_document(session, world[who], invoice.id).id == invoice.id
    listed = repo.list_documents(session, world["viewer"], include_global=True)
    assert invoice.id in {d.id for d in listed}
    assert repo.list_documents(session, world["viewer"]) == []
    # The global corpus is nobody's to delete through the API.
    with pytest.raises(NotFound):
        service.delete_document(session, world["admin"], invoice.id)
    chunk_docs = [c for c in repo.iter_chunk_docs(session) if c.document_id == invoice.id]
    assert chunk_docs and all(c.company_id is None and c.topic == "invoice" for c in chunk_docs)
    session.commit()
    assert len([c for c in recorder.calls if c[0] == "index"]) == first.created


def test_a_company_document_on_a_help_topic_shares_its_topic_key(
    session: Session, world: dict[str, RequestContext]
) -> None:
    document = service.ingest_text(
        session,
        world["admin"],
        entry("# Invoices\n\nOnly the finance desk posts.", title="Invoices"),
    ).document
    assert document.topic == "invoice" == service.topic_key("invoice", "x")
    assert service.topic_key(None, "Acme Trading travel policy", ["acme", "trading"]) == "travel"


def test_a_failing_index_update_does_not_undo_the_commit(
    session: Session, world: dict[str, RequestContext], caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(Recorder):
        def index(self, chunks: Sequence[ChunkDoc]) -> None:
            raise RuntimeError("index down")

    document = service.ingest_text(session, world["admin"], entry(), index=Broken()).document
    session.commit()
    assert session.get(KnowledgeDocument, document.id) is not None
    assert "rebuild it from the database" in caplog.text


def test_a_company_document_wins_over_the_help_page_on_its_topic(
    session: Session, world: dict[str, RequestContext], retriever: Retriever
) -> None:
    service.sync_global_corpus(session, index=retriever)
    session.commit()
    ctx, other = world["admin"], world["globex"]
    question = "how do I create and post an invoice"
    help_hits = retriever.retrieve(question, company_id=ctx.company_id, roles=ctx.roles).hits
    assert help_hits[0].chunk.company_id is None and help_hits[0].chunk.topic == "invoice"
    own = service.ingest_text(
        session,
        ctx,
        entry(
            "# Invoices\n\nCreate and post every invoice through the Motijheel finance desk.",
            title="Invoices",
        ),
        index=retriever,
    ).document
    session.commit()
    hits = retriever.retrieve(question, company_id=ctx.company_id, roles=ctx.roles).hits
    assert hits[0].chunk.document_id == own.id
    assert not [h for h in hits if h.chunk.company_id is None and h.chunk.topic == "invoice"]
    # Another company still gets the product help.
    theirs = retriever.retrieve(question, company_id=other.company_id, roles=other.roles).hits
    assert theirs[0].chunk.company_id is None and theirs[0].chunk.topic == "invoice"
