"""Per-path body limits of the body-limit middleware, driven with raw ASGI messages."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from companion.config import RagSettings, Settings
from companion.knowledge.endpoints import MULTIPART_ALLOWANCE, UPLOAD_PATH, body_limits
from companion.web.middleware import BodySizeLimitMiddleware

LIMIT = 1024
UPLOAD_LIMIT = 4096


async def _reading_app(scope: Scope, receive: Receive, send: Send) -> None:
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": json.dumps({"size": size}).encode()})


def _run(path: str, chunks: list[bytes], *, declared: int | None = None) -> tuple[int, Any]:
    app = BodySizeLimitMiddleware(
        _reading_app, max_body_bytes=LIMIT, path_limits={"/upload": UPLOAD_LIMIT}
    )
    headers = [] if declared is None else [(b"content-length", str(declared).encode())]
    scope = {"type": "http", "method": "POST", "path": path, "headers": headers}
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
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body)


def test_the_upload_path_takes_bodies_over_the_app_limit() -> None:
    assert _run("/upload", [b"x" * 3000], declared=3000) == (200, {"size": 3000})
    assert _run("/upload/", [b"x" * 1500] * 2) == (200, {"size": 3000})  # chunked, same limit


def test_other_paths_keep_the_app_limit() -> None:
    status, body = _run("/other", [b"x" * 3000], declared=3000)
    assert status == 413 and body["error"]["details"] == {"max_body_bytes": LIMIT}
    status, body = _run("/upload/extra", [b"x" * 600] * 2)  # chunked: counted while streaming
    assert status == 413 and body["error"]["details"] == {"max_body_bytes": LIMIT}


def test_the_upload_path_has_a_limit_too() -> None:
    status, body = _run("/upload", [b"x"], declared=UPLOAD_LIMIT + 1)
    assert status == 413 and body["error"]["details"] == {"max_body_bytes": UPLOAD_LIMIT}
    status, body = _run("/upload", [b"x" * 2000] * 3)  # chunked: 6000 bytes
    assert status == 413 and body["error"]["details"] == {"max_body_bytes": UPLOAD_LIMIT}


def test_the_knowledge_route_gets_the_configured_upload_limit() -> None:
    settings = Settings(demo_mode=True, rag=RagSettings(max_upload_bytes=5_000_000))
    assert body_limits(settings) == {UPLOAD_PATH: 5_000_000 + MULTIPART_ALLOWANCE}
    # Never below the app-wide limit: JSON entries on that path were allowed 1 MiB before.
    small = Settings(demo_mode=True, rag=RagSettings(max_upload_bytes=2048))
    assert body_limits(small) == {UPLOAD_PATH: small.api.max_body_bytes}
