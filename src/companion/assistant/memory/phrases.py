"""Reading a request to remember something: ``/remember X``, "remember that X", "remind me to X".

Checked before the classifier's reading is used: "remind me to call Khulna Emporium
tomorrow" names a customer and a verb of doing, and was read as a sales order.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_LEAD = (
    r"^\s*(?:please\s+|pls\s+|can you\s+|could you\s+)?"
    r"(?P<verb>/remember|/remind|/note|remember|remind\s+me|note(?:\s+down)?|"
    r"don'?t\s+forget|do\s+not\s+forget|keep\s+in\s+mind|make\s+a\s+note)\b"
)
_REQUEST = re.compile(_LEAD, re.IGNORECASE)
# What follows the verb and says nothing: "remember that ...", "remind me to ...".
_FILLER = re.compile(
    r"^\s*(?:[:,-]\s*)?(?:that\s+|this\s*:\s*|to\s+|about\s+|of\s+)?", re.IGNORECASE
)
# A question about memory rather than something to keep ("what do you remember?").
_QUESTION = re.compile(
    r"^\s*(?:what|which|do|did|can|could)\b.*\b(?:remember|reminders?|memories)\b.*$",
    re.IGNORECASE,
)
_PREFERENCE = re.compile(
    r"\b(?:prefers?|preferred|likes?|usual(?:ly)?|always|favou?rite|default|rather)\b",
    re.IGNORECASE,
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DUE = re.compile(
    r"\s*\b(?P<when>today|tonight|tomorrow|day after tomorrow|next week|"
    r"in (?P<n>\d{1,3}) days?|(?:on |next )?(?P<day>"
    + "|".join(_WEEKDAYS)
    + r")|on (?P<iso>\d{4}-\d{2}-\d{2}))\b\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class MemoryRequest:
    """What to remember, as what kind, and when a reminder is due."""

    text: str
    kind: str
    due_on: dt.date | None = None


def is_memory_request(text: str) -> bool:
    """Whether the message asks to keep something ("remember ...", "remind me ...")."""
    return bool(_REQUEST.match(text)) and not _QUESTION.match(text)


def asks_what_is_remembered(text: str) -> bool:
    """ "What do you remember?", "show my reminders"."""
    return bool(_QUESTION.match(text)) or bool(
        re.match(r"^\s*(?:show|list)\s+(?:my\s+)?(?:reminders|memories)\b", text, re.IGNORECASE)
    )


def parse(text: str, today: dt.date) -> MemoryRequest | None:
    """The memory a request asks for; None when it says nothing to keep."""
    match = _REQUEST.match(text)
    if match is None:
        return None
    verb = match.group("verb").lower()
    body = _FILLER.sub("", text[match.end() :], count=1).strip().rstrip(".!").strip()
    if not body:
        return None
    if "remind" in verb:
        due, body = _due_date(body, today)
        body = _FILLER.sub("", body, count=1).strip()
        body = body[0].upper() + body[1:] if body else body
        return MemoryRequest(text=body, kind="reminder", due_on=due) if body else None
    kind = "preference" if _PREFERENCE.search(body) else "fact"
    return MemoryRequest(text=body, kind=kind)


def _due_date(body: str, today: dt.date) -> tuple[dt.date | None, str]:
    """The due date a reminder names, and the reminder without it."""
    found = _DUE.search(body)
    if found is None:
        return None, body
    when = found.group("when").lower()
    rest = (body[: found.start()] + " " + body[found.end() :]).strip()
    rest = re.sub(r"\s+", " ", rest)
    if when in ("today", "tonight"):
        return today, rest
    if when == "tomorrow":
        return today + dt.timedelta(days=1), rest
    if when == "day after tomorrow":
        return today + dt.timedelta(days=2), rest
    if when == "next week":
        return today + dt.timedelta(days=7 - today.weekday()), rest
    if found.group("n"):
        return today + dt.timedelta(days=int(found.group("n"))), rest
    if found.group("iso"):
        try:
            return dt.date.fromisoformat(found.group("iso")), rest
        except ValueError:
            return None, body
    day = _WEEKDAYS.index(found.group("day").lower())
    ahead = (day - today.weekday()) % 7 or 7
    return today + dt.timedelta(days=ahead), rest
