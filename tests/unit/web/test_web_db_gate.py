"""A worker's places for requests with a database session, and a pool timeout as a 503."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.testclient import TestClient

from companion.config import Settings
from companion.errors import DatabaseBusy
from companion.web.deps import admitted
from companion.web.errors import install_error_handlers
from companion.web.middleware import RequestContextMiddleware


def _request(path: str = "/api/v1/ai/chat") -> Any:
    return SimpleNamespace(url=SimpleNamespace(path=path))


def _container(places: int, wait_s: float) -> Any:
    settings = Settings(demo_mode=True, api={"max_db_requests": places, "db_wait_s": wait_s})
    return SimpleNamespace(settings=settings)


def test_requests_past_the_places_wait_in_order_and_a_long_wait_is_a_503() -> None:
    async def scenario() -> tuple[list[str], DatabaseBusy]:
        container = _container(places=2, wait_s=0.2)
        order: list[str] = []
        first = admitted(_request(), container)
        second = admitted(_request(), container)
        await anext(first)
        await anext(second)
        # A third waits for a place; it gets the first one given back.
        third = admitted(_request(), container)
        waiting = asyncio.create_task(anext(third))
        await asyncio.sleep(0.05)
        order.append("waiting" if not waiting.done() else "admitted at once")
        await first.aclose()
        await asyncio.wait_for(waiting, 1)
        order.append("admitted after a place was given back")
        # All places taken and none given back in time: 503 database_busy with Retry-After.
        fourth = admitted(_request(), container)
        with pytest.raises(DatabaseBusy) as refused:
            await anext(fourth)
        await second.aclose()
        await third.aclose()
        # Every place is back: two requests get in at once again.
        again = [admitted(_request(), container) for _ in range(2)]
        for gen in again:
            await asyncio.wait_for(anext(gen), 0.1)
        for gen in again:
            await gen.aclose()
        return order, refused.value

    order, busy = asyncio.run(scenario())
    assert order == ["waiting", "admitted after a place was given back"]
    assert busy.status_code == 503 and busy.code == "database_busy"
    assert busy.details["retry_after"] >= 1 and busy.details["path"] == "/api/v1/ai/chat"


def test_a_place_is_given_back_when_the_request_fails() -> None:
    async def scenario() -> None:
        container = _container(places=1, wait_s=0.1)
        failing = admitted(_request(), container)
        await anext(failing)
        with pytest.raises(RuntimeError):
            await failing.athrow(RuntimeError("the endpoint failed"))
        after = admitted(_request(), container)
        await asyncio.wait_for(anext(after), 0.1)  # the failed request's place is free
        await after.aclose()

    asyncio.run(scenario())


def test_no_free_database_connection_is_a_503_not_a_500() -> None:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)

    @app.get("/pool")
    def pool() -> None:
        raise PoolTimeout("QueuePool limit of size 10 overflow 10 reached")

    response = TestClient(app).get("/pool")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_busy"
    assert int(response.headers["Retry-After"]) >= 1
    assert "QueuePool" not in response.text
