"""FastAPI dependencies every router uses: the unit of work, the caller, pagination.

One session per request, committed once by ``get_session`` after the endpoint returns
without error (services never commit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Header, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from companion.bootstrap import Container
from companion.tenancy.context import RequestContext

T = TypeVar("T")


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def get_session(container: Annotated[Container, Depends(get_container)]) -> Iterator[Session]:
    """The request's unit of work: commit on success, roll back on error."""
    session = container.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def get_context(
    request: Request,
    session: SessionDep,
    container: Annotated[Container, Depends(get_container)],
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
    x_company: Annotated[str | None, Header()] = None,
) -> RequestContext:
    """Who is calling and in which company (401 without credentials, 403 wrong company)."""
    from companion.auth.service import resolve_context

    ctx = resolve_context(
        session,
        container.settings,
        container.clock,
        authorization=authorization,
        api_key=x_api_key,
        company_slug=x_company,
    )
    request.state.context = ctx
    return ctx


ContextDep = Annotated[RequestContext, Depends(get_context)]


def require(permission: str) -> Callable[[RequestContext], RequestContext]:
    """A dependency that returns the caller's context once ``permission`` is checked."""

    def _check(ctx: ContextDep) -> RequestContext:
        ctx.require(permission)
        return ctx

    _check.__name__ = f"require_{permission.replace('.', '_')}"
    return _check


class PageParams(BaseModel):
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    """A page of a list: the items, the total count and where the page starts."""

    items: list[T]
    total: int
    limit: int
    offset: int
