"""What the redactor returns: the spans it found and the text with typed placeholders."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A placeholder as the redactor writes it; models sometimes change its case, so restoring
# reads it without regard to case.
_PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9]*)_(\d+)>", re.IGNORECASE)


@dataclass(frozen=True)
class PiiSpan:
    """One piece of personal data: its type, where it was in the original text, its stand-in."""

    type: str
    start: int
    end: int
    placeholder: str
    value: str


@dataclass(frozen=True)
class Redaction:
    """A text with its personal data replaced by ``<TYPE_N>`` placeholders, and the spans."""

    text: str
    spans: tuple[PiiSpan, ...] = field(default_factory=tuple)

    @property
    def mapping(self) -> dict[str, str]:
        """Placeholder -> the value it stands for (the first one seen, if several)."""
        out: dict[str, str] = {}
        for span in self.spans:
            out.setdefault(span.placeholder, span.value)
        return out

    @property
    def types(self) -> frozenset[str]:
        """The types of personal data found."""
        return frozenset(span.type for span in self.spans)

    def restore(self, text: str) -> str:
        """Puts the original values back in place of this redaction's placeholders in ``text``.

        Only where policy allows: a reply restored this way holds the personal data again.
        A placeholder this redaction did not make is left as it is.
        """
        mapping = {key.upper(): value for key, value in self.mapping.items()}
        if not mapping:
            return text

        def put_back(match: re.Match[str]) -> str:
            return mapping.get(match.group(0).upper(), match.group(0))

        return _PLACEHOLDER.sub(put_back, text)
