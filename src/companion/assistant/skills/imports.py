"""Data imports in chat: "what's wrong with the last import?", "status of import 12",
"validate my customer import" -> the import's status, counts, first row errors with their
line numbers and duplicates. Committing one is the ``commit_import`` action (a confirmation
first; ``actions.handlers.imports``).

Imports live above the assistant; they are read through the ``assistant.imports`` port,
with the REST API's rules: only the kinds the caller may import, another company's import
answers like a missing one.
"""

from __future__ import annotations

import re
from typing import Any

from companion.assistant.imports import ImportFacts, imports_port
from companion.assistant.nlu.entities.script import ascii_digits
from companion.assistant.skills.base import Answer, Turn, register
from companion.assistant.skills.data_query import denied_answer
from companion.errors import CompanionError, NotFound, PermissionDenied

INTENT = "import_status"
# "import 12", "import #12", "import no. 12", "import number 12", "#12", "ইমপোর্ট ১২".
_NUMBER = re.compile(
    r"(?:\bimports?|ইমপোর্ট)\s*(?:no\.?|nr\.?|number|num|id)?\s*[#:]?\s*(\d{1,9})\b"
    r"|#\s*(\d{1,9})\b",
    re.IGNORECASE,
)
_KINDS = (
    ("opening_balances", re.compile(r"\bopening(?:\s+balances?)?\b", re.IGNORECASE)),
    ("customers", re.compile(r"\b(?:customers?|clients?)\b", re.IGNORECASE)),
    ("suppliers", re.compile(r"\b(?:suppliers?|vendors?)\b", re.IGNORECASE)),
    ("items", re.compile(r"\b(?:items?|products?|skus?)\b", re.IGNORECASE)),
)
_ASKS_WHAT_IS_WRONG = re.compile(
    r"\b(?:wrong|problems?|issues?|errors?|fail(?:ed|s|ure)?|invalid|bad|rejected)\b",
    re.IGNORECASE,
)
# Statuses of an import (``jobs.imports.models``: the API's public values).
_WORKING = ("uploaded", "validating")


def import_number(text: str) -> int | None:
    """The import's number in ``text`` ("import 12", "#12"), if any."""
    match = _NUMBER.search(ascii_digits(text))
    if match is None:
        return None
    return int(match.group(1) or match.group(2))


def import_kind(text: str) -> str | None:
    """The kind of import ``text`` names ("my customer import" -> customers), if any."""
    for kind, pattern in _KINDS:
        if pattern.search(text):
            return kind
    return None


def unavailable() -> str:
    return (
        "I can't reach data imports from here; see them under Imports in the ERP "
        "(or GET /api/v1/ai/imports)."
    )


@register(INTENT)
class ImportStatus:
    name = "imports"

    def handle(self, turn: Turn) -> Answer:
        """The import asked about (by number, else the newest of the kind named, else the
        newest of any kind the caller may import), in words and as a table of row errors."""
        port = imports_port()
        if port is None:
            return Answer(text=unavailable(), skill=self.name)
        number, kind = import_number(turn.text), import_kind(turn.text)
        try:
            facts = (
                port.get(turn.session, turn.ctx, number)
                if number is not None
                else port.latest(turn.session, turn.ctx, kind)
            )
        except PermissionDenied as exc:
            return denied_answer(exc)
        except NotFound:
            return Answer(
                text=f"I can't find import {number}. Say “what's wrong with the last import?” "
                "for your newest one.",
                skill=self.name,
            )
        except CompanionError as exc:
            return Answer(text=exc.message, skill=self.name)
        if facts is None:
            what = f"{kind.replace('_', ' ')} import" if kind else "import"
            return Answer(
                text=f"There is no {what} yet. Upload a CSV or XLSX file under Imports (or "
                "POST /api/v1/ai/imports); I'll tell you what its validation finds.",
                skill=self.name,
            )
        text = describe(facts)
        if _ASKS_WHAT_IS_WRONG.search(turn.text) and facts.status in ("validated", "committed"):
            text = f"Nothing is wrong with it. {text}"
        choices = [f"Commit import {facts.id}"] if facts.status == "validated" else None
        return Answer(
            text=text,
            skill=self.name,
            data=table(facts),
            choices=choices,
            remember={"import_id": facts.id},
        )


def describe(f: ImportFacts) -> str:
    """The import's state in a sentence or two, with the first row errors."""
    what = f.what[0].upper() + f.what[1:]
    if f.status in _WORKING:
        return f"{what} is still being validated{_progress(f)}. Ask me again in a moment."
    if f.status == "validated":
        return (
            f"{what} is validated: {_rows(f.total_rows)}, no errors or duplicates. Nothing is "
            f"written yet; say “commit import {f.id}” to write them (I'll ask you to confirm "
            "first)."
        )
    if f.status == "invalid":
        found = f"{f.error_count} error{'s' if f.error_count != 1 else ''} in {_rows(f.total_rows)}"
        if f.duplicate_count:
            found += f" ({f.duplicate_count} of them duplicates)"
        lines = "; ".join(_error(e) for e in f.errors[:5])
        more = f" …and {f.error_count - 5} more." if f.error_count > 5 else ""
        return (
            f"{what} has {found}, so it can't be committed. "
            + (f"First errors: {lines}.{more} " if lines else "")
            + "Fix those rows and upload the file again (the full list: "
            f"GET /api/v1/ai/imports/{f.id}/errors.csv)."
        )
    if f.status == "committing":
        return f"{what} is being committed{_progress(f)}: all its rows or none."
    if f.status == "committed":
        when = f" on {f.committed_at:%d %b %Y at %H:%M} UTC" if f.committed_at else ""
        return f"{what} was committed{when}: {_rows(f.valid_rows)} written."
    if f.status == "failed":
        why = f": {f.last_message.rstrip('.')}" if f.last_message else ""
        return f"{what} could not be committed{why}. Nothing was written."
    if f.status == "discarded":
        return f"{what} was discarded; nothing was written."
    return f"{what} is {f.status}."


def table(f: ImportFacts) -> dict[str, Any]:
    """The import's counts and first row errors (line, column, message, value)."""
    return {
        "columns": ["line", "column", "message", "value"],
        "rows": [
            [e.get("line"), e.get("column"), e.get("message"), e.get("value")] for e in f.errors
        ],
        "totals": {
            "import_id": f.id,
            "status": f.status,
            "rows": f.total_rows,
            "valid_rows": f.valid_rows,
            "errors": f.error_count,
            "duplicates": f.duplicate_count,
        },
    }


def _rows(n: int) -> str:
    return f"{n:,} row{'s' if n != 1 else ''}"


def _progress(f: ImportFacts) -> str:
    if f.progress is None or f.progress <= 0:
        return ""
    return f" ({f.progress:.0%} done" + (f": {f.job_message})" if f.job_message else ")")


def _error(e: dict[str, Any]) -> str:
    where = f"line {e.get('line')}" + (f", {e['column']}" if e.get("column") else "")
    value = f" (“{e['value']}”)" if e.get("value") not in (None, "") else ""
    return f"{where}: {e.get('message')}{value}"
