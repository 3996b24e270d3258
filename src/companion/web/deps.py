"""FastAPI dependencies every router uses: the unit of work, the caller, pagination.

One session per request, committed once by ``get_session`` when the endpoint returns
without error (services never commit). The commit happens before the response is sent
(``scope="function"``), so a failed commit is an error response, never a lost write
behind a 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any, Generic, TypeVar, get_args

from fastapi import Depends, Header, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from companion.auth.service import api_key_use_due, resolve_context, stamp_api_key_use
from companion.bootstrap import Container
from companion.errors import DatabaseBusy, ValidationFailed
from companion.governance.memory.service import policy_of
from companion.kit.db import begin_for_writing, session_scope
from companion.kit.fields import DB_INT_MAX, Id
from companion.llm.admission import external_providers
from companion.tenancy.context import RequestContext
from companion.tenancy.permissions import PERMISSIONS

T = TypeVar("T")

# Ids are 32-bit integer columns: a larger id is a 422, not a database overflow.
MAX_ID = DB_INT_MAX
RecordId = Annotated[Id, Path(description="The record's id")]
QueryId = Annotated[Id | None, Query(description="Only records linked to this id")]


def _date_params(route: Any) -> tuple[str, ...]:
    """The names (aliases) of ``route``'s query parameters that are days."""
    try:
        names = _DATE_PARAMS.get(route)
    except TypeError:  # not weakly referenceable: worked out each time
        names = None
    if names is None:
        params, pending = [], [getattr(route, "dependant", None)]
        while pending:  # the route's own query parameters and its dependencies'
            dependant = pending.pop()
            if dependant is not None:
                params.extend(dependant.query_params)
                pending.extend(dependant.dependencies)
        names = tuple(
            p.alias
            for p in params
            if dt.date in (p.field_info.annotation, *get_args(p.field_info.annotation))
        )
        with contextlib.suppress(TypeError):
            _DATE_PARAMS[route] = names
    return names


# Per route object, not per id(): an app's routes may be freed and their ids reused.
_DATE_PARAMS: weakref.WeakKeyDictionary[Any, tuple[str, ...]] = weakref.WeakKeyDictionary()
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


async def iso_query_dates(request: Request) -> None:
    """422 for a day in the query that is not ``YYYY-MM-DD`` (app-wide dependency).

    Pydantic would read ``?as_of=0`` as a Unix time; the OpenAPI says ``format: date``.
    A coroutine, as the other dependencies that neither block nor touch the database: a plain
    function dependency is run on the thread pool, a hand-off per request that costs CPU.
    """
    route = request.scope.get("route")
    bad = [
        name
        for name in _date_params(route)
        if (value := request.query_params.get(name)) is not None and not _ISO_DAY.fullmatch(value)
    ]
    if bad:
        raise ValidationFailed(
            "The request is not valid",
            details={
                "errors": [
                    {
                        "loc": ["query", name],
                        "msg": "must be a date as YYYY-MM-DD",
                        "type": "date_format",
                    }
                    for name in bad
                ],
                "count": len(bad),
            },
        )


async def get_container(request: Request) -> Container:
    """The process's container (``app.state.container``)."""
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READS_ONLY = "__companion_reads_only__"
F = TypeVar("F", bound=Callable[..., Any])


def reads_only(endpoint: F) -> F:
    """Mark a POST that changes nothing (a draft): its session takes no write lock.

    On SQLite a write transaction holds the database's one write lock until the request
    ends; a model call of many seconds inside one would queue every other write behind it.
    """
    setattr(endpoint, _READS_ONLY, True)
    return endpoint


def writes_later(endpoint: F) -> F:
    """Mark a POST that reads first and takes the write lock itself when it has something
    to record (``kit.db.begin_writing``): a chat turn. Its session begins as a reader.

    On SQLite a session that begins as a writer holds the one write lock from the sign-in on;
    a turn would queue for the lock twice (sign-in, then recording) instead of once.
    """
    setattr(endpoint, _WRITES_LATER, True)
    return endpoint


_WRITES_LATER = "__companion_writes_later__"


def _writes(request: Request) -> bool:
    """Whether the request's session begins as a writer (SQLite: ``BEGIN IMMEDIATE``)."""
    if request.method in _SAFE_METHODS:
        return False
    endpoint = request.scope.get("endpoint")
    return not (getattr(endpoint, _READS_ONLY, False) or getattr(endpoint, _WRITES_LATER, False))


# One gate per event loop (a worker has one; tests may run an app under several).
_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
DB_BUSY_RETRY_AFTER_S = 2


async def admitted(request: Request, container: ContainerDep) -> AsyncIterator[None]:
    """Wait, on the event loop, for one of the worker's ``api.max_db_requests`` places.

    Taken before the request's session and given back after it is closed, so the requests
    that hold connections always find a thread to finish on (``ApiSettings.max_db_requests``).
    """
    loop = asyncio.get_running_loop()
    gate = _GATES.get(loop)
    if gate is None:
        gate = _GATES.setdefault(loop, asyncio.Semaphore(container.settings.api.max_db_requests))
    try:
        await asyncio.wait_for(gate.acquire(), container.settings.api.db_wait_s)
    except TimeoutError:
        raise DatabaseBusy(
            "The server is busy; try again in a moment",
            details={"retry_after": DB_BUSY_RETRY_AFTER_S, "path": request.url.path[:200]},
        ) from None
    try:
        yield
    finally:
        gate.release()


def get_session(
    request: Request,
    container: ContainerDep,
    _place: Annotated[None, Depends(admitted, scope="function")],
) -> Iterator[Session]:
    """The request's unit of work: commit on success, roll back on error."""
    session = container.session_factory()
    if _writes(request):
        begin_for_writing(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_context(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    # Documented as security schemes in the OpenAPI document, not as plain parameters.
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_company: Annotated[
        str | None,
        Header(
            max_length=64,
            description="Slug of the active company; optional for users of one company",
        ),
    ] = None,
) -> RequestContext:
    """Who is calling and in which company (401 without credentials, 403 wrong company)."""
    ctx = resolve_context(
        session,
        container.settings,
        container.clock,
        authorization=authorization,
        api_key=x_api_key,
        company_slug=x_company,
    )
    now = container.clock.now()
    if ctx.api_key_id is not None and api_key_use_due(session, ctx, now):
        _stamp_key_use(request, session, container, ctx.api_key_id, now)
    request.state.context = ctx
    return ctx


def _stamp_key_use(
    request: Request, session: Session, container: Container, key_id: int, now: dt.datetime
) -> None:
    """An API key's last use, written without making a reading request a writer.

    A request that writes anyway stamps in its own transaction (on SQLite it holds the write
    lock already, and a second writer in this thread would wait on it); any other stamps in a
    short write transaction of its own, before the request goes on reading.
    """
    if _writes(request):
        stamp_api_key_use(session, key_id, now)
        return
    with session_scope(container.session_factory) as own:
        begin_for_writing(own)
        stamp_api_key_use(own, key_id, now)


ContextDep = Annotated[RequestContext, Depends(get_context)]


class RequirePermission:
    """A dependency returning the caller's context once ``permission`` is checked.

    The permission stays readable on the dependency, so the OpenAPI document and the
    permission sweep in the tests can list what every route needs.
    """

    def __init__(self, permission: str) -> None:
        self.permission = permission

    async def __call__(self, ctx: ContextDep) -> RequestContext:
        ctx.require(self.permission)
        return ctx

    def __repr__(self) -> str:
        return f"require({self.permission!r})"


def require(permission: str) -> RequirePermission:
    """``Depends(require("finance.read"))``: 403 unless the caller holds the permission."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    return RequirePermission(permission)


class PageParams(BaseModel):
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> PageParams:
    """``?limit=&offset=`` of a list endpoint."""
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    """A page of a list: the items, the total count and where the page starts."""

    items: list[T]
    total: int
    limit: int
    offset: int


def model_scope(session: Session, ctx: RequestContext) -> contextlib.AbstractContextManager[None]:
    """Model calls made inside for ``ctx``'s company: no external provider in compliance mode.

    The company's memory policy is read only when a provider marked external is about to be
    used, as in a chat turn: a request that uses none (no model, a local one) never reads it.
    """

    def allowed() -> bool:
        # Not flushing: asking must not move the request's writes earlier than they are.
        with session.no_autoflush:
            policy = policy_of(session, ctx.company_id)
        return policy.allows_external_providers()

    return external_providers(allowed)
