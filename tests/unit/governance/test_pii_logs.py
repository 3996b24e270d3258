"""Log lines written through configure_logging's handler carry no personal data."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from companion.governance.pii.logs import PiiLogFilter
from companion.logging import configure_logging

CHAT = "customer says: mail rahim@tangail.com or call 01711-123456 about INV-2026-0001"


def _capture(json_lines: bool, redact_pii: bool = True) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    configure_logging("INFO", json_lines=json_lines, stream=stream, redact_pii=redact_pii)
    yield stream
    for handler in list(root.handlers):
        if handler.get_name() == "companion":
            root.removeHandler(handler)
    root.setLevel(level)
    assert root.handlers == handlers


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    yield from _capture(json_lines=True)


@pytest.fixture(params=[True, False], ids=["json", "text"])
def any_log(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    yield from _capture(json_lines=request.param)


@pytest.fixture
def raw_log() -> Iterator[io.StringIO]:
    yield from _capture(json_lines=True, redact_pii=False)


def test_message_args_and_extras_are_redacted(json_log: io.StringIO) -> None:
    logging.getLogger("companion.chat").info(
        "turn: %s", CHAT, extra={"message_text": "card 4111 1111 1111 1111", "count": 3}
    )
    entry = json.loads(json_log.getvalue())
    assert entry["message"] == (
        "turn: customer says: mail <EMAIL_1> or call <PHONE_1> about INV-2026-0001"
    )
    assert entry["message_text"] == "card <CARD_1>"
    assert entry["count"] == 3


def test_tracebacks_are_redacted(any_log: io.StringIO) -> None:
    try:
        raise ValueError(f"could not parse {CHAT!r}")
    except ValueError:
        logging.getLogger("companion.chat").exception("failed on a@b.com's message")
    written = any_log.getvalue()
    assert "rahim@tangail.com" not in written and "01711-123456" not in written
    assert "a@b.com" not in written
    assert "could not parse" in written and "INV-2026-0001" in written
    assert "ValueError" in written and "<EMAIL_1>" in written


def test_a_broken_format_string_still_logs(json_log: io.StringIO) -> None:
    record = logging.LogRecord("x", logging.INFO, "f", 1, "%s and %s", ("only one",), None)
    assert PiiLogFilter().filter(record) is True
    assert record.msg == "%s and %s"


def test_server_addresses_and_plain_lines_are_left_alone(json_log: io.StringIO) -> None:
    log = logging.getLogger("companion.test")
    log.info("Uvicorn running on http://127.0.0.1:8000")
    log.info("GET /api/v1/ai/chat 200")
    messages = [json.loads(line)["message"] for line in json_log.getvalue().splitlines()]
    assert messages == ["Uvicorn running on http://127.0.0.1:8000", "GET /api/v1/ai/chat 200"]


def test_redaction_can_be_turned_off(raw_log: io.StringIO) -> None:
    logging.getLogger("companion.chat").info(CHAT)
    assert json.loads(raw_log.getvalue())["message"] == CHAT
