"""Evaluation harnesses that need the whole system: they live above the core they measure.

``run_eval`` runs the labelled NLU set (``assistant.evaluation``) as each example's user
against a database; ``demo_chunks`` chunks the demo's policy documents for the retrieval
set (``knowledge.evaluation``). The scoring itself stays in those core modules.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from companion.assistant.evaluation import LabelledExample, resolve_period
from companion.assistant.nlu import ACTIONS, EvalExample, EvalReport, MasterData, evaluate
from companion.assistant.understanding import CompanyNLU
from companion.auth.service import context_for_user
from companion.bootstrap import Container
from companion.demo.documents import policy_documents, read_document
from companion.errors import CompanionError
from companion.kit.db import session_scope
from companion.knowledge.evaluation import DEMO_COMPANY_IDS, default_chunker, help_chunks
from companion.knowledge.retrieval import ChunkDoc


def run_eval(container: Container, examples: list[LabelledExample]) -> EvalReport:
    """Parse every example as its user in its company, and score intents and entities."""
    company_nlu = container.assistant().nlu
    if not isinstance(company_nlu, CompanyNLU):
        raise TypeError("evaluation needs the assistant's CompanyNLU")
    today = container.clock.today()
    prepared: list[EvalExample] = []
    with session_scope(container.session_factory) as session:
        contexts: dict[tuple[str | None, str | None], tuple[int, MasterData | None]] = {}
        for ex in examples:
            key = (ex.company, ex.user)
            if key not in contexts:
                contexts[key] = _calendar_and_master(session, company_nlu, ex)
            fy_start, master = contexts[key]
            entities = dict(ex.entities)
            if isinstance(entities.get("period"), str):
                entities["period"] = resolve_period(entities["period"], today, fy_start)
            prepared.append(
                EvalExample(
                    text=ex.text,
                    intent=ex.intent,
                    entities=entities,
                    today=today,
                    fiscal_year_start_month=fy_start,
                    master=master,
                )
            )
    return evaluate(company_nlu.nlu, prepared, today=today, actions=ACTIONS)


def _calendar_and_master(
    session: Session, company_nlu: CompanyNLU, ex: LabelledExample
) -> tuple[int, MasterData | None]:
    """The example's company calendar and master data; none when the database lacks it."""
    if not ex.user:
        return 1, None
    try:
        ctx = context_for_user(session, ex.user, ex.company)
    except CompanionError:
        return 1, None
    return ctx.fiscal_year_start_month, company_nlu.master(session, ctx)


def demo_chunks(
    chunker: Callable[[str, str], list[tuple[str | None, str]]] | None = None,
    *,
    with_help: bool = False,
) -> list[ChunkDoc]:
    """The demo policy documents of both companies as ``ChunkDoc``s (ingestion's chunker).

    ``with_help`` adds the product's help pages as global chunks, as ``companion demo``
    indexes them: every company's questions then compete with them, as in the product.
    """
    cut = chunker or default_chunker
    chunks: list[ChunkDoc] = []
    for number, document in enumerate(policy_documents(), start=1):
        for ordinal, (section, text) in enumerate(cut(read_document(document), document.title)):
            chunks.append(
                ChunkDoc(
                    chunk_id=f"kb_{number}#{ordinal}",
                    document_id=number,
                    company_id=DEMO_COMPANY_IDS[document.company],
                    roles=(),
                    title=document.title,
                    section=section,
                    text=text,
                    source_url=document.resource,
                    doc_type="POLICY",
                    module=None,
                    topic=document.kind,
                )
            )
    if with_help:
        chunks.extend(help_chunks(cut, first_id=len(chunks) + 1000))
    return chunks
