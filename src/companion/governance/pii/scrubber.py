"""The redactor as the LLM port's prompt scrubber (``llm.privacy.PromptScrubber``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from companion.governance.pii.redactor import Redactor, default_redactor
from companion.governance.pii.spans import Redaction


def restorer(redactions: Sequence[Redaction]) -> Callable[[str], str]:
    """A function putting the values of all ``redactions`` back in place of their placeholders."""
    spans = tuple(span for redaction in redactions for span in redaction.spans)
    return Redaction(text="", spans=spans).restore


class PiiScrubber:
    """Scrubs a prompt's messages with one numbering, so a reply's placeholders map back."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        self._redactor = redactor or default_redactor()

    def scrub(self, texts: Sequence[str]) -> tuple[list[str], Callable[[str], str]]:
        """The texts with personal data replaced, and the function that restores a reply."""
        redactions = self._redactor.redact_many(texts)
        return [r.text for r in redactions], restorer(redactions)
