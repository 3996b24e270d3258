"""Models: the policy of each use case (view), provider health and circuits, a prompt test."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from companion.llm.admission import acting_for
from companion.llm.errors import LLMError
from companion.web.admin.base import AdminPage, AdminRoute, CsrfChecked, page_for, render
from companion.web.admin.forms import choice
from companion.web.ai_status import ai_status
from companion.web.deps import ContainerDep, reads_only

router = APIRouter(prefix="/admin/{company}", route_class=AdminRoute, include_in_schema=False)
ModelsAdmin = Annotated[AdminPage, page_for("ai.admin")]
MAX_PROMPT_CHARS = 2000


def _page(request: Request, page: AdminPage, container: ContainerDep, **values: Any) -> Response:
    status = ai_status(container.llm(), page.ctx.company_slug)
    return render(
        request,
        "models.html",
        page,
        title="Models",
        section="models",
        status=status,
        use_cases=sorted(status.policies),
        **values,
    )


@router.get("/models")
def models(request: Request, page: ModelsAdmin, container: ContainerDep) -> Response:
    """Each use case's effective policy, and each provider's health and circuit breaker."""
    return _page(request, page, container, tried=None)


@router.post("/models/test", dependencies=[CsrfChecked])
@reads_only
def test_prompt(
    request: Request,
    page: ModelsAdmin,
    container: ContainerDep,
    prompt: Annotated[str, Form(min_length=1, max_length=MAX_PROMPT_CHARS)],
    use_case: Annotated[str, Form(max_length=64)] = "chat",
) -> Response:
    """Send one prompt through a use case's policy and show the answer, or why there is none.

    Nothing is stored; the call counts against the caller's share of model slots.
    """
    llm = container.llm()
    name = choice(use_case, "use_case", set(llm.policies.policies(page.ctx.company_slug)))
    assert name is not None  # choice() only returns None for an empty value
    tried: dict[str, Any] = {"use_case": name, "prompt": prompt}
    try:
        with acting_for(page.ctx.user_id):
            generation = llm.generate(name, page.ctx.company_slug, prompt)
    except LLMError as exc:
        tried["error"] = exc.message
    else:
        tried["answer"] = generation.text
        tried["meta"] = (
            f"{generation.provider} · {generation.model} · {generation.latency_ms:.0f} ms · "
            f"{generation.tokens_in} tokens in, {generation.tokens_out} out"
        )
    return _page(request, page, container, tried=tried)
