"""Learning: the review queue of training examples (approve, reject, edit, in bulk), dataset
exports, the company's NLU models (retrain behind the gate, roll back); and Metrics, the
figures ``/metrics`` serves, as a table."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from starlette.responses import RedirectResponse, Response

from companion.assistant.learning import export, retrain, review
from companion.assistant.learning import repository as learning_repo
from companion.assistant.learning.models import ExampleStatus
from companion.assistant.learning.schemas import INTENTS, BulkReviewIn, ReviewIn
from companion.jobs import learning as learning_jobs
from companion.kit.db import begin_for_writing
from companion.kit.fields import check_text
from companion.web.admin.base import (
    SECURITY_HEADERS,
    AdminPage,
    AdminRoute,
    CsrfChecked,
    page_for,
    render,
)
from companion.web.admin.forms import PAGE_SIZE, Paging, choice
from companion.web.deps import ContainerDep, SessionDep, reads_only
from companion.web.metrics import metrics_of

router = APIRouter(prefix="/admin/{company}", route_class=AdminRoute, include_in_schema=False)
Reviewer = Annotated[AdminPage, page_for("ai.review")]
MetricsAdmin = Annotated[AdminPage, page_for("ai.admin")]
STATUSES = frozenset(s.value for s in ExampleStatus)
DECISIONS = frozenset({"approve", "reject", "edit"})
ExampleId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def _back(page: AdminPage, notice: str, anchor: str = "") -> Response:
    url = f"/admin/{page.ctx.company_slug}/learning?{urlencode({'done': notice[:200]})}{anchor}"
    return RedirectResponse(url, 303, headers=SECURITY_HEADERS)


@router.get("/learning")
def learning(
    request: Request,
    page: Reviewer,
    session: SessionDep,
    status: Annotated[str, Query(max_length=16)] = "review",
    p: Annotated[int, Query(ge=1, le=100_000)] = 1,
    done: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The review queue, the dataset versions and the NLU models of the company."""
    wanted = choice(status, "status", STATUSES)
    rows, total = review.list_examples(
        session, page.ctx, status=wanted, limit=PAGE_SIZE, offset=(p - 1) * PAGE_SIZE
    )
    models = retrain.list_models(session, page.ctx)
    training = learning_jobs.active_retrain(session, page.ctx)
    return render(
        request,
        "learning.html",
        page,
        title="Learning",
        section="learning",
        rows=rows,
        statuses=sorted(STATUSES),
        status=status,
        paging=Paging(p, total),
        query=urlencode({"status": status}),
        datasets=[export.dataset_out(d) for d in learning_repo.list_datasets(session, page.ctx)],
        models=models,
        shipped_active=not any(m.status == "active" for m in models),
        training=training,
        notice=done or None,
    )


@router.get("/learning/examples/{example_id}")
def example(
    request: Request, page: Reviewer, session: SessionDep, example_id: ExampleId
) -> Response:
    """One example with the reviewer's form."""
    found = review.example_out(learning_repo.get_example(session, page.ctx, example_id))
    return render(
        request,
        "learning_example.html",
        page,
        title=f"Training example {example_id}",
        section="learning",
        example=found,
        intents=sorted(INTENTS),
    )


@router.post("/learning/examples/{example_id}", dependencies=[CsrfChecked])
def decide(
    page: Reviewer,
    session: SessionDep,
    example_id: ExampleId,
    decision: Annotated[str, Form(max_length=16)],
    intent: Annotated[str, Form(max_length=64)] = "",
    answer: Annotated[str, Form(max_length=4000)] = "",
    notes: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve, reject or edit one example (an empty field leaves it as it is)."""
    body = ReviewIn(
        decision=choice(decision, "decision", DECISIONS) or "edit",
        intent=choice(intent, "intent", INTENTS),
        answer=check_text(answer) or None,
        notes=check_text(notes) or None,
    )
    review.review(session, page.ctx, example_id, body)
    return _back(page, f"Example {example_id}: {decision}.")


@router.post("/learning/bulk", dependencies=[CsrfChecked])
def bulk(
    page: Reviewer,
    session: SessionDep,
    decision: Annotated[str, Form(max_length=16)],
    ids: Annotated[list[int], Form(max_length=500)] = [],  # noqa: B006 - FastAPI's form default
) -> Response:
    """Approve or reject the ticked examples."""
    if not ids:
        return _back(page, "Tick the examples to approve or reject first.")
    chosen = choice(decision, "decision", frozenset({"approve", "reject"}))
    result = review.bulk_review(
        session,
        page.ctx,
        BulkReviewIn(ids=ids, decision=chosen or "approve"),
    )
    return _back(page, f"{result.count} example(s): {result.decision}.")


@router.post("/learning/export", dependencies=[CsrfChecked])
def export_now(
    page: Reviewer,
    session: SessionDep,
    limit: Annotated[int, Form(ge=1, le=5000)] = 200,
) -> Response:
    """Export the newest approved examples as a dataset version."""
    dataset, created = export.export_dataset(session, page.ctx, limit=limit)
    state = "exported" if created else "unchanged since"
    return _back(
        page, f"Dataset v{dataset.version} {state}: {dataset.count} examples.", "#datasets"
    )


@router.post("/learning/retrain", dependencies=[CsrfChecked])
@reads_only
def retrain_now(page: Reviewer, session: SessionDep, container: ContainerDep) -> Response:
    """Queue a retrain of the company's NLU (a background job); promoted only if the gate
    passes. The page shows the job until the new model's row appears."""
    learning_jobs.check_retrain(session, page.ctx, container)
    session.rollback()  # the check only read: SQLite's write lock is for the job's row
    begin_for_writing(session)
    job = learning_jobs.queue_retrain(session, page.ctx, container)
    return _back(
        page, f"Retrain queued (job {job.id[:8]}); the new model appears below.", "#models"
    )


@router.post("/learning/rollback", dependencies=[CsrfChecked])
def rollback(
    page: Reviewer, session: SessionDep, version: Annotated[int, Form(ge=0, le=2_147_483_647)]
) -> Response:
    """Make an earlier model (0: the shipped one) the active one."""
    retrain.rollback(session, page.ctx, version)
    return _back(
        page,
        f"Model v{version} is active." if version else "The shipped model is active.",
        "#models",
    )


@router.get("/learning/datasets/{version}/{name}")
def download(
    page: Reviewer,
    session: SessionDep,
    version: ExampleId,
    name: Annotated[str, Path(pattern="^(chat\\.jsonl|nlu\\.yml)$")],
) -> Response:
    """One file of a dataset version, as a download."""
    dataset = learning_repo.get_dataset(session, page.ctx, version)
    body = dataset.chat_jsonl if name == "chat.jsonl" else dataset.rasa_yaml
    filename = quote(f"{page.ctx.company_slug}-v{version}-{name}")
    return Response(
        body,
        media_type="text/plain; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Disposition": f"attachment; filename={filename}"},
    )


@router.get("/metrics")
def metrics(request: Request, page: MetricsAdmin) -> Response:
    """What ``/metrics`` serves right now, one row per series (every company: the process's)."""
    text = generate_latest(metrics_of(request).registry).decode("utf-8")
    rows = [
        (family.name, family.documentation, sample)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.name.endswith(("_bucket", "_created"))
    ]
    return render(request, "metrics.html", page, title="Metrics", section="metrics", rows=rows)
