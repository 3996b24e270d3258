"""Structured logs: stdlib ``logging`` with one JSON object per line and the request id.

``configure_logging`` is called once at a process boundary (``companion serve``); the
request middleware sets ``request_id_var`` so every line logged while serving a request
carries its id, and writes one ``companion.access`` line per request.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from contextvars import ContextVar
from typing import Any, TextIO

from companion.governance.pii.logs import PiiLogFilter

request_id_var: ContextVar[str | None] = ContextVar("companion_request_id", default=None)

ACCESS_LOGGER = "companion.access"

# Attributes every LogRecord has; anything else on a record came from ``extra=``
# (uvicorn's ``color_message`` is the message again with terminal colours).
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "taskName", "color_message"}
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (``None`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extras, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = _jsonable(value)
        if record.exc_info:
            entry["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            # exc_text: the traceback as PiiLogFilter left it (personal data redacted).
            entry["traceback"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """A readable line for a terminal, with the request id and the extras."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}
        shown = " ".join(f"{k}={v}" for k, v in extras.items() if v is not None)
        return f"{line} {shown}" if shown else line


_HANDLER_NAME = "companion"


def configure_logging(
    level: str = "INFO",
    *,
    json_lines: bool = True,
    stream: TextIO | None = None,
    redact_pii: bool = True,
) -> logging.Handler:
    """Route every logger to one handler on ``stream`` (stderr); safe to call again.

    With ``redact_pii`` every line has its personal data (e-mails, phones, IDs, cards,
    IBANs, IP addresses) replaced by placeholders, chat text quoted in a log included.
    """
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(RequestIdFilter())
    if redact_pii:
        handler.addFilter(PiiLogFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's own loggers go through the same handler instead of their own format...
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # ...except its access lines: the app writes a richer one per request.
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
    # The readiness probe checks the schema revision; Alembic would log that every time.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    return handler


def log_request(
    *,
    method: str,
    path: str,
    status: int,
    duration_ms: float,
    request_id: str,
    user: str | None,
    company: str | None,
) -> None:
    """The one access line per request."""
    logging.getLogger(ACCESS_LOGGER).info(
        "%s %s %s",
        method,
        path,
        status,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(duration_ms, 2),
            "request_id": request_id,
            "user": user,
            "company": company,
        },
    )
