"""The learning loop's API: review, datasets, NLU retraining, fine-tune records, trails.

Everything but the trail needs ``ai.review``. A retrain is a background job
(``jobs/learning.py``): the request queues it and answers 202 with the job's id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from starlette.responses import PlainTextResponse, Response

from companion.assistant.learning import export, finetune, retrain, review
from companion.assistant.learning import repository as learning_repo
from companion.assistant.learning import telemetry as trails
from companion.assistant.learning.models import ExampleStatus
from companion.assistant.learning.schemas import (
    BulkReviewIn,
    BulkReviewOut,
    DatasetFiles,
    DatasetOut,
    EventOut,
    ExampleOut,
    ExportIn,
    FinetuneIn,
    FinetuneOut,
    ModelOut,
    ReviewIn,
    RollbackIn,
)
from companion.jobs import learning as learning_jobs
from companion.jobs.endpoints import accepted
from companion.kit.db import begin_for_writing
from companion.knowledge.schemas import JobAccepted
from companion.tenancy.context import RequestContext
from companion.web.deps import (
    ContainerDep,
    Page,
    PageDep,
    RecordId,
    SessionDep,
    reads_only,
    require,
)

router = APIRouter(prefix="/ai", tags=["learning"])
Reviewer = Annotated[RequestContext, Depends(require("ai.review"))]
ChatUser = Annotated[RequestContext, Depends(require("ai.use"))]
STATUSES = tuple(s.value for s in ExampleStatus)


@router.get("/learning/examples", response_model=Page[ExampleOut])
def list_examples(
    session: SessionDep,
    ctx: Reviewer,
    page: PageDep,
    status: Annotated[str | None, Query(pattern="^(review|approved|rejected)$")] = None,
) -> Page[ExampleOut]:
    """Training examples from corrections, newest first (``?status=review`` to work through)."""
    items, total = review.list_examples(
        session, ctx, status=status, limit=page.limit, offset=page.offset
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/learning/examples/{example_id}", response_model=ExampleOut)
def get_example(example_id: RecordId, session: SessionDep, ctx: Reviewer) -> ExampleOut:
    """One training example of the company."""
    return review.example_out(learning_repo.get_example(session, ctx, example_id))


@router.post("/learning/examples/{example_id}/review", response_model=ExampleOut)
def review_example(
    example_id: RecordId, body: ReviewIn, session: SessionDep, ctx: Reviewer
) -> ExampleOut:
    """Approve, reject or edit one example, with reviewer notes (audited)."""
    return review.review(session, ctx, example_id, body)


@router.post("/learning/examples/bulk", response_model=BulkReviewOut)
def bulk_review(body: BulkReviewIn, session: SessionDep, ctx: Reviewer) -> BulkReviewOut:
    """Approve or reject many examples at once: all of them, or none if an id is unknown."""
    return review.bulk_review(session, ctx, body)


@router.post("/learning/datasets", response_model=DatasetOut, status_code=201)
def export_dataset(
    session: SessionDep,
    ctx: Reviewer,
    container: ContainerDep,
    response: Response,
    body: ExportIn | None = None,
) -> DatasetOut:
    """Export up to ``limit`` approved examples as a new dataset version (200: unchanged)."""
    limit = body.limit if body is not None else container.settings.learning.export_limit
    dataset, created = export.export_dataset(session, ctx, limit=limit)
    if not created:
        response.status_code = 200
    return dataset


@router.get("/learning/datasets", response_model=list[DatasetOut])
def list_datasets(session: SessionDep, ctx: Reviewer) -> list[DatasetOut]:
    """Every dataset version of the company, newest first."""
    return [export.dataset_out(d) for d in learning_repo.list_datasets(session, ctx)]


@router.get("/learning/datasets/{dataset_id}", response_model=DatasetFiles)
def get_dataset(dataset_id: RecordId, session: SessionDep, ctx: Reviewer) -> DatasetFiles:
    """One dataset version (by its id) with its manifest and both files."""
    return export.dataset_files(learning_repo.get_dataset_by_id(session, ctx, dataset_id))


@router.get("/learning/datasets/{dataset_id}/chat.jsonl", response_class=PlainTextResponse)
def dataset_jsonl(dataset_id: RecordId, session: SessionDep, ctx: Reviewer) -> Response:
    """The chat-format JSONL of one dataset version."""
    dataset = learning_repo.get_dataset_by_id(session, ctx, dataset_id)
    return Response(dataset.chat_jsonl, media_type="application/jsonl; charset=utf-8")


@router.get("/learning/datasets/{dataset_id}/nlu.yml", response_class=PlainTextResponse)
def dataset_yaml(dataset_id: RecordId, session: SessionDep, ctx: Reviewer) -> Response:
    """The Rasa NLU YAML of one dataset version."""
    dataset = learning_repo.get_dataset_by_id(session, ctx, dataset_id)
    return Response(dataset.rasa_yaml, media_type="application/yaml; charset=utf-8")


@router.post(
    "/learning/nlu/retrain", response_model=JobAccepted, status_code=status.HTTP_202_ACCEPTED
)
@reads_only
def retrain_nlu(session: SessionDep, ctx: Reviewer, container: ContainerDep) -> JobAccepted:
    """Queue a retrain of the company's NLU on its approved intent corrections (202 and the
    job: ``GET /api/v1/ai/jobs/{id}``); promoted only if the gate passes. 409 when there is
    nothing new to train on, or a retrain of the company is queued or running already."""
    learning_jobs.check_retrain(session, ctx, container)
    # The check loads the shipped NLU on a process's first retrain (seconds): it reads
    # only, so SQLite's write lock is taken for the job's row alone.
    session.rollback()
    begin_for_writing(session)
    return accepted(learning_jobs.queue_retrain(session, ctx, container))


@router.get("/learning/nlu/models", response_model=list[ModelOut])
def list_models(session: SessionDep, ctx: Reviewer) -> list[ModelOut]:
    """Every retrained model of the company, newest first, with its gate figures."""
    return retrain.list_models(session, ctx)


@router.post("/learning/nlu/rollback", response_model=ModelOut | None)
def rollback(body: RollbackIn, session: SessionDep, ctx: Reviewer) -> ModelOut | None:
    """Make an earlier model active again (version 0: the shipped model; answers null)."""
    return retrain.rollback(session, ctx, body.version)


@router.post("/learning/finetunes", response_model=FinetuneOut, status_code=201)
def record_finetune(body: FinetuneIn, session: SessionDep, ctx: Reviewer) -> FinetuneOut:
    """Record a LoRA fine-tune run (dataset version, parameters, evaluation)."""
    return finetune.record_run(session, ctx, body)


@router.get("/learning/finetunes", response_model=list[FinetuneOut])
def list_finetunes(session: SessionDep, ctx: Reviewer) -> list[FinetuneOut]:
    """The company's fine-tune records, newest first."""
    return finetune.list_runs(session, ctx)


@router.get("/learning/finetunes/{run_id}", response_model=FinetuneOut)
def get_finetune(run_id: RecordId, session: SessionDep, ctx: Reviewer) -> FinetuneOut:
    """One fine-tune record."""
    return finetune.get_run(session, ctx, run_id)


@router.get("/telemetry/events", response_model=Page[EventOut])
def user_trail(
    session: SessionDep,
    ctx: ChatUser,
    page: PageDep,
    user_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Page[EventOut]:
    """A user's telemetry in this company, newest first (privacy review): your own by default,
    anyone's (``?user_id=``) for ``ai.admin``."""
    items, total = trails.trail(
        session, ctx, user_id or ctx.user_id, limit=page.limit, offset=page.offset
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
