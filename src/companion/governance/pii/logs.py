"""A logging filter that keeps personal data out of log files (chat text, e-mails, cards)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Collection

from companion.governance.pii.redactor import Redactor, default_redactor

# Attributes every LogRecord has; any other one came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)))


class PiiLogFilter(logging.Filter):
    """Replaces personal data in a record's message, string extras and traceback text.

    Installed on a handler, it sees every record the handler writes, whichever logger
    made it. It never drops a record.
    """

    def __init__(
        self, redactor: Redactor | None = None, *, types: Collection[str] | None = None
    ) -> None:
        super().__init__()
        self._redactor = redactor or default_redactor()
        self._types = types

    def _clean(self, text: str) -> str:
        return self._redactor.redact(text, types=self._types).text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = None  # a broken format string: the handler reports it as it would
        if message is not None:
            cleaned = self._clean(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self._clean(value))
        if record.exc_info and record.exc_info[0] is not None:
            # Exception messages often quote the input; format once here, redacted.
            record.exc_text = self._clean("".join(traceback.format_exception(*record.exc_info)))
            record.exc_text = record.exc_text.rstrip("\n")
        elif record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True
