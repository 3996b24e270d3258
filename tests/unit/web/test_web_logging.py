"""Structured log lines: one JSON object each, with extras, the request id and traces."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from companion.logging import (
    JsonFormatter,
    TextFormatter,
    configure_logging,
    log_request,
    request_id_var,
)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    configure_logging("INFO", json_lines=True, stream=stream)
    yield stream
    for handler in list(root.handlers):
        if handler.get_name() == "companion":
            root.removeHandler(handler)
    root.setLevel(level)
    assert root.handlers == handlers


def test_one_json_object_per_line_with_extras_and_request_id(captured: io.StringIO) -> None:
    token = request_id_var.set("rid-7")
    try:
        logging.getLogger("companion.test").info("hello %s", "world", extra={"amount": 3})
    finally:
        request_id_var.reset(token)
    entry = json.loads(captured.getvalue().strip())
    assert entry["message"] == "hello world"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "companion.test"
    assert entry["amount"] == 3
    assert entry["request_id"] == "rid-7"
    assert entry["ts"].endswith("+00:00")


def test_tracebacks_stay_on_one_line(captured: io.StringIO) -> None:
    try:
        raise ValueError("bad thing")
    except ValueError:
        logging.getLogger("companion.test").exception("it failed")
    lines = captured.getvalue().strip().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["exc_type"] == "ValueError"
    assert "bad thing" in entry["traceback"]


def test_the_access_line_has_every_field(captured: io.StringIO) -> None:
    log_request(
        method="GET",
        path="/api/v1/me",
        status=200,
        duration_ms=1.23456,
        request_id="r1",
        user="alice",
        company="acme",
    )
    entry = json.loads(captured.getvalue())
    assert {
        k: entry[k] for k in ("method", "path", "status", "duration_ms", "user", "company")
    } == {
        "method": "GET",
        "path": "/api/v1/me",
        "status": 200,
        "duration_ms": 1.23,
        "user": "alice",
        "company": "acme",
    }
    assert entry["logger"] == "companion.access"


def test_configuring_twice_keeps_one_handler(captured: io.StringIO) -> None:
    second = configure_logging("WARNING", json_lines=False, stream=captured)
    ours = [h for h in logging.getLogger().handlers if h.get_name() == "companion"]
    assert ours == [second]
    logging.getLogger("companion.test").warning("plain", extra={"k": "v"})
    assert captured.getvalue().rstrip().endswith("plain k=v")


def test_values_that_are_not_json_are_written_as_text() -> None:
    record = logging.LogRecord("x", logging.INFO, "f", 1, "m", None, None)
    record.obj = object()
    record.items = {"a": {1, 2}}
    entry = json.loads(JsonFormatter().format(record))
    assert entry["obj"].startswith("<object object")
    assert sorted(entry["items"]["a"]) == [1, 2]
    assert "m" in TextFormatter().format(record)
