"""Models: each use case's policy (view, and the company's safe edits), provider health, a test."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from companion.audit import service as audit
from companion.llm.admission import acting_for
from companion.llm.errors import LLMError
from companion.llm.policy_edits import PolicyEdit, edit_company_policy
from companion.web.admin.base import (
    SECURITY_HEADERS,
    AdminPage,
    AdminRoute,
    CsrfChecked,
    page_for,
    render,
)
from companion.web.admin.forms import choice
from companion.web.ai_status import ai_status
from companion.web.deps import ContainerDep, SessionDep, model_scope, reads_only

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
def models(
    request: Request,
    page: ModelsAdmin,
    container: ContainerDep,
    notice: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    """Each use case's effective policy, and each provider's health and circuit breaker."""
    return _page(request, page, container, tried=None, notice=notice or None)


@router.post("/models/policy", dependencies=[CsrfChecked])
def edit_policy(
    page: ModelsAdmin,
    session: SessionDep,
    container: ContainerDep,
    use_case: Annotated[str, Form(min_length=1, max_length=64)],
    max_tokens: Annotated[int, Form(ge=1, le=32_768)],
    temperature: Annotated[float, Form(ge=0.0, le=2.0)],
    enabled: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """The company's safe edit of one use case (off/on, fewer tokens, temperature), audited."""
    edit = PolicyEdit(use_case, enabled == "on", max_tokens, temperature)
    llm = container.llm()
    slug = page.ctx.company_slug
    directory = container.settings.llm.company_policies_dir
    before, after = edit_company_policy(llm.policies, directory, slug, edit)
    keys = ("enabled", "max_tokens", "temperature")
    audit.record(
        session,
        page.ctx,
        "llm.policy.edit",
        "llm_policy",
        f"{slug}:{edit.use_case}",
        old={k: before[k] for k in keys},
        new={k: after[k] for k in keys},
    )
    state = "on" if after["enabled"] else "off"
    tokens, temperature = after["max_tokens"], after["temperature"]
    notice = f"{edit.use_case}: {state}, {tokens} tokens, temperature {temperature}"
    return RedirectResponse(
        f"/admin/{slug}/models?notice={quote(notice)}", 303, headers=SECURITY_HEADERS
    )


@router.post("/models/test", dependencies=[CsrfChecked])
@reads_only
def test_prompt(
    request: Request,
    page: ModelsAdmin,
    session: SessionDep,
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
        with acting_for(page.ctx.user_id), model_scope(session, page.ctx):
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
