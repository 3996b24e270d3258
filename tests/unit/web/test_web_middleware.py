"""The body limit and request-id middleware, driven with raw ASGI messages (no server)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from companion.web.middleware import (
    BodySizeLimitMiddleware,
    JsonDepthLimitMiddleware,
    RequestContextMiddleware,
    json_depth_exceeds,
)

LIMIT = 1024


def _scope(headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": "/x",
        "headers": headers or [],
        "query_string": b"",
    }


async def _reading_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body, then answers 200 with its length."""
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = json.dumps({"size": size}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def _run(app: Any, scope: Scope, chunks: list[bytes]) -> tuple[int, dict[str, str], Any]:
    queue = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, json.loads(body)


def test_a_body_within_the_limit_passes_untouched() -> None:
    app = BodySizeLimitMiddleware(_reading_app, max_body_bytes=LIMIT)
    status, _, body = _run(app, _scope(), [b"a" * 500, b"b" * 524])
    assert (status, body) == (200, {"size": LIMIT})


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    app = BodySizeLimitMiddleware(_reading_app, max_body_bytes=LIMIT)
    status, headers, body = _run(app, _scope([(b"content-length", b"999999")]), [b"x"])
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert body["error"]["code"] == "payload_too_large"
    assert body["error"]["details"] == {"max_body_bytes": LIMIT}


def test_a_streamed_body_is_counted_chunk_by_chunk() -> None:
    app = BodySizeLimitMiddleware(_reading_app, max_body_bytes=LIMIT)
    status, _, body = _run(app, _scope(), [b"x" * 400] * 5)
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"


def test_a_lying_content_length_is_still_counted() -> None:
    app = BodySizeLimitMiddleware(_reading_app, max_body_bytes=LIMIT)
    status, _, _ = _run(app, _scope([(b"content-length", b"10")]), [b"x" * 2000])
    assert status == 413


@pytest.mark.parametrize("value", [b"12abc", b"", b"-1", "\u0661\u0662".encode()])
def test_a_content_length_that_is_not_a_number_is_400(value: bytes) -> None:
    app = BodySizeLimitMiddleware(_reading_app, max_body_bytes=LIMIT)
    status, _, body = _run(app, _scope([(b"content-length", value)]), [b""])
    assert status == 400
    assert body["error"]["details"]["reason"] == "bad_content_length"


def test_an_absurd_content_length_is_413_not_a_crash() -> None:
    app = BodySizeLimitMiddleware(_reading_app, max_body_bytes=LIMIT)
    status, _, _ = _run(app, _scope([(b"content-length", b"9" * 5000)]), [b""])
    assert status == 413


def test_request_ids_are_added_to_every_response() -> None:
    app = RequestContextMiddleware(_reading_app)
    _, headers, _ = _run(app, _scope([(b"x-request-id", b"abc-1")]), [b""])
    assert headers["x-request-id"] == "abc-1"
    _, headers, _ = _run(app, _scope([(b"x-request-id", b"bad id\x01")]), [b""])
    assert len(headers["x-request-id"]) == 32


def test_an_escaping_exception_becomes_a_bare_500() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("details that must not leak")

    status, headers, body = _run(RequestContextMiddleware(broken), _scope(), [b""])
    assert status == 500
    assert body["error"]["code"] == "internal_error"
    assert "must not leak" not in json.dumps(body)
    assert body["error"]["details"]["request_id"] == headers["x-request-id"]


def test_other_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    for middleware in (RequestContextMiddleware(app), BodySizeLimitMiddleware(app, LIMIT)):
        asyncio.run(middleware({"type": "lifespan"}, _never, _never))
    assert seen == ["lifespan", "lifespan"]


async def _never(*args: Any) -> Any:
    raise AssertionError("not called")


JSON = [(b"content-type", b"application/json; charset=utf-8")]


@pytest.mark.parametrize(
    ("body", "too_deep"),
    [
        (b"[" * 64 + b"]" * 64, False),
        (b"[" * 65 + b"]" * 65, True),
        (b"[" * 100_000, True),  # unclosed: still refused by depth, not left to the parser
        (b'{"a": "' + b"[" * 500 + b'"}', False),  # brackets inside a string do not nest
        (b'{"a": "\\"' + b"[" * 500 + b'"}', False),  # nor after an escaped quote
        (b'[{"a": [1, 2]}, {"b": {"c": []}}]' * 200, False),  # many brackets, shallow
    ],
)
def test_json_depth_is_counted_without_parsing(body: bytes, too_deep: bool) -> None:
    assert json_depth_exceeds(body) is too_deep


def test_deeply_nested_json_is_refused_and_shallow_json_replayed_whole() -> None:
    app = JsonDepthLimitMiddleware(_reading_app)
    status, _, body = _run(app, _scope(JSON), [b"[" * 40, b"[" * 40, b"]" * 80])
    assert status == 400
    assert body["error"]["code"] == "malformed_json"
    assert body["error"]["details"] == {"max_depth": 64}
    status, _, body = _run(app, _scope(JSON), [b'{"a": ', b"[1, 2]}"])
    assert (status, body) == (200, {"size": 13})
    # Not JSON: streamed through untouched, however it nests.
    status, _, body = _run(app, _scope([(b"content-type", b"text/plain")]), [b"[" * 100])
    assert (status, body) == (200, {"size": 100})
