"""LLM fine-tune (LoRA adapter) runs, made here or elsewhere: a record of which dataset
version, with which parameters, and how it evaluated. Not a trainer."""

from __future__ import annotations

from sqlalchemy.orm import Session

from companion.assistant.learning import repository as repo
from companion.assistant.learning.models import FinetuneRun
from companion.assistant.learning.schemas import FinetuneIn, FinetuneOut
from companion.audit import service as audit
from companion.kit.jsonable import jsonable
from companion.tenancy.context import RequestContext

PERMISSION = "ai.review"


def run_out(run: FinetuneRun, dataset_version: int) -> FinetuneOut:
    return FinetuneOut(
        id=run.id,
        dataset_id=run.dataset_id,
        dataset_version=dataset_version,
        base_model=run.base_model,
        adapter=run.adapter,
        status=run.status,
        parameters=run.parameters,
        evaluation=run.evaluation,
        notes=run.notes,
        created_at=run.created_at,
    )


def record_run(session: Session, ctx: RequestContext, body: FinetuneIn) -> FinetuneOut:
    """Record one run on one of the company's dataset versions (another's is a 404)."""
    ctx.require(PERMISSION)
    dataset = repo.get_dataset(session, ctx, body.dataset_version)
    run = FinetuneRun(
        company_id=ctx.company_id,
        dataset_id=dataset.id,
        base_model=body.base_model,
        adapter=body.adapter,
        status=body.status,
        parameters=jsonable(body.parameters),
        evaluation=jsonable(body.evaluation),
        notes=body.notes,
        created_by=ctx.user_id,
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        ctx,
        "finetune_run.record",
        "finetune_run",
        run.id,
        new={"dataset_version": dataset.version, "adapter": run.adapter, "status": run.status},
    )
    return run_out(run, dataset.version)


def list_runs(session: Session, ctx: RequestContext) -> list[FinetuneOut]:
    ctx.require(PERMISSION)
    return [run_out(run, version) for run, version in repo.list_finetunes(session, ctx)]


def get_run(session: Session, ctx: RequestContext, run_id: int) -> FinetuneOut:
    ctx.require(PERMISSION)
    run, version = repo.get_finetune(session, ctx, run_id)
    return run_out(run, version)
