"""What the page the user asks from adds to a turn: the document it shows."""

from __future__ import annotations

import re
from typing import Any

from companion.assistant.nlu.entities.docrefs import extract_document_refs

# Words that point at the page's document rather than name one ("approve this PO").
_POINTING = re.compile(r"\b(?:this|that|it|current|here)\b", re.IGNORECASE)


def with_page_record(entities: dict[str, Any], text: str, record: str | None) -> dict[str, Any]:
    """``entities`` plus the page's document as ``document_ref`` when the text points at it.

    Only when the message names no document of its own and says "this"/"it"/...: a question
    that names another document, or none at all, is answered as written.
    """
    if not record or "document_ref" in entities or "document_refs" in entities:
        return entities
    if not _POINTING.search(text):
        return entities
    refs = extract_document_refs(record)
    if len(refs) != 1 or refs[0].value is None:
        return entities  # not a full document number: nothing certain to add
    return {**entities, "document_ref": {**refs[0].to_dict(), "source": "page"}}
